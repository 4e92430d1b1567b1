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

	"xiaoshen/internal/evalkb"
	"xiaoshen/kb"
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

// A calibration is written when forced; fitted again on the same
// questions it gains nothing and is not written; once written, the next start
// uses it, and eval, explain and check on the data directory do too. A
// stale file is set aside with a warning; a damaged one stops serve and
// fails check, but not the commands that replace or bypass it.
func TestCalibrate(t *testing.T) {
	dir := t.TempDir()
	running := mustOpenApp(t, quietConfig(dir)) // holds the data directory, as a running server does
	ctx := t.Context()
	calPath := filepath.Join(dir, search.CalibrationFileName)
	calibrate := func(args ...string) (code int, stdout, stderr string) {
		var out, errs bytes.Buffer
		code = run(ctx, append([]string{"calibrate", "--data", dir}, args...), &out, &errs)
		return code, out.String(), errs.String()
	}
	noFile := func(what string) {
		t.Helper()
		if _, err := os.Stat(calPath); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s wrote %s: %v", what, calPath, err)
		}
	}

	few := filepath.Join(t.TempDir(), "few.tsv")
	if err := os.WriteFile(few, []byte("question\texpected\n二类械首次注册要准备哪些资料\tfaq-dev2-materials\n护照过期了怎么办\t-\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := calibrate("--questions", few); code == 0 || !strings.Contains(stderr, "只有 2 个问题：校准至少需要 50 个") {
		t.Errorf("two questions: exit %d, stderr %q", code, stderr)
	}
	// A malformed file is reported before the KB is copied.
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	if err := os.WriteFile(bad, []byte("question\texpected\n\tfaq-dev2-materials\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"calibrate", "eval"} {
		var stderr bytes.Buffer
		code := run(ctx, []string{cmd, "--data", dir, "--questions", bad}, io.Discard, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "bad.tsv:2 [question]: 问题为空") || strings.Contains(stderr.String(), "知识库副本") {
			t.Errorf("%s with an empty question: exit %d, stderr %q", cmd, code, stderr.String())
		}
	}
	// 171 covered questions and no uncovered one: the threshold would not
	// see what it must not answer.
	if code, _, stderr := calibrate("--questions", "../../corpus/testdata/questions-paraphrase2.tsv"); code == 0 || !strings.Contains(stderr, "知识库未覆盖的问题（预期条目写 -）只有 0 个：至少需要 10 个") {
		t.Errorf("no uncovered questions: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := calibrate("--questions", "../../corpus/testdata", "--dry-run"); code != 0 {
		t.Fatalf("dry run: exit %d", code)
	}
	noFile("a refused or dry run")

	code, out, stderr := calibrate("--questions", "../../corpus/testdata", "--force")
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	// Columns: the calibration in use, then the new one out of fold.
	wrong, uncovered := reportRow(t, out, "answered wrongly @thr"), reportRow(t, out, "uncovered answered @thr")
	if wrong[1] > 0.03 || uncovered[1] > 0.05 {
		t.Errorf("new calibration, cross-validated: wrong %.3f, uncovered answered %.3f; want ≤ 0.03, ≤ 0.05", wrong[1], uncovered[1])
	}
	c, err := search.ReadCalibration(calPath)
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile.Name != "deployment" || c.Questions != corpusQuestionCount(t) || c.Entries == 0 || c.Model != search.DefaultModel.Fingerprint() {
		t.Errorf("calibration file: %+v", c)
	}
	if !strings.Contains(out, fmt.Sprintf("已写入 %s：服务下次启动时使用（阈值 %.3f）", calPath, c.Profile.Threshold)) {
		t.Errorf("output does not say what was written:\n%s", out)
	}
	// Fitted again on the same questions, out of fold, a calibration gains
	// nothing over the one fitted on all of them: it is not written.
	written, err := os.ReadFile(calPath)
	if err != nil {
		t.Fatal(err)
	}
	code, again, stderr := calibrate("--questions", "../../corpus/testdata")
	if code != 0 || !strings.Contains(again, "未写入：") || strings.Contains(again, "已写入") {
		t.Fatalf("refit on the deployment calibration's own questions: exit %d, stdout:\n%s\nstderr: %s", code, again, stderr)
	}
	if now, _ := os.ReadFile(calPath); !bytes.Equal(now, written) {
		t.Error("a refit that gains nothing replaced the calibration file")
	}
	running.Close()

	var stdoutBuf bytes.Buffer
	if code := run(ctx, []string{"check", "--data", dir}, &stdoutBuf, io.Discard); code != 0 || !strings.Contains(stdoutBuf.String(), fmt.Sprintf("置信度校准：本部署的（deployment，%s，%d 个问题，", calPath, corpusQuestionCount(t))) {
		t.Errorf("check: exit %d, stdout %q", code, stdoutBuf.String())
	}
	serveConfig := quietConfig(dir)
	serveConfig.Calibration = calPath
	a := mustOpenApp(t, serveConfig)
	if a.index.Model().Profile != "deployment" || a.service.Threshold != c.Profile.Threshold {
		t.Errorf("after restart: calibration %q, threshold %.3f; want deployment, %.3f", a.index.Model().Profile, a.service.Threshold, c.Profile.Threshold)
	}
	// eval and explain work on a copy while it runs, with its calibration.
	var stderrBuf bytes.Buffer
	if code := run(ctx, []string{"eval", "--data", dir, "--questions", few}, io.Discard, &stderrBuf); code != 0 || !strings.Contains(stderrBuf.String(), fmt.Sprintf("校准：deployment，阈值 %.3f", c.Profile.Threshold)) {
		t.Errorf("eval --data: exit %d, stderr %q", code, stderrBuf.String())
	}
	stdoutBuf.Reset()
	if code := run(ctx, []string{"explain", "--data", dir, "二类械注册要交哪些材料"}, &stdoutBuf, io.Discard); code != 0 || !strings.Contains(stdoutBuf.String(), fmt.Sprintf("答复阈值 %.3f（校准：deployment）", c.Profile.Threshold)) {
		t.Errorf("explain --data: exit %d, stdout %q", code, stdoutBuf.String())
	}
	a.Close()

	// A calibration fitted with another model is set aside, loudly, even
	// when that model's calibration read one input fewer: an upgrade must
	// not stop the start.
	stale := *c
	stale.Model = "0000000000000000"
	stale.Profile.Calibration = c.Profile.Calibration[1:]
	if err := search.WriteCalibration(calPath, &stale); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	serveConfig.Logger = newLogger(&logs, "text", "info")
	a = mustOpenApp(t, serveConfig)
	if a.index.Model().Profile != "corpus" || !strings.Contains(logs.String(), "deployment calibration fitted with another model") {
		t.Errorf("stale calibration: profile %q, logs:\n%s", a.index.Model().Profile, logs.String())
	}
	a.Close()
	stdoutBuf.Reset()
	if code := run(ctx, []string{"check", "--data", dir}, &stdoutBuf, io.Discard); code != 0 || !strings.Contains(stdoutBuf.String(), "是用另一版本的模型拟合的，服务将改用内置校准（corpus，") {
		t.Errorf("check with a stale calibration: exit %d, stdout %q", code, stdoutBuf.String())
	}
	stderrBuf.Reset()
	if code := run(ctx, []string{"eval", "--data", dir, "--questions", few}, io.Discard, &stderrBuf); code != 0 ||
		!strings.Contains(stderrBuf.String(), "注意：不使用本部署的校准，改用内置校准：calibration "+calPath+": search: the calibration was fitted with another model") ||
		!strings.Contains(stderrBuf.String(), "校准：corpus") {
		t.Errorf("eval --data with a stale calibration: exit %d, stderr %q", code, stderrBuf.String())
	}

	// A damaged file stops the start and names itself; check fails on it;
	// reindex does not read it; calibrate sets it aside and replaces it.
	if err := os.WriteFile(calPath, fmt.Appendf(nil, `{"profile":{"name":"deployment","calibration":[1,2],"threshold":0.7},"model":%q}`, search.DefaultModel.Fingerprint()), 0o644); err != nil {
		t.Fatal(err)
	}
	damaged := fmt.Sprintf("%s: [profile.calibration]: want %d numbers, got 2", calPath, len(search.DefaultModel.Calibration))
	if _, err := openApp(ctx, serveConfig); err == nil || !strings.Contains(err.Error(), damaged) {
		t.Errorf("damaged calibration: %v", err)
	}
	stdoutBuf.Reset()
	if code := run(ctx, []string{"check", "--data", dir}, &stdoutBuf, io.Discard); code != 1 || !strings.Contains(stdoutBuf.String(), damaged) || !strings.Contains(stdoutBuf.String(), "服务将无法启动") {
		t.Errorf("check with a damaged calibration: exit %d, stdout %q", code, stdoutBuf.String())
	}
	if code := run(ctx, []string{"reindex", "--data", dir}, io.Discard, io.Discard); code != 0 {
		t.Errorf("reindex with a damaged calibration: exit %d", code)
	}
	code, _, stderr = calibrate("--questions", "../../corpus/testdata", "--force")
	if code != 0 || !strings.Contains(stderr, "注意：不使用本部署的校准，改用内置校准：calibration "+damaged) {
		t.Errorf("calibrate over a damaged file: exit %d, stderr %q", code, stderr)
	}
	if _, err := search.ReadCalibration(calPath); err != nil {
		t.Errorf("calibrate did not replace the damaged file: %v", err)
	}
}

// In a KB far from the corpus the built-in confidence overstates how often
// it is right; a calibration fitted there reads true again, and is written
// unless it answers fewer questions correctly under the same rule.
func TestCalibrateLargerKB(t *testing.T) {
	evalDir := sharedEval(t, "builds an 8,000-entry KB")
	ctx := t.Context()
	kbSet, err := evalkb.Load(evalDir, 8000)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := quietConfig(dir)
	cfg.Seed = false
	a := mustOpenApp(t, cfg)
	if err := a.store.CreateEntries(ctx, kbSet.Entries, kb.SeedActor); err != nil {
		t.Fatal(err)
	}
	a.Close()

	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"calibrate", "--data", dir, "--questions", "../../corpus/testdata"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	ece := reportRow(t, out, "calibration error (ECE)")
	t.Logf("calibration error: built-in %.3f, fitted (cross-validated) %.3f", ece[0], ece[1])
	if ece[1] > 0.05 || ece[1] > ece[0]-0.03 {
		t.Errorf("calibration error: built-in %.3f, fitted %.3f; want the fitted one ≤ 0.05 and 0.03 below", ece[0], ece[1])
	}
	var current, fitted, currentTh, fittedTh float64
	i := strings.Index(out, "当前校准取阈值")
	if _, err := fmt.Sscanf(out[i:], "当前校准取阈值 %f 时答对 %f；新校准（交叉验证）取阈值 %f 时答对 %f。", &currentTh, &current, &fittedTh, &fitted); err != nil {
		t.Fatalf("%v in %q", err, out[i:])
	}
	// Within a point of the built-in under the same rule, the far smaller
	// calibration error decides and the file is written; answering fewer,
	// it is not, and the user is told the threshold that keeps the rule
	// with the built-in one. Which way it goes depends on the questions
	// and the model (with the corpus questions of 2026-11-27 one refit
	// answered 0.266 against the built-in one's 0.298 at the rule, the
	// next 0.298 against 0.294).
	t.Logf("under the same rule: built-in answers %.3f correctly at %.3f, fitted %.3f at %.3f", current, currentTh, fitted, fittedTh)
	// The shares are printed to three decimals: at the tie's edge, within
	// that rounding, either verdict follows the rule.
	const printed = 0.001
	_, err = search.ReadCalibration(filepath.Join(dir, search.CalibrationFileName))
	switch {
	case fitted >= current-answeredTie+printed && err != nil:
		t.Errorf("as good under the rule and better calibrated, yet not written: %v\n%s", err, out)
	case fitted < current-answeredTie-printed && (err == nil || !strings.Contains(out, fmt.Sprintf("未写入：只调整阈值即可（在服务的环境中设置 XIAOSHEN_THRESHOLD=%.3f）", currentTh))):
		t.Errorf("answering fewer under the rule, written (%v) or without the threshold to set:\n%s", err, out)
	}
}

// The verdict: more answered correctly under the rule wins; within a point
// either way, the smaller calibration error does; and a refusal says which.
func TestBetterCalibration(t *testing.T) {
	report := func(correct, ece float64) search.Report {
		return search.Report{AnsweredCorrect: correct, CalibrationError: ece}
	}
	tests := []struct {
		name                  string
		fitted                search.Report
		current, currentError float64
		want                  bool
		why                   string
	}{
		{"answers more", report(0.36, 0.08), 0.34, 0.05, true, ""},
		{"answers fewer", report(0.33, 0.02), 0.345, 0.12, false, "新校准按同一规则答对 0.330，比当前校准的 0.345 少"},
		{"a tie, better calibrated", report(0.341, 0.043), 0.344, 0.124, true, ""},
		{"a tie, worse calibrated", report(0.349, 0.036), 0.344, 0.033, false, "相差不到 1 个百分点（0.349 对 0.344），校准误差也不比它小 0.020 以上（0.036 对 0.033）"},
		{"a tie, as well calibrated", report(0.351, 0.0318), 0.354, 0.0321, false, "校准误差也不比它小 0.020 以上（0.032 对 0.032）"},
		// A refit on the current calibration's own questions measured this:
		// a smaller error, but by less than the measurement spreads.
		{"a tie, better calibrated within the noise", report(0.339, 0.044), 0.341, 0.057, false, "校准误差也不比它小 0.020 以上（0.044 对 0.057）"},
	}
	for _, tt := range tests {
		better, why := betterCalibration(tt.fitted, report(tt.current, 0), tt.currentError)
		if better != tt.want || !strings.Contains(why, tt.why) || (better && why != "") {
			t.Errorf("%s: betterCalibration = %v, %q; want %v, %q", tt.name, better, why, tt.want, tt.why)
		}
	}
}

// corpusQuestionCount counts the labelled questions of corpus/testdata: a
// line each after every file's header.
func corpusQuestionCount(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("../../corpus/testdata/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus questions: %v", err)
	}
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(strings.TrimSpace(string(raw)), "\n")
	}
	return n
}
