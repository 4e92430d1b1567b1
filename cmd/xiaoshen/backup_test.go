package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"xiaoshen/kb"
	"xiaoshen/store"
)

// accountsBeforeBackup is a data directory with three tokens (the first
// revoked) and two users, and a backup of it.
type accountsBeforeBackup struct {
	dir, backup string
	secrets     map[int64]string
}

func mustBackUpAccounts(t *testing.T) accountsBeforeBackup {
	t.Helper()
	a := accountsBeforeBackup{dir: t.TempDir(), secrets: map[int64]string{}}
	st, err := store.Open(filepath.Join(a.dir, "xiaoshen.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, name := range []string{"旧脚本", "审核脚本", "客服"} {
		role, dept := kb.RoleReviewer, "器械注册处"
		if name == "客服" {
			role, dept = kb.RoleChatbot, ""
		}
		id, secret, err := st.CreateToken(ctx, name, role, dept)
		if err != nil {
			t.Fatal(err)
		}
		a.secrets[id] = secret
	}
	if err := st.RevokeToken(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"leaver", "stayer"} {
		if _, err := st.CreateUser(ctx, name, kb.RoleReviewer, "器械注册处", "password-1"); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	a.backup = filepath.Join(t.TempDir(), "bk1.db")
	if code, out, errs := cliRun(t, "backup", "--data", a.dir, "--out", a.backup); code != 0 {
		t.Fatalf("backup: exit %d: %s%s", code, out, errs)
	}
	return a
}

// tokenWorks reports whether the bearer of token id is let in.
func (a accountsBeforeBackup) tokenWorks(t *testing.T, st *store.Store, id int64) bool {
	t.Helper()
	_, err := st.PrincipalForToken(t.Context(), a.secrets[id])
	if err != nil && kb.ErrorCode(err) != kb.EUNAUTH {
		t.Fatal(err)
	}
	return err == nil
}

func TestRestoreKeepsRevocationsMadeAfterTheBackup(t *testing.T) {
	a := mustBackUpAccounts(t)
	if code, _, errs := cliRun(t, "token", "revoke", "--data", a.dir, "3"); code != 0 {
		t.Fatalf("revoke: exit %d: %s", code, errs)
	}
	if code, _, errs := cliRun(t, "user", "disable", "--data", a.dir, "--name", "leaver"); code != 0 {
		t.Fatalf("disable: exit %d: %s", code, errs)
	}
	code, out, errs := cliRun(t, "restore", "--data", a.dir, "--in", a.backup, "--yes")
	if code != 0 {
		t.Fatalf("restore: exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{"已带入恢复后的数据库", "令牌 3（客服），吊销于", "用户 leaver，停用于", "登录已全部失效"} {
		if !strings.Contains(out, want) {
			t.Errorf("restore output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "令牌 1") || strings.Contains(errs, "警告") {
		t.Errorf("restore reports token 1, revoked before the backup, or warns:\n%s%s", out, errs)
	}

	st := mustOpenDataStore(t, a.dir)
	ctx := t.Context()
	for id, want := range map[int64]bool{1: false, 2: true, 3: false} {
		if got := a.tokenWorks(t, st, id); got != want {
			t.Errorf("after restore token %d works = %v, want %v", id, got, want)
		}
	}
	if _, err := st.Authenticate(ctx, "leaver", "password-1"); kb.ErrorCode(err) != kb.EUNAUTH {
		t.Errorf("the user disabled after the backup logs in again: %v", err)
	}
	if _, err := st.Authenticate(ctx, "stayer", "password-1"); err != nil {
		t.Errorf("a user in good standing: %v", err)
	}
	_, list, _ := cliRun(t, "token", "list", "--data", a.dir)
	if strings.Count(list, "已吊销") != 2 {
		t.Errorf("token list after restore:\n%s", list)
	}

	t.Run("a backup that has them carries nothing", func(t *testing.T) {
		st.Close()
		bk2 := filepath.Join(t.TempDir(), "bk2.db")
		if code, _, errs := cliRun(t, "backup", "--data", a.dir, "--out", bk2); code != 0 {
			t.Fatalf("backup: exit %d: %s", code, errs)
		}
		code, out, errs := cliRun(t, "restore", "--data", a.dir, "--in", bk2, "--yes")
		if code != 0 || !strings.Contains(out, "备份之后没有新吊销的令牌、新停用的用户或重设的密码") || strings.Contains(out, "已带入") {
			t.Fatalf("exit %d: %s%s", code, out, errs)
		}
	})
}

func TestRestoreKeepsPasswordsResetAfterTheBackup(t *testing.T) {
	a := mustBackUpAccounts(t)
	// The password of stayer leaked and was reset after the backup.
	withStdin(t, "password-2\n")
	if code, _, errs := cliRun(t, "user", "passwd", "--data", a.dir, "--name", "stayer", "--password-stdin"); code != 0 {
		t.Fatalf("passwd: exit %d: %s", code, errs)
	}
	code, out, errs := cliRun(t, "restore", "--data", a.dir, "--in", a.backup, "--yes")
	if code != 0 {
		t.Fatalf("restore: exit %d: %s%s", code, out, errs)
	}
	if !strings.Contains(out, "已带入恢复后的数据库") || !strings.Contains(out, "用户 stayer 的密码") || strings.Contains(out, "用户 leaver 的密码") {
		t.Errorf("restore output does not list the reset password of stayer alone:\n%s", out)
	}
	st := mustOpenDataStore(t, a.dir)
	if _, err := st.Authenticate(t.Context(), "stayer", "password-1"); kb.ErrorCode(err) != kb.EUNAUTH {
		t.Errorf("the leaked password logs in again after the restore: %v", err)
	}
	if _, err := st.Authenticate(t.Context(), "stayer", "password-2"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if _, err := st.Authenticate(t.Context(), "leaver", "password-1"); err != nil {
		t.Errorf("a user whose password was not reset: %v", err)
	}
}

func TestRestoreEndsSessions(t *testing.T) {
	a := mustBackUpAccounts(t)
	st := mustOpenDataStore(t, a.dir)
	p, err := st.Authenticate(t.Context(), "stayer", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	cookie, _, err := st.CreateSession(t.Context(), p.UserID)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	// The backup holds the session; logging out after it must hold too.
	backup := filepath.Join(t.TempDir(), "with-session.db")
	if code, _, errs := cliRun(t, "backup", "--data", a.dir, "--out", backup); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, errs)
	}
	st = mustOpenDataStore(t, a.dir)
	if err := st.DeleteSession(t.Context(), cookie); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, out, errs := cliRun(t, "restore", "--data", a.dir, "--in", backup, "--yes"); code != 0 {
		t.Fatalf("restore: exit %d: %s%s", code, out, errs)
	}
	st = mustOpenDataStore(t, a.dir)
	if _, _, err := st.SessionPrincipal(t.Context(), cookie); kb.ErrorCode(err) != kb.EUNAUTH {
		t.Errorf("a session logged out after the backup works again: %v", err)
	}
}

func TestRestoreWarnsWhenRevocationsCannotBeRead(t *testing.T) {
	damaged := []byte(strings.Repeat("not a database ", 400))
	tests := []struct {
		name string
		// damage returns the files it leaves, by suffix of xiaoshen.db,
		// which the restore must keep as found.
		damage     func(t *testing.T, dir string) map[string][]byte
		wantReason string
	}{
		{"damaged database", func(t *testing.T, dir string) map[string][]byte {
			db := filepath.Join(dir, "xiaoshen.db")
			for _, suffix := range []string{"-wal", "-shm"} {
				os.Remove(db + suffix)
			}
			if err := os.WriteFile(db, damaged, 0o640); err != nil {
				t.Fatal(err)
			}
			return map[string][]byte{"": damaged}
		}, "现有数据库无法读取（已损坏或不是数据库文件）"},
		{"damaged database with a WAL", func(t *testing.T, dir string) map[string][]byte {
			// The WAL holds the revocation, not page 1: it cannot be
			// checkpointed into the damaged file.
			wal := mustLeaveWAL(t, dir, func(st *store.Store) {
				if err := st.RevokeToken(t.Context(), 3); err != nil {
					t.Fatal(err)
				}
			})
			if err := os.WriteFile(filepath.Join(dir, "xiaoshen.db"), damaged, 0o640); err != nil {
				t.Fatal(err)
			}
			return map[string][]byte{"": damaged, "-wal": wal}
		}, "现有数据库无法读取（已损坏或不是数据库文件）"},
		{"no database", func(t *testing.T, dir string) map[string][]byte {
			db := filepath.Join(dir, "xiaoshen.db")
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(db + suffix)
			}
			return nil
		}, "数据目录中没有现有数据库"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustBackUpAccounts(t)
			found := tt.damage(t, a.dir)
			code, out, errs := cliRun(t, "restore", "--data", a.dir, "--in", a.backup, "--yes")
			if code != 0 {
				t.Fatalf("restore: exit %d: %s%s", code, out, errs)
			}
			for _, want := range []string{"警告：" + tt.wantReason, "之后吊销的令牌、停用的用户和重设的密码无法带到恢复后的数据库", "xiaoshen user passwd", "xiaoshen token list", "xiaoshen user list"} {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
			// The reason is said in Chinese; a detail in English may follow.
			if detail := strings.Index(errs, "（详情："); strings.Contains(errs, "store:") && (detail < 0 || strings.Index(errs, "store:") < detail) {
				t.Errorf("stderr tells the reason in the store's English:\n%s", errs)
			}
			if !strings.Contains(out, "未能从原数据库带入") || strings.Contains(out, "已带入") {
				t.Errorf("stdout:\n%s", out)
			}
			kept := ""
			if m := keptAs.FindStringSubmatch(out); m != nil {
				kept = m[1]
			}
			if (kept != "") != (found != nil) {
				t.Errorf("kept as %q, want kept %v:\n%s", kept, found != nil, out)
			}
			if found["-wal"] != nil && !strings.Contains(out, "连同 "+kept+"-wal") {
				t.Errorf("the output does not name the kept WAL:\n%s", out)
			}
			for suffix, want := range found {
				if got, err := os.ReadFile(kept + suffix); err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s%s: %d bytes (%v), want the %d bytes found", filepath.Base(kept), suffix, len(got), err, len(want))
				}
			}
			if wal, err := os.ReadFile(filepath.Join(a.dir, "xiaoshen.db-wal")); err == nil && len(wal) > 0 {
				t.Errorf("a WAL of %d bytes is left beside the restored database", len(wal))
			}
			st := mustOpenDataStore(t, a.dir)
			if a.tokenWorks(t, st, 1) || !a.tokenWorks(t, st, 2) || !a.tokenWorks(t, st, 3) {
				t.Error("the restored database does not hold the backup's tokens")
			}
		})
	}
}

// mustLeaveWAL runs change on the store of the data directory dir and
// leaves the database as a process killed right after it would: the
// change only in a non-empty xiaoshen.db-wal, not yet checkpointed into
// xiaoshen.db. It returns the WAL's bytes.
func mustLeaveWAL(t *testing.T, dir string, change func(st *store.Store)) []byte {
	t.Helper()
	db := filepath.Join(dir, "xiaoshen.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	change(st)
	// Closing the last connection checkpoints the WAL and deletes it;
	// the files as they were before the close are put back.
	main, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	wal, err := os.ReadFile(db + "-wal")
	if err != nil || len(wal) == 0 {
		t.Fatalf("no WAL to leave: %d bytes, %v", len(wal), err)
	}
	st.Close()
	if err := os.WriteFile(db, main, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+"-wal", wal, 0o640); err != nil {
		t.Fatal(err)
	}
	os.Remove(db + "-shm")
	return wal
}

func TestRestoreCancelledLeavesTheDatabaseAsItWas(t *testing.T) {
	a := mustBackUpAccounts(t)
	db := filepath.Join(a.dir, "xiaoshen.db")
	mustLeaveWAL(t, a.dir, func(st *store.Store) {
		if err := st.RevokeToken(t.Context(), 3); err != nil {
			t.Fatal(err)
		}
	})
	before := map[string][]byte{}
	for _, path := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		before[path] = b
	}
	withStdin(t, "n\n")
	code, out, errs := cliRun(t, "restore", "--data", a.dir, "--in", a.backup)
	if code != 1 || !strings.Contains(out, "已取消，未做任何更改") {
		t.Fatalf("restore answered no: exit %d: %s%s", code, out, errs)
	}
	for path, want := range before {
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s changed by a cancelled restore: %d bytes, was %d (%v)", filepath.Base(path), len(got), len(want), err)
		}
	}
	// Read without writing, the revocation only in the WAL is still seen.
	code, out, errs = cliRun(t, "restore", "--data", a.dir, "--in", a.backup, "--yes")
	if code != 0 || !strings.Contains(out, "令牌 3（客服），吊销于") {
		t.Errorf("restore of a database whose revocation is in its WAL: exit %d: %s%s", code, out, errs)
	}
}

// keptAs matches the restore's line naming where the old database is kept.
var keptAs = regexp.MustCompile(`原数据库保存在 (\S+)，`)

func TestRestoreTwiceKeepsBothOldDatabases(t *testing.T) {
	a := mustBackUpAccounts(t)
	// Only the database before the first restore has this user: were the
	// wrong backup restored twice, its copy is the one that matters.
	withStdin(t, "password-2\n")
	if code, _, errs := cliRun(t, "user", "create", "--data", a.dir, "--name", "newcomer", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errs)
	}
	var kept []string
	for i := 0; i < 2; i++ {
		code, out, errs := cliRun(t, "restore", "--data", a.dir, "--in", a.backup, "--yes")
		m := keptAs.FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("restore %d: exit %d: %s%s", i+1, code, out, errs)
		}
		kept = append(kept, m[1])
	}
	if kept[0] == kept[1] || !regexp.MustCompile(`xiaoshen\.db\.before-restore-\d{8}T\d{6}`).MatchString(kept[0]) {
		t.Fatalf("kept as %q", kept)
	}
	for i, path := range kept {
		st, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Authenticate(t.Context(), "newcomer", "password-2")
		st.Close()
		if (err == nil) != (i == 0) {
			t.Errorf("%s holds the user created before the first restore: %v, want %v", filepath.Base(path), err == nil, i == 0)
		}
	}
}

// Accounts created after the backup are gone after the restore, and the
// restore says which, so that a chatbot's new token is made again.
func TestRestoreNamesTheAccountsItLoses(t *testing.T) {
	a := mustBackUpAccounts(t)
	if code, _, errs := cliRun(t, "token", "create", "--data", a.dir, "--name", "新客服", "--role", kb.RoleChatbot); code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errs)
	}
	if code, _, errs := cliRun(t, "user", "create", "--data", a.dir, "--name", "newguy", "--role", kb.RoleReviewer, "--department", "器械注册处"); code != 0 {
		t.Fatalf("user create: exit %d: %s", code, errs)
	}
	code, out, errs := cliRun(t, "restore", "--data", a.dir, "--in", a.backup, "--yes")
	if code != 0 {
		t.Fatalf("restore: exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{"以下账号和令牌是备份之后创建的，恢复后已不存在", "  用户 newguy\n", "  令牌 4（新客服）\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("restore output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "stayer") || strings.Contains(out, "审核脚本") {
		t.Errorf("restore reports accounts the backup has:\n%s", out)
	}
}
