package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xiaoshen/search"
)

// reportRow returns the figures of one row of a side-by-side report.
func reportRow(t *testing.T, out, name string) []float64 {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, name+" ") {
			continue
		}
		var got []float64
		for _, f := range strings.Fields(strings.TrimPrefix(line, name)) {
			var v float64
			if _, err := fmt.Sscan(f, &v); err != nil {
				t.Fatalf("row %q: %v", line, err)
			}
			got = append(got, v)
		}
		return got
	}
	t.Fatalf("no row %q in:\n%s", name, out)
	return nil
}

// A deployment fits its confidence to its own questions while its server
// runs; the next start uses it, and eval and explain on the data
// directory do too.
func TestCalibrate(t *testing.T) {
	dir := t.TempDir()
	running := mustOpenApp(t, quietConfig(dir)) // holds the data directory, as a running server does
	ctx := t.Context()
	calPath := filepath.Join(dir, search.CalibrationFileName)

	few := filepath.Join(t.TempDir(), "few.tsv")
	if err := os.WriteFile(few, []byte("question\texpected\n二类械首次注册要准备哪些资料\tfaq-dev2-materials\n护照过期了怎么办\t-\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"calibrate", "--data", dir, "--questions", few}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "只有 2 个问题：校准至少需要 50 个") {
		t.Errorf("two questions: exit %d, stderr %q", code, stderr.String())
	}
	// A malformed file is reported before the KB is copied.
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	if err := os.WriteFile(bad, []byte("question\texpected\n\tfaq-dev2-materials\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"calibrate", "eval"} {
		stderr.Reset()
		code := run(ctx, []string{cmd, "--data", dir, "--questions", bad}, io.Discard, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "bad.tsv:2 [question]: 问题为空") || strings.Contains(stderr.String(), "知识库副本") {
			t.Errorf("%s with an empty question: exit %d, stderr %q", cmd, code, stderr.String())
		}
	}
	stdout.Reset()
	if code := run(ctx, []string{"calibrate", "--data", dir, "--questions", "../../corpus/testdata", "--dry-run"}, &stdout, io.Discard); code != 0 {
		t.Fatalf("dry run: exit %d", code)
	}
	if _, err := os.Stat(calPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused or dry run wrote %s: %v", calPath, err)
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"calibrate", "--data", dir, "--questions", "../../corpus/testdata"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	// Columns: the calibration in use, then the new one out of fold.
	wrong, uncovered := reportRow(t, out, "answered wrongly @thr"), reportRow(t, out, "uncovered answered @thr")
	right, ece := reportRow(t, out, "answered correctly @thr"), reportRow(t, out, "calibration error (ECE)")
	if wrong[1] > 0.03 || uncovered[1] > 0.05 || right[1] < 0.3 {
		t.Errorf("new calibration, cross-validated: right %.3f, wrong %.3f, uncovered answered %.3f; want wrong ≤ 0.03, uncovered ≤ 0.05", right[1], wrong[1], uncovered[1])
	}
	// The confidence reads as the chance of being right, out of fold.
	if ece[1] > 0.06 {
		t.Errorf("new calibration's calibration error %.3f, want ≤ 0.06", ece[1])
	}
	c, err := search.ReadCalibration(calPath)
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile.Name != "deployment" || c.Questions != 578 || c.Entries == 0 || c.Model != search.DefaultModel.Fingerprint() {
		t.Errorf("calibration file: %+v", c)
	}
	if !strings.Contains(out, fmt.Sprintf("阈值 %.3f", c.Profile.Threshold)) || !strings.Contains(out, "服务下次启动时使用") {
		t.Errorf("output does not say what was written:\n%s", out)
	}
	// The running server keeps its calibration until it restarts.
	if got := running.index.Model().Profile; got != "corpus" {
		t.Errorf("running app's calibration changed to %q", got)
	}
	running.Close()
	stdout.Reset()
	if code := run(ctx, []string{"check", "--data", dir}, &stdout, io.Discard); code != 0 || !strings.Contains(stdout.String(), fmt.Sprintf("置信度校准：本部署的（%s，阈值 %.3f）", calPath, c.Profile.Threshold)) {
		t.Errorf("check: exit %d, stdout %q", code, stdout.String())
	}

	a := mustOpenApp(t, quietConfig(dir))
	if a.index.Model().Profile != "deployment" || a.service.Threshold != c.Profile.Threshold {
		t.Errorf("after restart: calibration %q, threshold %.3f; want deployment, %.3f", a.index.Model().Profile, a.service.Threshold, c.Profile.Threshold)
	}
	// eval and explain work on a copy while it runs, with its calibration.
	stderr.Reset()
	if code := run(ctx, []string{"eval", "--data", dir, "--questions", few}, io.Discard, &stderr); code != 0 || !strings.Contains(stderr.String(), fmt.Sprintf("校准：deployment，阈值 %.3f", c.Profile.Threshold)) {
		t.Errorf("eval --data: exit %d, stderr %q", code, stderr.String())
	}
	stdout.Reset()
	if code := run(ctx, []string{"explain", "--data", dir, "二类械注册要交哪些材料"}, &stdout, io.Discard); code != 0 || !strings.Contains(stdout.String(), fmt.Sprintf("答复阈值 %.3f", c.Profile.Threshold)) {
		t.Errorf("explain --data: exit %d, stdout %q", code, stdout.String())
	}
	a.Close()

	// A calibration fitted with another model is set aside, loudly.
	stale := *c
	stale.Model = "0000000000000000"
	if err := search.WriteCalibration(calPath, &stale); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg := quietConfig(dir)
	cfg.Logger = newLogger(&logs, "text", "info")
	a = mustOpenApp(t, cfg)
	if a.index.Model().Profile != "corpus" || !strings.Contains(logs.String(), "deployment calibration fitted with another model") {
		t.Errorf("stale calibration: profile %q, logs:\n%s", a.index.Model().Profile, logs.String())
	}
	a.Close()
	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"check", "--data", dir}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "置信度校准：内置") || !strings.Contains(stderr.String(), "fitted with another model") {
		t.Errorf("check with a stale calibration: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}

	// A damaged file stops the start and names itself.
	if err := os.WriteFile(calPath, []byte(`{"profile":{"name":"deployment","calibration":[1,2],"threshold":0.7},"model":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openApp(ctx, quietConfig(dir)); err == nil || !strings.Contains(err.Error(), calPath+" [profile.calibration]: want 7 numbers, got 2") {
		t.Errorf("damaged calibration: %v", err)
	}
}
