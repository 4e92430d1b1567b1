package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xiaoshen/kb"
)

// explain reads questions as a reviewer asks why 小申 answered (or did not
// answer) them: the reading, the candidates and the deciding features.
func TestExplain(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"explain", "--corpus", "--top", "2", "二类械注册要交哪些材料", "我的手机13812345678，护照过期了怎么办"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	answered, unanswered, ok := strings.Cut(out, "问题：我的手机")
	if !ok {
		t.Fatalf("second question missing:\n%s", out)
	}
	for _, want := range []string{"意图：materials", "直接答复第 1 条", "1. [faq] 第二类医疗器械产品注册需要提交哪些材料？", "一致", "置信度 1.000", "影响最大的特征：", "score_ratio="} {
		if !strings.Contains(answered, want) {
			t.Errorf("first question: no %q in\n%s", want, answered)
		}
	}
	if !strings.Contains(unanswered, "低于阈值，不直接答复") || !strings.Contains(unanswered, "2. [") {
		t.Errorf("second question: want no answer and two candidates:\n%s", unanswered)
	}
	if strings.Contains(out, "13812345678") {
		t.Errorf("the phone number is shown unmasked:\n%s", out)
	}

	// Where /ask answers by a rule, explain says so.
	stdout.Reset()
	if code := run(t.Context(), []string{"explain", "--corpus", "739号令", "二类械注册", "二类械注册要交哪些材料"}, &stdout, &stderr); code != 0 {
		t.Fatalf("rules: exit %d: %s", code, stderr.String())
	}
	cited, rest, _ := strings.Cut(stdout.String(), "问题：二类械注册\n")
	bare, detail, _ := strings.Cut(rest, "问题：二类械注册要交哪些材料")
	if !strings.Contains(cited, "按规则直接答复：[policy] 医疗器械监督管理条例") || !strings.Contains(cited, "问题引用了文号（国务院令第739号）") {
		t.Errorf("739号令: no rule shown:\n%s", cited)
	}
	if !strings.Contains(bare, "按规则直接答复：[guide] 第二类医疗器械产品注册办事指引") || !strings.Contains(bare, "问题只提到事项“第二类医疗器械产品注册”") {
		t.Errorf("二类械注册: no rule shown:\n%s", bare)
	}
	if strings.Contains(detail, "按规则") {
		t.Errorf("a question the matcher answers shows a rule:\n%s", detail)
	}

	// A data directory that holds no KB is an error, and is not created.
	missing := filepath.Join(t.TempDir(), "nodata")
	stderr.Reset()
	if code := run(t.Context(), []string{"explain", "--data", missing, "问题"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), missing) {
		t.Errorf("missing data dir: exit %d, stderr %q", code, stderr.String())
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("explain created %s", missing)
	}
	stderr.Reset()
	if code := run(t.Context(), []string{"explain", "--corpus"}, &stdout, &stderr); code != 2 {
		t.Errorf("no question: exit %d, want 2 (%s)", code, stderr.String())
	}
}

// explain --data works while a server holds the data directory, on a copy
// of its database, entries added since the start included, and against the
// threshold the deployment runs with.
func TestExplainRunningServer(t *testing.T) {
	dir := t.TempDir()
	a := mustOpenApp(t, quietConfig(dir)) // holds the directory, as serve does
	defer a.Close()
	e := &kb.Entry{Column: kb.ColumnFAQ, Title: "麻醉药品运输证明遗失了怎么补办", Content: "向原发证部门申请补办。", Department: "药品监管处"}
	if err := a.service.CreateEntry(t.Context(), e, "t"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XIAOSHEN_THRESHOLD", "0.99")
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"explain", "--data", dir, "--top", "1", "麻醉药品运输证明丢了怎么补"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "正由运行中的服务使用，改为在其数据库的副本上分析") {
		t.Errorf("no word of the copy: %q", stderr.String())
	}
	for _, want := range []string{"答复阈值 0.990", fmt.Sprintf("1. [faq] 麻醉药品运输证明遗失了怎么补办（条目 %d）", e.ID)} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("no %q in\n%s", want, stdout.String())
		}
	}
	// A value serve would refuse is refused here too, not read as unset.
	for _, bad := range []string{"high", "NaN", "1.5"} {
		t.Setenv("XIAOSHEN_THRESHOLD", bad)
		stderr.Reset()
		if code := run(t.Context(), []string{"explain", "--data", dir, "麻醉药品运输证明丢了怎么补"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `XIAOSHEN_THRESHOLD="`+bad+`"`) {
			t.Errorf("threshold %q: exit %d: %s", bad, code, stderr.String())
		}
	}
}
