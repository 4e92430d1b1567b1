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
	return openFile(path, "_busy_timeout=10000&_foreign_keys=on")
}

// openReadOnly opens a database file to read it without changing it.
// Closing a read-write connection, the last one, checkpoints the WAL into
// the file; mode=ro never writes the database or its WAL, and unlike
// immutable=1 it still reads what the WAL holds.
func openReadOnly(path string) (*sql.DB, error) {
	return openFile(path, "mode=ro&_busy_timeout=10000")
}

// openFile opens the database file at path with the DSN parameters params
// and checks that it answers.
func openFile(path, params string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?"+params)
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

// Restored says what a restore did.
type Restored struct {
	Info *BackupInfo
	// Carried holds the revocations the backup did not have yet.
	Carried *Revocations
	// Lost holds the accounts created after the backup, gone now.
	Lost *Lost
	// KeptAs is the path the replaced database is kept at; "" when there
	// was none.
	KeptAs string
}

// Restore puts the backup at from in place of the database at dbPath. The
// caller must make sure no process uses dbPath. The backup is copied and
// checked beside dbPath first; the old database is checkpointed, kept
// under a name of its own with the time now (see keptName), with no WAL
// left beside dbPath, and replaced with one rename, so a crash leaves
// either the old database or the restored one.
//
// keep holds the revocations read from the database being replaced (see
// ReadRevocations); they are applied to the copy before the rename, so a
// token revoked, a user disabled or a password reset after the backup
// stays so: every user in both keeps the password of the database being
// replaced. Restore returns the ones the backup did not have yet. Every
// login session of the copy is ended: a session logged out or ended by a
// password change after the backup would otherwise be valid again.
func Restore(ctx context.Context, from, dbPath string, keep *Revocations, now time.Time) (*Restored, error) {
	if _, err := os.Stat(from); err != nil {
		return nil, kb.Errorf(kb.ENOTFOUND, "备份文件 %s 不存在", from)
	}
	tmp := dbPath + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	keepOwner(dbPath, tmp)
	info, carried, lost, err := prepareRestored(ctx, tmp, from, keep)
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	kept, err := retireDatabase(dbPath, now)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		os.Remove(tmp)
		if kept != "" {
			// The old database stays; give it back the WAL retireDatabase
			// moved.
			os.Link(kept+"-wal", dbPath+"-wal")
		}
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	syncDir(filepath.Dir(dbPath))
	if afterSwapHook != nil {
		afterSwapHook()
	}
	return &Restored{Info: info, Carried: carried, Lost: lost, KeptAs: kept}, nil
}

// afterSwapHook, when set by a test, is called right after the swap.
var afterSwapHook func()

// prepareRestored checks the copied backup, applies the revocations to
// keep, ends its sessions and drops its metadata table.
func prepareRestored(ctx context.Context, path, from string, keep *Revocations) (*BackupInfo, *Revocations, *Lost, error) {
	db, err := openRaw(path)
	if err != nil {
		return nil, nil, nil, kb.Errorf(kb.EINVALID, "%s 不是 xiaoshen 备份文件（%v）", from, err)
	}
	defer db.Close()
	info, err := checkBackup(ctx, db, from)
	if err != nil {
		return nil, nil, nil, err
	}
	carried, lost, err := applyRevocations(ctx, db, keep)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("store: restore: keep revocations: %w", err)
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE backup_info`); err != nil {
		return nil, nil, nil, fmt.Errorf("store: restore: %w", err)
	}
	if err := db.Close(); err != nil {
		return nil, nil, nil, fmt.Errorf("store: restore: %w", err)
	}
	if err := syncFile(path); err != nil {
		return nil, nil, nil, fmt.Errorf("store: restore: %w", err)
	}
	return info, carried, lost, nil
}

// Revocations are the access decisions of a database that a restore must
// not undo: the tokens revoked, the review-page users disabled and the
// passwords reset, which revokes the old one.
type Revocations struct {
	Tokens    []RevokedToken
	Users     []DisabledUser
	Passwords []UserPassword
	// LiveTokens are the tokens not revoked, to tell which of them a
	// restore loses (they were created after the backup).
	LiveTokens []RevokedToken
}

// Lost are the accounts of the replaced database that the restored one
// lacks: created after the backup, they are gone, and a chatbot or
// reviewer using one is refused until it is created again.
type Lost struct {
	Users  []string
	Tokens []RevokedToken // id and name; RevokedAt is zero
}

// Empty reports whether nothing was lost.
func (l *Lost) Empty() bool { return l == nil || len(l.Users)+len(l.Tokens) == 0 }

// Empty reports whether there is nothing to carry.
func (r *Revocations) Empty() bool {
	return r == nil || len(r.Tokens)+len(r.Users)+len(r.Passwords) == 0
}

// RevokedToken is a revoked token; it is matched by its hash, so that a
// backup whose ids mean other tokens is not touched by mistake.
type RevokedToken struct {
	ID        int64
	Name      string
	RevokedAt time.Time
	hash      string
}

// DisabledUser is a disabled review-page account, matched by its name.
type DisabledUser struct {
	Name       string
	DisabledAt time.Time
}

// UserPassword is a review-page user's password hash, matched by the
// user's name. Read from the database being replaced, it is the newest
// decision: a password reset after the backup, as after a leak, stays
// reset.
type UserPassword struct {
	Name string
	hash string
}

// ReadRevocations reads the revocations and passwords of the database at
// dbPath without running migrations or changing its files, so that a
// restore cancelled afterwards leaves them as they were. It fails when the
// database is missing or cannot be read, as after damage; the caller must
// then warn that revocations made after the backup are lost.
func ReadRevocations(ctx context.Context, dbPath string) (*Revocations, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("store: read revocations: %w", err)
	}
	db, err := openReadOnly(dbPath)
	if err != nil {
		return nil, fmt.Errorf("store: read revocations: %w", err)
	}
	defer db.Close()
	r := &Revocations{}
	err = scanTable(ctx, db, "tokens", `SELECT id, name, revoked_at, token_hash FROM tokens WHERE revoked_at IS NOT NULL ORDER BY id`, func(rows *sql.Rows) error {
		var t RevokedToken
		var at string
		if err := rows.Scan(&t.ID, &t.Name, &at, &t.hash); err != nil {
			return err
		}
		t.RevokedAt = parseTime(at)
		r.Tokens = append(r.Tokens, t)
		return nil
	})
	if err == nil {
		err = scanTable(ctx, db, "users", `SELECT name, disabled_at FROM users WHERE disabled_at IS NOT NULL ORDER BY name`, func(rows *sql.Rows) error {
			var u DisabledUser
			var at string
			if err := rows.Scan(&u.Name, &at); err != nil {
				return err
			}
			u.DisabledAt = parseTime(at)
			r.Users = append(r.Users, u)
			return nil
		})
	}
	if err == nil {
		err = scanTable(ctx, db, "tokens", `SELECT id, name, token_hash FROM tokens WHERE revoked_at IS NULL ORDER BY id`, func(rows *sql.Rows) error {
			var t RevokedToken
			if err := rows.Scan(&t.ID, &t.Name, &t.hash); err != nil {
				return err
			}
			r.LiveTokens = append(r.LiveTokens, t)
			return nil
		})
	}
	if err == nil {
		err = scanTable(ctx, db, "users", `SELECT name, password_hash FROM users ORDER BY name`, func(rows *sql.Rows) error {
			var p UserPassword
			if err := rows.Scan(&p.Name, &p.hash); err != nil {
				return err
			}
			r.Passwords = append(r.Passwords, p)
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: read revocations: %w", err)
	}
	return r, nil
}

// scanTable runs query on db and calls scan for each row; it does nothing
// when db has no table called table, as a database from before the
// accounts migration.
func scanTable(ctx context.Context, db *sql.DB, table, query string, scan func(*sql.Rows) error) error {
	if ok, err := hasTable(ctx, db, table); err != nil || !ok {
		return err
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// applyRevocations revokes, disables and sets the passwords in db that
// keep holds, ends every session, and returns the revocations db did not
// have yet and the accounts of keep it lacks.
func applyRevocations(ctx context.Context, db *sql.DB, keep *Revocations) (*Revocations, *Lost, error) {
	carried, lost := &Revocations{}, &Lost{}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	// A backup from before the accounts migration has no accounts to revive.
	if ok, err := hasTable(ctx, tx, "tokens"); err != nil || !ok {
		return carried, lost, err
	}
	if keep != nil {
		exists := func(query, arg string) (bool, error) {
			var n int
			err := tx.QueryRowContext(ctx, query, arg).Scan(&n)
			return n > 0, err
		}
		for _, t := range keep.LiveTokens {
			if ok, err := exists(`SELECT COUNT(*) FROM tokens WHERE token_hash = ?`, t.hash); err != nil {
				return nil, nil, err
			} else if !ok {
				lost.Tokens = append(lost.Tokens, t)
			}
		}
		for _, p := range keep.Passwords { // every user, by name
			if ok, err := exists(`SELECT COUNT(*) FROM users WHERE name = ?`, p.Name); err != nil {
				return nil, nil, err
			} else if !ok {
				lost.Users = append(lost.Users, p.Name)
			}
		}
	}
	if keep != nil {
		// changed runs an update and tells whether it changed a row: what
		// the backup lacked and is now carried over.
		changed := func(query string, args ...any) (bool, error) {
			res, err := tx.ExecContext(ctx, query, args...)
			if err != nil {
				return false, err
			}
			n, _ := res.RowsAffected()
			return n > 0, nil
		}
		for _, t := range keep.Tokens {
			if ok, err := changed(`UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL`, formatTime(t.RevokedAt), t.hash); err != nil {
				return nil, nil, err
			} else if ok {
				carried.Tokens = append(carried.Tokens, t)
			}
		}
		for _, u := range keep.Users {
			if ok, err := changed(`UPDATE users SET disabled_at = ? WHERE name = ? AND disabled_at IS NULL`, formatTime(u.DisabledAt), u.Name); err != nil {
				return nil, nil, err
			} else if ok {
				carried.Users = append(carried.Users, u)
			}
		}
		for _, p := range keep.Passwords {
			if ok, err := changed(`UPDATE users SET password_hash = ? WHERE name = ? AND password_hash <> ?`, p.hash, p.Name, p.hash); err != nil {
				return nil, nil, err
			} else if ok {
				carried.Passwords = append(carried.Passwords, p)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions`); err != nil {
		return nil, nil, err
	}
	return carried, lost, tx.Commit()
}

// hasTable reports whether the database has a table called name.
func hasTable(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n)
	return n > 0, err
}

// retireDatabase keeps the database at path under a name of its own (see
// keptName), a hard link, for the swap to rename the restored copy over
// path, and returns that name; "" when there is no database. It
// checkpoints the database first, so that the kept file holds everything;
// a database too damaged to checkpoint is kept as found, its WAL moved to
// the kept name + "-wal": replacing a damaged database is what a restore
// is often for. Either way no -wal or -shm file is left beside path, and
// the directory is synced, before the swap: SQLite does not check that a
// WAL belongs to its database, and after a crash would read the old one's
// into the restored copy.
func retireDatabase(path string, now time.Time) (string, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	kept, err := keptName(path, now)
	if err != nil {
		return "", err
	}
	if checkpoint(path) != nil {
		if err := os.Link(path+"-wal", kept+"-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	if err := os.Link(path, kept); err != nil {
		return "", err
	}
	// After a checkpoint the WAL is empty; otherwise kept + "-wal" holds it.
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	syncDir(filepath.Dir(path))
	return kept, nil
}

// keptName returns a name for the database at path replaced by a restore
// at now, such as xiaoshen.db.before-restore-20261127T120000, that no file
// has yet: an earlier kept copy may be the only one of the data before a
// restore of the wrong backup.
func keptName(path string, now time.Time) (string, error) {
	base := path + ".before-restore-" + now.In(kb.Shanghai).Format("20060102T150405")
	for n := 1; n < 100; n++ {
		name := base
		if n > 1 {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		if !exists(name) && !exists(name+"-wal") {
			return name, nil
		}
	}
	return "", fmt.Errorf("no free name for the old database beside %s", base)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// checkpoint moves the WAL of the database at path into the database. It
// fails unless the whole WAL was moved, as when another connection holds it.
func checkpoint(path string) error {
	db, err := openRaw(path)
	if err != nil {
		return err
	}
	var busy, frames, moved int
	if err := db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &moved); err != nil {
		db.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if busy != 0 || frames != moved {
		db.Close()
		return fmt.Errorf("checkpoint %s: %d of %d frames moved", path, moved, frames)
	}
	return db.Close()
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
