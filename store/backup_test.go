package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"xiaoshen/kb"
	"xiaoshen/store"
)

func TestBackupWhileWritingAndRestore(t *testing.T) {
	dir := t.TempDir()
	src, err := store.Open(filepath.Join(dir, "xiaoshen.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if err := src.CreateEntry(ctx, faq(fmt.Sprintf("早先的问题%d", i)), "t"); err != nil {
			t.Fatal(err)
		}
	}

	// A writer keeps writing uploads of 20 entries while the backup runs.
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for batch := 0; ; batch++ {
			select {
			case <-stop:
				return
			default:
			}
			entries := make([]*kb.Entry, 20)
			for i := range entries {
				entries[i] = faq(fmt.Sprintf("批次%d问题%d", batch, i))
			}
			if err := src.ApplySync(ctx, entries, nil, nil, "t"); err != nil {
				t.Error(err)
				return
			}
			written.Add(20)
		}
	}()
	for written.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	backup := filepath.Join(t.TempDir(), "kb.backup")
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, kb.Shanghai)
	info, err := store.Backup(ctx, filepath.Join(dir, "xiaoshen.db"), backup, at)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.SchemaVersion != store.SchemaVersion() || !info.CreatedAt.Equal(at) {
		t.Errorf("info = %+v", info)
	}
	// A consistent copy holds whole uploads only.
	if info.Entries < 150 || (info.Entries-50)%20 != 0 {
		t.Errorf("backup holds %d entries, want 50 plus whole uploads of 20", info.Entries)
	}
	read, err := store.ReadBackupInfo(ctx, backup)
	if err != nil || read.Entries != info.Entries || read.SchemaVersion != info.SchemaVersion || !read.CreatedAt.Equal(at) {
		t.Fatalf("ReadBackupInfo = %+v, %v", read, err)
	}

	t.Run("restore into a new directory", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "xiaoshen.db")
		restored, err := store.Restore(ctx, backup, dst, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if restored.KeptAs != "" {
			t.Errorf("kept %s, but there was no database", restored.KeptAs)
		}
		s, err := store.Open(dst)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if n, _ := s.CountEntries(ctx); n != info.Entries {
			t.Errorf("restored %d entries, want %d", n, info.Entries)
		}
		var tables int
		s.DB().QueryRow(`SELECT COUNT(*) FROM sqlite_schema WHERE name = 'backup_info'`).Scan(&tables)
		if tables != 0 {
			t.Error("the backup's metadata table was restored into the database")
		}
		if problems, err := s.IntegrityCheck(ctx); err != nil || len(problems) > 0 {
			t.Errorf("integrity: %v %v", problems, err)
		}
	})
	t.Run("restore over a database keeps the old one aside", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "xiaoshen.db")
		old, err := store.Open(dst)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.CreateEntry(ctx, faq("只在旧库中的问题"), "t"); err != nil {
			t.Fatal(err)
		}
		old.Close()
		// The service's user owns the database; the restore may run as root.
		const serviceUID, serviceGID = 10001, 10001
		asRoot := os.Getuid() == 0
		if asRoot {
			if err := os.Chown(dst, serviceUID, serviceGID); err != nil {
				t.Fatal(err)
			}
		}
		restoredAt := time.Date(2026, 11, 27, 12, 0, 0, 0, kb.Shanghai)
		restored, err := store.Restore(ctx, backup, dst, nil, restoredAt)
		if err != nil {
			t.Fatal(err)
		}
		if want := dst + ".before-restore-20261127T120000"; restored.KeptAs != want {
			t.Errorf("kept as %s, want %s", restored.KeptAs, want)
		}
		if fi, err := os.Stat(dst); err != nil {
			t.Fatal(err)
		} else if st := fi.Sys().(*syscall.Stat_t); asRoot && (st.Uid != serviceUID || st.Gid != serviceGID) {
			t.Errorf("restored database owned by %d:%d, want the old one's %d:%d", st.Uid, st.Gid, serviceUID, serviceGID)
		}
		for path, want := range map[string]int{dst: info.Entries, restored.KeptAs: 1} {
			s, err := store.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := s.CountEntries(ctx); n != want {
				t.Errorf("%s: %d entries, want %d", filepath.Base(path), n, want)
			}
			s.Close()
		}
		if _, err := os.Stat(dst + ".restoring"); !os.IsNotExist(err) {
			t.Error("the temporary copy was left behind")
		}
	})
}

func TestRestoreRefusesWhatIsNotARestorableBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.db")
	s, err := store.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES ('999_future.sql', '')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	future := filepath.Join(dir, "future.backup")
	if _, err := store.Backup(ctx, plain, future, time.Now()); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.backup")
	os.WriteFile(garbage, []byte("not a database at all, just some text that is long enough"), 0o644)
	tests := []struct {
		name, file, code string
	}{
		{"a database that is not a backup", plain, kb.EINVALID},
		{"a backup of a newer schema", future, kb.EINVALID},
		{"not a database", garbage, kb.EINVALID},
		{"missing", filepath.Join(dir, "missing.backup"), kb.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "xiaoshen.db")
			if _, err := store.Restore(ctx, tt.file, dst, nil, time.Now()); kb.ErrorCode(err) != tt.code {
				t.Fatalf("Restore = %v, want code %s", err, tt.code)
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Error("a refused restore wrote the database")
			}
		})
	}
}

func TestRestoreMatchesRevokedTokensByHash(t *testing.T) {
	ctx := t.Context()
	// Two installations whose token 1 are different tokens.
	open := func(path string) *store.Store {
		s, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherPath, herePath := filepath.Join(t.TempDir(), "xiaoshen.db"), filepath.Join(t.TempDir(), "xiaoshen.db")
	other := open(otherPath)
	_, otherSecret, err := other.CreateToken(ctx, "别处的脚本", kb.RoleAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	backup := filepath.Join(t.TempDir(), "other.backup")
	if _, err := store.Backup(ctx, otherPath, backup, time.Now()); err != nil {
		t.Fatal(err)
	}
	here := open(herePath)
	id, _, err := here.CreateToken(ctx, "本处的脚本", kb.RoleAdmin, "")
	if err != nil || id != 1 {
		t.Fatalf("CreateToken = %d, %v", id, err)
	}
	if err := here.RevokeToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	here.Close()

	keep, err := store.ReadRevocations(ctx, herePath)
	if err != nil || len(keep.Tokens) != 1 {
		t.Fatalf("ReadRevocations = %+v, %v", keep, err)
	}
	restored, err := store.Restore(ctx, backup, herePath, keep, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !restored.Carried.Empty() {
		t.Errorf("carried %+v into a backup that has no such token", restored.Carried)
	}
	s := open(herePath)
	defer s.Close()
	if _, err := s.PrincipalForToken(ctx, otherSecret); err != nil {
		t.Errorf("the backup's own token 1 was revoked: %v", err)
	}
	if _, err := os.Stat(restored.KeptAs); err != nil {
		t.Error(err)
	}
}

func TestRestoreOverADamagedDatabaseWithItsWAL(t *testing.T) {
	ctx := t.Context()
	dbPath := filepath.Join(t.TempDir(), "xiaoshen.db")
	s, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := s.CreateEntry(ctx, faq(fmt.Sprintf("备份中的问题%d", i)), "t"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateToken(ctx, "脚本", kb.RoleAdmin, ""); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "kb.backup")
	if _, err := store.Backup(ctx, dbPath, backup, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Revoked after the backup, and only in the WAL when the database is
	// damaged; the WAL does not hold page 1, so the damage keeps it from
	// being checkpointed. Its pages would overwrite the restored copy's.
	if _, err := s.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, 1); err != nil {
		t.Fatal(err)
	}
	wal, err := os.ReadFile(dbPath + "-wal")
	if err != nil || len(wal) == 0 {
		t.Fatalf("no WAL: %d bytes, %v", len(wal), err)
	}
	s.Close()
	damaged := []byte(strings.Repeat("not a database ", 400))
	for path, b := range map[string][]byte{dbPath: damaged, dbPath + "-wal": wal} {
		if err := os.WriteFile(path, b, 0o640); err != nil {
			t.Fatal(err)
		}
	}

	// What a crash right after the swap leaves: the database and any WAL
	// beside it.
	crashed := filepath.Join(t.TempDir(), "xiaoshen.db")
	store.SetAfterSwapHook(t, func() {
		for _, suffix := range []string{"", "-wal"} {
			if b, err := os.ReadFile(dbPath + suffix); err == nil {
				os.WriteFile(crashed+suffix, b, 0o640)
			}
		}
	})
	restored, err := store.Restore(ctx, backup, dbPath, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{crashed, dbPath} {
		s, err := store.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if problems, err := s.IntegrityCheck(ctx); err != nil || len(problems) > 0 {
			t.Errorf("%s: integrity: %v %v", path, problems, err)
		}
		if n, err := s.CountEntries(ctx); n != 5 {
			t.Errorf("%s: %d entries (%v), want the backup's 5", path, n, err)
		}
		s.Close()
	}
	for suffix, want := range map[string][]byte{"": damaged, "-wal": wal} {
		if got, err := os.ReadFile(restored.KeptAs + suffix); err != nil || !bytes.Equal(got, want) {
			t.Errorf("kept %q: %d bytes (%v), want the %d found", suffix, len(got), err, len(want))
		}
	}
}
