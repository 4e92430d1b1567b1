package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"xiaoshen/kb"
)

// BackupInfo describes a backup file; it is stored inside the file, in the
// backup_info table, so the copy carries its own description.
type BackupInfo struct {
	CreatedAt time.Time `json:"created_at"`
	// SchemaVersion is the last migration applied to the copied database.
	SchemaVersion string   `json:"schema_version"`
	Migrations    []string `json:"migrations"`
	Entries       int      `json:"entries"`
	Source        string   `json:"source"`
}

// SchemaVersion returns the last migration this binary knows.
func SchemaVersion() string {
	names := knownMigrations()
	return names[len(names)-1]
}

func knownMigrations() []string {
	paths, _ := fs.Glob(migrations, "migrations/*.sql")
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimPrefix(p, "migrations/")
	}
	slices.Sort(names)
	return names
}

// openRaw opens a database file without running migrations.
func openRaw(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_foreign_keys=on")
	if err != nil {
		return nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Backup writes a consistent copy of the database at dbPath to out, with
// VACUUM INTO, while a server may be reading and writing it. The copy is
// written beside out and renamed into place only when complete.
func Backup(ctx context.Context, dbPath, out string, now time.Time) (*BackupInfo, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("store: backup: %w", err)
	}
	src, err := openRaw(dbPath)
	if err != nil {
		return nil, fmt.Errorf("store: backup: open %s: %w", dbPath, err)
	}
	defer src.Close()
	tmp := out + ".partial"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: backup: %w", err)
	}
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: backup: vacuum into %s: %w", tmp, err)
	}
	info, err := describeBackup(ctx, tmp, dbPath, now)
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: backup: %w", err)
	}
	syncDir(filepath.Dir(out))
	return info, nil
}

// describeBackup records the backup's metadata inside the copy.
func describeBackup(ctx context.Context, path, source string, now time.Time) (*BackupInfo, error) {
	db, err := openRaw(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	info := &BackupInfo{CreatedAt: now.In(kb.Shanghai), Source: source}
	if info.Migrations, err = appliedMigrations(ctx, db); err != nil {
		return nil, err
	}
	if len(info.Migrations) > 0 {
		info.SchemaVersion = info.Migrations[len(info.Migrations)-1]
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM entries WHERE deleted_at IS NULL`).Scan(&info.Entries); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE backup_info (created_at TEXT NOT NULL, info TEXT NOT NULL)`); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO backup_info (created_at, info) VALUES (?, ?)`, formatTime(now), string(raw)); err != nil {
		return nil, err
	}
	return info, nil
}

func appliedMigrations(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// ReadBackupInfo checks a backup file (SQLite integrity, the metadata, a
// schema this binary can run) without changing it, and returns its
// metadata.
func ReadBackupInfo(ctx context.Context, path string) (*BackupInfo, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, kb.Errorf(kb.ENOTFOUND, "备份文件 %s 不存在", path)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("store: read backup %s: %w", path, err)
	}
	defer db.Close()
	return checkBackup(ctx, db, path)
}

func checkBackup(ctx context.Context, db *sql.DB, path string) (*BackupInfo, error) {
	var raw string
	if err := db.QueryRowContext(ctx, `SELECT info FROM backup_info`).Scan(&raw); err != nil {
		return nil, kb.Errorf(kb.EINVALID, "%s 不是 xiaoshen 备份文件（%v）", path, err)
	}
	var info BackupInfo
	if err := json.Unmarshal([]byte(raw), &info); err != nil {
		return nil, kb.Errorf(kb.EINVALID, "%s 的备份信息无法读取（%v）", path, err)
	}
	info.CreatedAt = info.CreatedAt.In(kb.Shanghai)
	s := &Store{db: db}
	problems, err := s.IntegrityCheck(ctx)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, kb.Errorf(kb.EINVALID, "备份文件 %s 已损坏：%s", path, problems[0])
	}
	known := knownMigrations()
	for _, m := range info.Migrations {
		if !slices.Contains(known, m) {
			return nil, kb.Errorf(kb.EINVALID, "备份来自更新的版本（数据库结构 %s），请用相同或更新版本的 xiaoshen 恢复", m)
		}
	}
	return &info, nil
}

// Restore puts the backup at from in place of the database at dbPath. The
// caller must make sure no process uses dbPath. The backup is copied and
// checked beside dbPath first; the old database is checkpointed, kept as
// dbPath + ".before-restore", and replaced with one rename, so a crash
// leaves either the old database or the restored one.
func Restore(ctx context.Context, from, dbPath string) (*BackupInfo, error) {
	if _, err := os.Stat(from); err != nil {
		return nil, kb.Errorf(kb.ENOTFOUND, "备份文件 %s 不存在", from)
	}
	tmp := dbPath + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	keepOwner(dbPath, tmp)
	info, err := prepareRestored(ctx, tmp, from)
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	if err := retireDatabase(dbPath); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	syncDir(filepath.Dir(dbPath))
	// The old database's WAL was checkpointed and is empty; its files must
	// not be taken for the new database's.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("store: restore: %w", err)
		}
	}
	return info, nil
}

// prepareRestored checks the copied backup and drops its metadata table.
func prepareRestored(ctx context.Context, path, from string) (*BackupInfo, error) {
	db, err := openRaw(path)
	if err != nil {
		return nil, kb.Errorf(kb.EINVALID, "%s 不是 xiaoshen 备份文件（%v）", from, err)
	}
	defer db.Close()
	info, err := checkBackup(ctx, db, from)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE backup_info`); err != nil {
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	if err := syncFile(path); err != nil {
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	return info, nil
}

// retireDatabase checkpoints the database at path, so that its WAL holds
// nothing, and keeps a hard link to it as path + ".before-restore".
func retireDatabase(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := openRaw(path)
	if err != nil {
		return err
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		db.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return err
	}
	kept := path + ".before-restore"
	if err := os.Remove(kept); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Link(path, kept)
}

// keepOwner gives dst the owner and group of src when src exists, so that a
// restore run as root leaves the database writable by the service's user.
// It does nothing where the process may not change owners.
func keepOwner(src, dst string) {
	fi, err := os.Stat(src)
	if err != nil {
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		os.Chown(dst, int(st.Uid), int(st.Gid))
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable; failures are ignored, as some
// file systems do not support syncing a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
