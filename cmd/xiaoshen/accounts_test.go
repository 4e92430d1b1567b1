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

// cliRun runs a subcommand in this process and returns its exit status,
// standard output and standard error.
func cliRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(t.Context(), args, &out, &errs)
	return code, out.String(), errs.String()
}

// withStdin makes the process read input as its standard input until the
// test ends.
func withStdin(t *testing.T, input string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(path, []byte(input), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })
}

// mustOpenDataStore opens the store of the data directory dir; it is
// closed when the test ends.
func mustOpenDataStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "xiaoshen.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var shownPassword = regexp.MustCompile(`（只显示这一次）：\n(\S+)\n`)

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	withStdin(t, "first-password\n")
	if code, out, errs := cliRun(t, "user", "create", "--data", dir, "--name", "qixie", "--role", "reviewer", "--department", "器械注册处", "--password-stdin"); code != 0 {
		t.Fatalf("create: exit %d: %s%s", code, out, errs)
	}
	if code, out, errs := cliRun(t, "user", "create", "--data", dir, "--name", "admin", "--role", "admin"); code != 0 || !shownPassword.MatchString(out) {
		t.Fatalf("create with a random password: exit %d: %s%s", code, out, errs)
	}
	st := mustOpenDataStore(t, dir)
	ctx := t.Context()
	if _, err := st.Authenticate(ctx, "qixie", "first-password"); err != nil {
		t.Fatalf("the password from stdin: %v", err)
	}

	t.Run("list", func(t *testing.T) {
		code, out, errs := cliRun(t, "user", "list", "--data", dir)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{"登录名", "角色", "部门", "创建时间", "状态", "qixie", "reviewer", "器械注册处", "admin", "有效"} {
			if !strings.Contains(out, want) {
				t.Errorf("list lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "已停用") {
			t.Errorf("nobody is disabled yet:\n%s", out)
		}
	})

	t.Run("passwd from stdin", func(t *testing.T) {
		p, _ := st.Authenticate(ctx, "qixie", "first-password")
		cookie, _, err := st.CreateSession(ctx, p.UserID)
		if err != nil {
			t.Fatal(err)
		}
		withStdin(t, "second-password\n")
		code, out, errs := cliRun(t, "user", "passwd", "--data", dir, "--name", "qixie", "--password-stdin")
		if code != 0 || !strings.Contains(out, "已重设用户 qixie 的密码") || shownPassword.MatchString(out) {
			t.Fatalf("exit %d: %s%s", code, out, errs)
		}
		if _, err := st.Authenticate(ctx, "qixie", "first-password"); err == nil {
			t.Error("the old password still logs in")
		}
		if _, err := st.Authenticate(ctx, "qixie", "second-password"); err != nil {
			t.Errorf("the new password: %v", err)
		}
		if _, _, err := st.SessionPrincipal(ctx, cookie); err == nil {
			t.Error("a session from before the reset still works")
		}
	})

	t.Run("passwd generates one", func(t *testing.T) {
		code, out, errs := cliRun(t, "user", "passwd", "--data", dir, "--name", "qixie")
		m := shownPassword.FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("exit %d: %s%s", code, out, errs)
		}
		if _, err := st.Authenticate(ctx, "qixie", m[1]); err != nil {
			t.Errorf("the printed password: %v", err)
		}
	})

	t.Run("passwd refuses", func(t *testing.T) {
		withStdin(t, "short\n")
		if code, _, errs := cliRun(t, "user", "passwd", "--data", dir, "--name", "qixie", "--password-stdin"); code != 1 || !strings.Contains(errs, "密码至少 8 位") {
			t.Errorf("a short password: exit %d: %s", code, errs)
		}
		if code, _, errs := cliRun(t, "user", "passwd", "--data", dir, "--name", "nobody"); code != 1 || !strings.Contains(errs, `用户 "nobody" 不存在`) {
			t.Errorf("a missing user: exit %d: %s", code, errs)
		}
		if code, _, errs := cliRun(t, "user", "passwd", "--data", dir); code != 2 || !strings.Contains(errs, "--name") {
			t.Errorf("no --name: exit %d: %s", code, errs)
		}
	})

	t.Run("disable", func(t *testing.T) {
		withStdin(t, "third-password\n")
		if code, _, errs := cliRun(t, "user", "passwd", "--data", dir, "--name", "qixie", "--password-stdin"); code != 0 {
			t.Fatalf("passwd: exit %d: %s", code, errs)
		}
		p, err := st.Authenticate(ctx, "qixie", "third-password")
		if err != nil {
			t.Fatal(err)
		}
		cookie, _, err := st.CreateSession(ctx, p.UserID)
		if err != nil {
			t.Fatal(err)
		}
		code, out, errs := cliRun(t, "user", "disable", "--data", dir, "--name", "qixie")
		if code != 0 || !strings.Contains(out, "已停用用户 qixie") {
			t.Fatalf("exit %d: %s%s", code, out, errs)
		}
		if _, err := st.Authenticate(ctx, "qixie", "third-password"); kb.ErrorCode(err) != kb.EUNAUTH {
			t.Errorf("a disabled user logs in: %v", err)
		}
		if _, _, err := st.SessionPrincipal(ctx, cookie); kb.ErrorCode(err) != kb.EUNAUTH {
			t.Errorf("a disabled user's session still works: %v", err)
		}
		_, out, _ = cliRun(t, "user", "list", "--data", dir)
		if !regexp.MustCompile(`qixie .*已停用 \d{4}-\d\d-\d\d`).MatchString(out) || !regexp.MustCompile(`admin .*有效`).MatchString(out) {
			t.Errorf("list after disabling:\n%s", out)
		}
		if code, _, errs := cliRun(t, "user", "disable", "--data", dir, "--name", "qixie"); code != 1 || !strings.Contains(errs, "已于") {
			t.Errorf("disabling twice: exit %d: %s", code, errs)
		}
		if code, _, errs := cliRun(t, "user", "passwd", "--data", dir, "--name", "qixie"); code != 1 || !strings.Contains(errs, "已于") {
			t.Errorf("passwd of a disabled user: exit %d: %s", code, errs)
		}
		if code, _, errs := cliRun(t, "user", "disable", "--data", dir, "--name", "nobody"); code != 1 || !strings.Contains(errs, "不存在") {
			t.Errorf("disabling a missing user: exit %d: %s", code, errs)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"user"}, {"user", "delete"}} {
			if code, _, errs := cliRun(t, args...); code != 2 || !strings.Contains(errs, "create|list|passwd|disable") {
				t.Errorf("%v: exit %d: %s", args, code, errs)
			}
		}
		for _, args := range [][]string{{"user", "-h"}, {"user", "--help"}, {"token", "-h"}, {"token", "--help"}, {"entries", "-h"}, {"calendar", "--help"}} {
			if code, _, errs := cliRun(t, args...); code != 0 || !strings.Contains(errs, "xiaoshen "+args[0]) || !strings.Contains(errs, "list") {
				t.Errorf("%v: exit %d: %s", args, code, errs)
			}
		}
		for _, sub := range []string{"create", "list", "passwd", "disable"} {
			if code, _, errs := cliRun(t, "user", sub, "-h"); code != 0 || !strings.Contains(errs, "xiaoshen user "+sub) || !strings.Contains(errs, "XIAOSHEN_DATA") {
				t.Errorf("user %s -h: exit %d: %s", sub, code, errs)
			}
		}
	})
}
