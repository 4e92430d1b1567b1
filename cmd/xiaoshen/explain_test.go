package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
