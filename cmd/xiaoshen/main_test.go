package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"xiaoshen/search"
	"xiaoshen/store"
)

// buildBinary builds cmd/xiaoshen into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "xiaoshen")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// binaryWithDict builds cmd/xiaoshen into a new folder with a copy of the
// gojieba dictionaries in dict/ beside it, as a deployment has them.
func binaryWithDict(t *testing.T) string {
	t.Helper()
	moduleDict, err := search.ResolveDictDir("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "dict"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"jieba.dict.utf8", "hmm_model.utf8"} {
		copyFile(t, filepath.Join(moduleDict, f), filepath.Join(dir, "dict", f))
	}
	return bin
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs "bin serve" in dir and waits for /readyz.
func startServe(t *testing.T, bin, dir string, env []string, args ...string) (string, *exec.Cmd, *syncBuffer) {
	t.Helper()
	addr := freeAddr(t)
	logs := newSyncBuffer()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--data", filepath.Join(dir, "data")}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr, cmd, logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become ready; logs:\n%s", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ask(t *testing.T, addr, question string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"question": question})
	resp, err := http.Post("http://"+addr+"/api/v1/ask", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("ask %q: %d %s", question, resp.StatusCode, raw)
	}
	return out
}

// TestBinaryRunsFromAnotherDirectory copies the binary alone with its
// dictionary folder into an empty directory, hides the Go module cache, and
// checks that it starts, seeds, answers, and shuts down gracefully.
func TestBinaryRunsFromAnotherDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binaryWithDict(t)
	dir := filepath.Dir(bin)
	empty := t.TempDir()
	env := []string{"HOME=" + empty, "GOMODCACHE=" + empty, "GOPATH=" + empty, "PATH=/usr/bin:/bin", "TMPDIR=" + empty}

	addr, cmd, logs := startServe(t, bin, dir, env, "--drain", "2m")
	if !waitFor(logs, "dict="+filepath.Join(dir, "dict"), 5*time.Second) {
		t.Errorf("the dictionaries next to the binary must be used; logs:\n%s", logs)
	}
	if got := ask(t, addr, "二类械注册要交哪些材料"); got["answered"] != true {
		t.Errorf("not answered: %v", got)
	}
	got := ask(t, addr, "护照过期了怎么办")
	if got["answered"] != false || got["unanswered"] == nil || got["fallback"] == nil {
		t.Errorf("uncovered question: %v", got)
	}
	// SIGTERM starts the drain: not ready, still answering. A second one
	// ends the drain at once rather than after its two minutes.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !waitFor(logs, "draining", 5*time.Second) {
		t.Fatalf("no drain after SIGTERM; logs:\n%s", logs)
	}
	if code, _, _ := get(t, "http://"+addr+"/readyz"); code != 503 {
		t.Errorf("/readyz while draining: %d, want 503", code)
	}
	if got := ask(t, addr, "二类械注册要交哪些材料"); got["answered"] != true {
		t.Errorf("not answered while draining: %v", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("graceful shutdown exit: %v; logs:\n%s", err, logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("a second SIGTERM did not end the drain; logs:\n%s", logs)
	}

	// The index is derived: reindex rebuilds it from the store.
	out, err := exec.Command(bin, "reindex", "--data", filepath.Join(dir, "data"), "--dict", filepath.Join(dir, "dict")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "索引已重建") {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	// A missing index is rebuilt at start, and answers the same.
	if err := os.RemoveAll(filepath.Join(dir, "data", "index")); err != nil {
		t.Fatal(err)
	}
	addr, _, logs = startServe(t, bin, dir, env)
	if !waitFor(logs, "index built", 5*time.Second) {
		t.Errorf("missing index not rebuilt; logs:\n%s", logs)
	}
	if got := ask(t, addr, "二类械注册要交哪些材料"); got["answered"] != true {
		t.Errorf("not answered after rebuild: %v", got)
	}
}

func TestMissingDictionaryIsAClearError(t *testing.T) {
	var stderr bytes.Buffer
	code := run(t.Context(), []string{"serve", "--dict", t.TempDir(), "--data", t.TempDir(), "--addr", freeAddr(t)}, io.Discard, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "jieba.dict.utf8") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestUnknownSubcommand(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"frobnicate"}, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "未知子命令") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestUsageShowsEvalOnADeployment(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"-h"}, io.Discard, &stderr); code != 0 || !strings.Contains(stderr.String(), "eval --data DIR --questions FILE") {
		t.Fatalf("exit %d, usage does not show eval --data DIR --questions FILE:\n%s", code, stderr.String())
	}
}

func TestCalendarImport(t *testing.T) {
	data := t.TempDir()
	mustOpenStoreIn(t, data)
	writeYear := func(name string, year int, holiday string) string {
		file := filepath.Join(t.TempDir(), name)
		os.WriteFile(file, fmt.Appendf(nil, `{"year":%d,"days":[{"name":"元旦","date":"%s","isOffDay":true}]}`, year, holiday), 0o644)
		return file
	}
	file := writeYear("2027.json", 2027, "2027-01-01")
	calendar := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), append([]string{"calendar"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	if code, _, stderr := calendar("import", "--data", data, file); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cal, err := loadCalendar(appConfig{DataDir: data, Logger: newLogger(io.Discard, "text", "error")})
	if err != nil {
		t.Fatal(err)
	}
	if !cal.Published(2027) {
		t.Error("imported year not loaded from the data directory")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"year":2027,"days":[{"date":"2027-02-30","isOffDay":true}]}`), 0o644)
	if code, _, stderr := calendar("import", "--data", data, bad); code == 0 || !strings.Contains(stderr, "2027-02-30") {
		t.Errorf("bad file: exit %d, %s", code, stderr)
	}

	imported := filepath.Join(data, "calendar", "2027.json")
	t.Run("a year already imported takes --force", func(t *testing.T) {
		fix := writeYear("2027-修订.json", 2027, "2027-01-04")
		code, _, stderr := calendar("import", "--data", data, fix)
		if want := "2027 年的安排已导入（" + imported + "）；要用 " + fix + " 替换它，请加 --force"; code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
		}
		if raw, _ := os.ReadFile(imported); !strings.Contains(string(raw), "2027-01-01") {
			t.Errorf("the imported year was replaced without --force: %s", raw)
		}
		if code, stdout, stderr := calendar("import", "--data", data, "--force", fix); code != 0 || !strings.Contains(stdout, imported) {
			t.Fatalf("--force: exit %d, %s%s", code, stdout, stderr)
		}
		if raw, _ := os.ReadFile(imported); !strings.Contains(string(raw), "2027-01-04") {
			t.Errorf("--force did not replace the year: %s", raw)
		}
	})
	t.Run("a year imported under another file's name is refused even with --force", func(t *testing.T) {
		both := filepath.Join(t.TempDir(), "2026-2027.json")
		os.WriteFile(both, []byte(`{"years":[{"year":2026,"days":[{"date":"2026-01-01","off":true}]},{"year":2027,"days":[{"date":"2027-01-01","off":true}]}]}`), 0o644)
		code, _, stderr := calendar("import", "--data", data, "--force", both)
		if want := "2027 年的安排已由 " + imported + " 导入"; code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, want)
		}
		if _, err := os.Stat(filepath.Join(data, "calendar", "2026.json")); err == nil {
			t.Error("the overlapping file was written")
		}
	})
	t.Run("list names each year's source", func(t *testing.T) {
		code, stdout, stderr := calendar("list", "--data", data)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, want := range []string{"2020  内置", "2026  内置", "2027  " + imported} {
			if !strings.Contains(stdout, want) {
				t.Errorf("no %q in\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout, "2019") {
			t.Errorf("lists a year that is not loaded:\n%s", stdout)
		}
	})
	t.Run("a missing data directory is refused, not created", func(t *testing.T) {
		t.Chdir(t.TempDir())
		for _, args := range [][]string{{"import", file}, {"list"}, {"import", "--data", "typo", file}} {
			code, _, stderr := calendar(args...)
			if code != 1 || !strings.Contains(stderr, "中没有知识库（xiaoshen.db）") {
				t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
			}
		}
		if entries, _ := os.ReadDir("."); len(entries) != 0 {
			t.Errorf("calendar created %v", entries)
		}
	})
	t.Run("a missing file", func(t *testing.T) {
		if code, _, stderr := calendar("import", "--data", data, "2028.json"); code != 1 || !strings.Contains(stderr, "文件 2028.json 不存在") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

// mustOpenStoreIn creates the database of a data directory, which is all
// the commands that refuse a directory without a KB look for.
func mustOpenStoreIn(t *testing.T, data string) {
	t.Helper()
	st, err := store.Open(filepath.Join(data, "xiaoshen.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}

// waitFor waits until the process logs contain text: a child's output is
// copied by a goroutine and may lag behind its answers.
func waitFor(logs *syncBuffer, text string, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(logs.String(), text) {
			return true
		}
	}
	return false
}

// A hand-edited dictionary with a malformed line, or a truncated HMM model,
// stops the start with the file and line named. gojieba itself would abort
// the process with SIGABRT and a stack dump.
func TestMalformedDictionaryIsReportedNotACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binaryWithDict(t)
	dir := filepath.Dir(bin)
	good := filepath.Join(dir, "dict")
	tests := []struct {
		file string
		edit func([]byte) []byte
		want string
	}{
		{"jieba.dict.utf8", func(words []byte) []byte {
			lines := bytes.SplitAfter(words, []byte("\n"))
			edited := append(bytes.Join(lines[:100], nil), '\n') // line 101 is blank
			return append(edited, bytes.Join(lines[100:], nil)...)
		}, "line 101"},
		{"hmm_model.utf8", func(model []byte) []byte {
			// Cut after a whole line inside the emission probabilities.
			return model[:bytes.LastIndexByte(model[:len(model)/2], '\n')+1]
		}, "ends before the emission probabilities"},
	}
	mustOpenApp(t, quietConfig(filepath.Join(dir, "data"))).Close() // reindex needs a database
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			broken := t.TempDir()
			for _, f := range []string{"jieba.dict.utf8", "hmm_model.utf8"} {
				copyFile(t, filepath.Join(good, f), filepath.Join(broken, f))
			}
			data, err := os.ReadFile(filepath.Join(broken, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(broken, tt.file), tt.edit(data), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "reindex", "--data", filepath.Join(dir, "data"), "--dict", broken).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("reindex with a broken %s: %v, want exit status 1\n%s", tt.file, err, out)
			}
			want := filepath.Join(broken, tt.file)
			if !strings.Contains(string(out), want) || !strings.Contains(string(out), tt.want) || strings.Contains(string(out), "SIGABRT") {
				t.Errorf("output does not name %s and %q (or shows a crash):\n%s", want, tt.want, out)
			}
		})
	}
}

// TestHelpNeverShowsEnvironmentValues: a flag set from the environment
// keeps its built-in default in help, which lands in terminals, logs and
// screenshots; XIAOSHEN_TOKEN is a secret.
func TestHelpNeverShowsEnvironmentValues(t *testing.T) {
	env := map[string]string{
		"XIAOSHEN_TOKEN":     "xs_secret_from_the_environment",
		"XIAOSHEN_SERVER":    "http://server-from-the-environment.invalid",
		"XIAOSHEN_DATA":      "/data-from-the-environment",
		"XIAOSHEN_ADDR":      "addr-from-the-environment:8080",
		"XIAOSHEN_THRESHOLD": "0.4242",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	commands := [][]string{
		{"upload"}, {"export"}, {"entries", "list"}, {"entries", "show"}, {"entries", "delete"}, {"entries", "history"},
		{"serve"}, {"reindex"}, {"check"}, {"backup"}, {"restore"}, {"calendar", "import"}, {"calendar", "list"}, {"healthcheck"},
		{"user", "create"}, {"token", "create"}, {"token", "list"}, {"token", "revoke"},
		{"explain"}, {"calibrate"}, {"import"}, {"overdue"},
	}
	for _, cmd := range commands {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := run(t.Context(), append(cmd, "-h"), &out, &out)
			help := out.String()
			if code != 0 || !strings.Contains(help, "xiaoshen "+strings.Join(cmd, " ")) {
				t.Fatalf("exit %d:\n%s", code, help)
			}
			for k, v := range env {
				if strings.Contains(help, v) {
					t.Errorf("help shows the value of %s:\n%s", k, help)
				}
			}
		})
	}
	t.Run("the usage names the variable", func(t *testing.T) {
		for cmd, vars := range map[string][]string{
			"upload":  {"XIAOSHEN_SERVER", "XIAOSHEN_TOKEN"},
			"export":  {"XIAOSHEN_SERVER", "XIAOSHEN_TOKEN"},
			"overdue": {"XIAOSHEN_DATA"},
			"serve":   {"XIAOSHEN_ADDR", "XIAOSHEN_DATA", "XIAOSHEN_THRESHOLD", "XIAOSHEN_LOG_FORMAT", "XIAOSHEN_LOG_LEVEL", "XIAOSHEN_DICT"},
			"import":  {"XIAOSHEN_DATA"},
			"check":   {"XIAOSHEN_DATA"},
		} {
			var out bytes.Buffer
			run(t.Context(), []string{cmd, "-h"}, &out, &out)
			for _, v := range vars {
				if !strings.Contains(out.String(), v) {
					t.Errorf("%s -h does not name %s:\n%s", cmd, v, out.String())
				}
			}
		}
	})
}

// A word the command does not read is refused rather than dropped: with
// "--seed false" the flag package leaves "false" unread and seeds anyway.
func TestStrayWordsAreRefused(t *testing.T) {
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "问答.csv")
	os.WriteFile(file, []byte("标题,内容\n问,答\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"serve --seed false", []string{"serve", "--data", data, "--seed", "false"}, `多余的参数 "false"：布尔参数请写成 --seed=false`},
		{"serve --metrics false", []string{"serve", "--data", data, "--metrics", "false"}, `多余的参数 "false"：布尔参数请写成 --metrics=false`},
		{"serve with a word", []string{"serve", "--data", data, "extra-arg"}, `多余的参数 "extra-arg"`},
		{"backup --force false", []string{"backup", "--data", data, "--out", filepath.Join(data, "b.db"), "--force", "false"}, `多余的参数 "false"：布尔参数请写成 --force=false`},
		{"check --repair TRUE", []string{"check", "--data", data, "-repair", "TRUE"}, `多余的参数 "TRUE"：布尔参数请写成 --repair=true`},
		{"overdue with a word", []string{"overdue", "--data", data, "extra"}, `多余的参数 "extra"`},
		{"token list with a word", []string{"token", "list", "--data", data, "junk"}, `多余的参数 "junk"`},
		{"user create with a word", []string{"user", "create", "--data", data, "--name", "a", "--role", "admin", "junk"}, `多余的参数 "junk"`},
		{"reindex with a word", []string{"reindex", "--data", data, "now"}, `多余的参数 "now"`},
		{"calendar import --data after the file", []string{"calendar", "import", file, "--data", data}, "参数 --data 应写在 " + strconv.Quote(file) + " 之前"},
		{"upload --column after the file", []string{"upload", "--token", "xs_x", file, "--column=常见问题"}, "参数 --column=常见问题 应写在"},
		{"entries list with a word", []string{"entries", "list", "--server", "http://127.0.0.1:1", "junk"}, `多余的参数 "junk"`},
		{"upload --dry-run false", []string{"upload", "--token", "xs_x", "--dry-run", "false", file}, `多余的参数 "false"：布尔参数请写成 --dry-run=false`},
		{"import --seed false", []string{"import", "--data", data, "--seed", "false", file}, `多余的参数 "false"：布尔参数请写成 --seed=false`},
		{"upload --dry-run yes", []string{"upload", "--column", "faq", "--dry-run", "yes", file}, `多余的参数 "yes"：布尔参数请写成 --dry-run=true`},
		{"explain --corpus false", []string{"explain", "--corpus", "false", "问题"}, `多余的参数 "false"：布尔参数请写成 --corpus=false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(t.Context(), tt.args, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("a refused command wrote to the data directory: %v", entries)
	}

	// Commands that take words still read them, and a word after "--" or
	// after a flag that takes a value is not mistaken for a switch's value.
	takesWords := []struct {
		name string
		args []string
	}{
		{"token revoke", []string{"token", "revoke", "--data", data, "7"}},
		{"entries delete --yes 1", []string{"entries", "delete", "--server", "http://127.0.0.1:1", "--yes", "1"}},
		{"explain a question", []string{"explain", "--data", data, "--top", "2", "true"}},
		{"explain after --", []string{"explain", "--data", data, "--", "false"}},
	}
	for _, tt := range takesWords {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(t.Context(), tt.args, io.Discard, &stderr)
			if code == 2 || strings.Contains(stderr.String(), "多余的参数") {
				t.Errorf("exit %d, stderr %q; want its words read", code, stderr.String())
			}
		})
	}
}
