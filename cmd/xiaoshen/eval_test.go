package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xiaoshen/kb"
	"xiaoshen/search"
)

// Floors a little under what the committed model reaches on the Tianchi
// dev set (docs/quality.md): a change that loses ranking or confidence
// quality fails here.
const (
	floorTianchiHitAt1      = 0.915 // reached 0.923 (0.922 cross-validated)
	floorTianchiBestAt10    = 0.72  // reached 0.741 (0.741 cross-validated): paraphrases answered correctly with ≤10% hard negatives answered with their look-alike
	floorTianchiBaselineGap = 0.25  // the project must stay this far above the cjk-bigram baseline on that figure (reached 0.334)
)

// sharedEval returns the shared eval folder beside the project, for a
// test too long for -short (why says what it runs). Outside CI a checkout
// without it skips the test; in CI it must be there.
func sharedEval(t *testing.T, why string) string {
	t.Helper()
	const dir = "../../../shared/eval"
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the shared eval data must be beside the project in CI: %v", err)
		}
		t.Skipf("no shared eval data: %v", err)
	}
	if testing.Short() {
		t.Skip(why)
	}
	return dir
}

// TestTianchiDevFloors runs xiaoshen eval's evaluation on the shared
// Tianchi dev set, the project and the baselines side by side.
func TestTianchiDevFloors(t *testing.T) {
	path := filepath.Join(sharedEval(t, "runs 2,002 questions"), "tianchi-dev.csv")
	set, err := search.LoadTianchi(path)
	if err != nil {
		t.Fatal(err)
	}
	reports, err := evaluateSet(t.Context(), set, "", "", 0, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	project, cjk := reports[0], reports[1]
	t.Logf("xiaoshen: hit@1 %.3f, answered correctly at ≤10%% look-alike %.3f; cjk-bigram: %.3f, %.3f", project.HitAt1, project.BestAt10, cjk.HitAt1, cjk.BestAt10)
	if project.HitAt1 < floorTianchiHitAt1 {
		t.Errorf("hit@1 = %.3f, below the floor %.2f", project.HitAt1, floorTianchiHitAt1)
	}
	if project.BestAt10 < floorTianchiBestAt10 {
		t.Errorf("answered correctly = %.3f, below the floor %.2f", project.BestAt10, floorTianchiBestAt10)
	}
	if project.BestAt10 < cjk.BestAt10+floorTianchiBaselineGap {
		t.Errorf("answered correctly %.3f is not %.2f above the cjk-bigram baseline's %.3f", project.BestAt10, floorTianchiBaselineGap, cjk.BestAt10)
	}
}

// A malformed evaluation file stops eval and fit with its line named,
// before any figure is printed or any model written.
func TestEvalAndFitRefuseMalformedSets(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "dev.csv")
	rows := "category,query1,query2,label\n" +
		"哮喘,过敏性哮喘怎么治疗,过敏性哮喘要怎么治,1\n" +
		"哮喘,过敏性哮喘怎么治疗,过敏性哮喘是什么原因引起的\n"
	if err := os.WriteFile(csv, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "model.json")
	for _, args := range [][]string{
		{"eval", "--tianchi", csv},
		{"fit", "--tianchi", csv, "--out", out},
	} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), args, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "dev.csv:3: 应有 4 列，实有 3 列") {
			t.Errorf("%s: exit %d, stderr %q", args[0], code, stderr.String())
		}
		if strings.Contains(stdout.String(), "hit@1") {
			t.Errorf("%s printed figures for a set it could not read:\n%s", args[0], stdout.String())
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("fit wrote a model from a malformed set: %v", err)
	}
}

// eval --data measures a deployment's own KB, entries written on the review
// page included (named by #ID), while its server runs, and leaves its
// questions and statistics as they were.
func TestEvalDeployment(t *testing.T) {
	dir := t.TempDir()
	a := mustOpenApp(t, quietConfig(dir)) // holds the data directory, as a running server does
	defer a.Close()
	ctx := t.Context()
	own := &kb.Entry{Column: kb.ColumnFAQ, Title: "麻醉药品运输证明遗失了怎么补办", Content: "向原发证部门申请补办。", Department: "药品监管处"}
	if err := a.service.CreateEntry(ctx, own, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.service.Ask(ctx, kb.AskRequest{Question: "二类械注册要交哪些材料", Channel: "test"}); err != nil {
		t.Fatal(err)
	}
	admin := &kb.Principal{Name: "t", Role: kb.RoleAdmin}
	before, err := a.service.Stats(ctx, admin, kb.StatsFilter{})
	if err != nil || before.Asked != 1 {
		t.Fatalf("stats before: %+v, %v", before, err)
	}

	questions := filepath.Join(t.TempDir(), "own.tsv")
	rows := "question\texpected\n" +
		"二类械首次注册要准备哪些资料\tfaq-dev2-materials\n" +
		fmt.Sprintf("麻醉药品运输证明丢了怎么补\t#%d\n", own.ID) +
		"护照过期了怎么办\t-\n"
	if err := os.WriteFile(questions, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(t.TempDir(), "dump.tsv")
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"eval", "--data", dir, "--questions", questions, "--dump", dump}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "改写问法 2 条，难负例 0 条，未覆盖 1 条") {
		t.Errorf("set sizes missing:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "只有 3 个问题，不给建议阈值") {
		t.Errorf("a threshold suggested from 3 questions:\n%s", stdout.String())
	}
	if strings.Contains(stdout.String(), "cjk-bigram") {
		t.Errorf("baselines run on a deployment without being asked:\n%s", stdout.String())
	}
	raw, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"paraphrase\t二类械首次注册要准备哪些资料\t第二类医疗器械产品注册需要提交哪些材料？\t第二类医疗器械产品注册需要提交哪些材料？\t",
		"paraphrase\t麻醉药品运输证明丢了怎么补\t麻醉药品运输证明遗失了怎么补办\t麻醉药品运输证明遗失了怎么补办\t",
		"uncovered\t护照过期了怎么办\t\t",
	}
	for _, w := range want {
		if !strings.Contains(string(raw), w) {
			t.Errorf("dump lacks %q:\n%s", w, raw)
		}
	}

	after, err := a.service.Stats(ctx, admin, kb.StatsFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Asked != before.Asked || after.Unanswered != before.Unanswered {
		t.Errorf("the evaluation was recorded in the deployment: asked %d → %d, unanswered %d → %d", before.Asked, after.Asked, before.Unanswered, after.Unanswered)
	}

	// Questions reviewers dismissed as out of scope join as uncovered
	// ones, once each; those dismissed for other reasons do not.
	for q, reason := range map[string]string{"护照过期了怎么办": kb.DismissOutOfScope, "社保卡丢了怎么补办": kb.DismissOutOfScope, "哈哈哈哈哈": kb.DismissInvalid} {
		res, err := a.service.Ask(ctx, kb.AskRequest{Question: q, Channel: "test"})
		if err != nil || res.Unanswered == nil {
			t.Fatalf("ask %q: %+v, %v", q, res, err)
		}
		if _, err := a.service.Dismiss(ctx, admin, res.Unanswered.ID, reason, 0); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"eval", "--data", dir, "--questions", questions, "--out-of-scope"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--out-of-scope: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "改写问法 2 条，难负例 0 条，未覆盖 2 条") || !strings.Contains(stderr.String(), "加入审核页驳回为“超出本单位职能”的问题 1 个") {
		t.Errorf("--out-of-scope: stdout\n%s\nstderr\n%s", stdout.String(), stderr.String())
	}

	// Maintainers' own files: an Excel sheet and a GBK CSV, in one folder.
	folder := t.TempDir()
	sheet := xlsxFile(t, [][]any{{"问题", "预期条目"}, {"二类械首次注册要准备哪些资料", "faq-dev2-materials"}, {}, {"护照过期了怎么办", "-"}})
	if err := os.WriteFile(filepath.Join(folder, "own.xlsx"), sheet, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "own.csv"), gbk(t, fmt.Sprintf("问题,预期条目\n麻醉药品运输证明丢了怎么补,#%d\n", own.ID)), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(ctx, []string{"eval", "--data", dir, "--questions", folder}, &stdout, &stderr); code != 0 {
		t.Fatalf("xlsx and csv: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "改写问法 2 条，难负例 0 条，未覆盖 1 条") {
		t.Errorf("xlsx and csv: set sizes missing:\n%s", stdout.String())
	}
	if err := os.WriteFile(filepath.Join(folder, "own.csv"), gbk(t, "问题,预期条目\n麻醉药品运输证明丢了怎么补,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run(ctx, []string{"eval", "--data", dir, "--questions", folder}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "own.csv:2 [expected]: 预期条目编号为空") {
		t.Errorf("csv without an expected entry: exit %d, stderr %q", code, stderr.String())
	}

	// With the corpus questions (896, 298 of them uncovered) the suggested
	// threshold keeps to the rule it states.
	stdout.Reset()
	if code := run(ctx, []string{"eval", "--data", dir, "--questions", "../../corpus/testdata"}, &stdout, io.Discard); code != 0 {
		t.Fatalf("corpus questions: exit %d", code)
	}
	var th, right, wrong, uncovered float64
	i := strings.Index(stdout.String(), "建议阈值 ")
	if i < 0 {
		t.Fatalf("no suggested threshold:\n%s", stdout.String())
	}
	if _, err := fmt.Sscanf(stdout.String()[i:], "建议阈值 %f", &th); err != nil {
		t.Fatal(err)
	}
	j := strings.Index(stdout.String(), "按此阈值答对 ")
	if _, err := fmt.Sscanf(stdout.String()[j:], "按此阈值答对 %f、答错 %f，未覆盖的问题被答复 %f。", &right, &wrong, &uncovered); err != nil {
		t.Fatalf("%v in %q", err, stdout.String()[j:])
	}
	if th <= 0 || th >= 1 || wrong > 0.03 || uncovered > 0.05 || right < 0.2 {
		t.Errorf("suggested %.3f: right %.3f, wrong %.3f, uncovered answered %.3f", th, right, wrong, uncovered)
	}

	// The expected ids are checked against the deployment's entries.
	if err := os.WriteFile(questions, []byte("question\texpected\n麻醉药品运输证明丢了怎么补\t#999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run(ctx, []string{"eval", "--data", dir, "--questions", questions}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), `own.tsv:2 [expected]: 知识库中没有编号为 "#999999" 的条目`) {
		t.Errorf("unknown id: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run(ctx, []string{"eval", "--questions", questions}, io.Discard, &stderr); code != 2 {
		t.Errorf("--questions without --data: exit %d, stderr %q", code, stderr.String())
	}
}
