package main

import (
	"bufio"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyTree copies a folder, keeping file modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, info.Mode().Perm())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readEnvFile reads KEY=VALUE lines, skipping comments and blank lines, as
// systemd's EnvironmentFile and docker's --env-file do.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: malformed line %q", path, line)
		}
		vars[k] = v
	}
	return vars
}

// TestMakeDistRunsAnywhere runs make dist, copies dist/xiaoshen to another
// directory, and runs it there on the sample settings with the Go module
// cache hidden: the folder must be all a server needs. The systemd unit is
// checked with systemd-analyze when it is installed.
func TestMakeDistRunsAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary with make dist")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	built := filepath.Join(t.TempDir(), "dist", "xiaoshen")
	mk := exec.Command("make", "-C", "../..", "dist", "DIST="+built)
	mk.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	deployed := filepath.Join(t.TempDir(), "opt", "xiaoshen")
	copyTree(t, built, deployed)
	for _, f := range []string{"xiaoshen", "dict/jieba.dict.utf8", "dict/hmm_model.utf8", "xiaoshen.env.example", "xiaoshen.service"} {
		if _, err := os.Stat(filepath.Join(deployed, f)); err != nil {
			t.Errorf("dist lacks %s", f)
		}
	}

	settings := readEnvFile(t, filepath.Join(deployed, "xiaoshen.env.example"))
	for _, k := range []string{"XIAOSHEN_ADDR", "XIAOSHEN_DATA", "XIAOSHEN_LOG_FORMAT", "XIAOSHEN_LOG_LEVEL"} {
		if settings[k] == "" {
			t.Errorf("the sample settings lack %s", k)
		}
	}
	// The sample's values, with the address and data directory of this test.
	addr := freeAddr(t)
	settings["XIAOSHEN_ADDR"] = addr
	settings["XIAOSHEN_DATA"] = filepath.Join(t.TempDir(), "var", "lib", "xiaoshen")
	empty, gopath := t.TempDir(), t.TempDir()
	env := []string{"HOME=" + empty, "GOMODCACHE=" + empty, "GOPATH=" + gopath, "PATH=/usr/bin:/bin", "TMPDIR=" + t.TempDir()}
	for k, v := range settings {
		env = append(env, k+"="+v)
	}
	logs := newSyncBuffer()
	serve := exec.Command(filepath.Join(deployed, "xiaoshen"), "serve")
	serve.Dir, serve.Env = empty, env
	serve.Stdout, serve.Stderr = logs, logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the deployed server did not become ready; logs:\n%s", logs)
		}
	}
	if got := ask(t, addr, "二类械注册要交哪些材料"); got["answered"] != true {
		t.Errorf("not answered: %v", got)
	}
	if !waitFor(logs, `"dict":"`+filepath.Join(deployed, "dict")+`"`, 5*time.Second) {
		t.Errorf("the dictionaries in dist/xiaoshen/dict must be used, with JSON logs as the sample sets; logs:\n%s", logs)
	}
	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := serve.Wait(); err != nil {
		t.Errorf("graceful shutdown: %v; logs:\n%s", err, logs)
	}

	unit, err := os.ReadFile(filepath.Join(deployed, "xiaoshen.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=xiaoshen", "EnvironmentFile=/etc/xiaoshen/xiaoshen.env", "ExecStart=/opt/xiaoshen/xiaoshen serve",
		"StateDirectory=xiaoshen", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the systemd unit lacks %s", want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		local := strings.NewReplacer("/opt/xiaoshen/xiaoshen", filepath.Join(deployed, "xiaoshen"),
			"/etc/xiaoshen/xiaoshen.env", filepath.Join(deployed, "xiaoshen.env.example")).Replace(string(unit))
		path := filepath.Join(t.TempDir(), "xiaoshen.service")
		if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput(); err != nil {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
}

// TestDockerfileRunsTheTestedLayout checks that the image is built with the
// same make dist as above and runs as a non-root user on a /data volume,
// configured by the environment, with a health check.
func TestDockerfileRunsTheTestedLayout(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	dockerfile := string(raw)
	for _, want := range []string{"FROM golang:1.26-", "RUN make dist", "COPY --from=build /src/dist/xiaoshen /opt/xiaoshen",
		"USER 10001:10001", "VOLUME /data", "XIAOSHEN_DATA=/data", "XIAOSHEN_ADDR=0.0.0.0:8080", "HEALTHCHECK", "healthcheck"} {
		if !strings.Contains(dockerfile, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
