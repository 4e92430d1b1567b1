package search_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
	"xiaoshen/search"
)

// entryQuestions lists every title and similar question of the KB.
func entryQuestions(t *testing.T, env *testkb.Env) []string {
	t.Helper()
	var texts []string
	seen := map[string]bool{}
	err := env.Store.EachEntry(context.Background(), func(e *kb.Entry) error {
		for _, q := range e.Questions() {
			if !seen[q] {
				seen[q] = true
				texts = append(texts, q)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return texts
}

// TestAnalysisCacheGivesTheFreshAnalysis checks that a cached candidate
// analysis is exactly what analysing the text now gives, before and after
// a write changes the term statistics.
func TestAnalysisCacheGivesTheFreshAnalysis(t *testing.T) {
	env := testkb.New(t, testkb.Options{})
	texts := entryQuestions(t, env)
	check := func(pass string, wantCached bool) {
		t.Helper()
		for _, text := range texts {
			equal, cached := search.CheckCachedAnalysis(env.Index, text)
			if !equal {
				t.Fatalf("%s: cached analysis of %q differs from a fresh one", pass, text)
			}
			if cached != wantCached {
				t.Fatalf("%s: %q served from the cache = %v, want %v", pass, text, cached, wantCached)
			}
		}
	}
	check("cold", false)
	check("warm", true)

	// A new entry changes document frequencies, so every analysis is made
	// again with the new statistics.
	e := &kb.Entry{Column: kb.ColumnFAQ, Title: "二类医疗器械注册证遗失了怎么补办", Content: "向原发证部门申请补发。", Department: "器械注册处"}
	if err := env.Service.CreateEntry(context.Background(), e, "test"); err != nil {
		t.Fatal(err)
	}
	check("after a write", false)
	check("warm after a write", true)
}

// TestMatchSameWithAndWithoutCache compares Match with the analysis cache
// (cold, then warm) against Match without it on every corpus question.
// The pool of candidates and their full-text scores must be identical.
// Confidences are compared with a tolerance because pairFeatures sums and
// picks partial matches in map order, so two calls of the same Match can
// differ slightly; the exact check of the cached analyses is in
// TestAnalysisCacheGivesTheFreshAnalysis.
func TestMatchSameWithAndWithoutCache(t *testing.T) {
	ctx := context.Background()
	env := testkb.New(t, testkb.Options{})
	questions := readQuestions(t)
	run := func() [][]kb.Candidate {
		out := make([][]kb.Candidate, len(questions))
		for i, q := range questions {
			cands, err := env.Index.Match(ctx, q.Question, 0)
			if err != nil {
				t.Fatal(err)
			}
			sort.Slice(cands, func(a, b int) bool { return cands[a].EntryID < cands[b].EntryID })
			out[i] = cands
		}
		return out
	}
	search.SetAnalysisCache(env.Index, false)
	want := run()
	search.SetAnalysisCache(env.Index, true)
	for _, pass := range []string{"cold", "warm"} {
		got := run()
		var sumDiff, maxDiff float64
		n := 0
		for i, q := range questions {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("%s: %q: %d candidates, want %d", pass, q.Question, len(got[i]), len(want[i]))
			}
			for j := range got[i] {
				g, w := got[i][j], want[i][j]
				if g.EntryID != w.EntryID || g.Score != w.Score || g.Title != w.Title || g.Department != w.Department || g.Matter != w.Matter {
					t.Fatalf("%s: %q: candidate %+v, want %+v", pass, q.Question, g, w)
				}
				d := math.Abs(g.Confidence - w.Confidence)
				sumDiff += d
				maxDiff = math.Max(maxDiff, d)
				n++
			}
		}
		t.Logf("%s: mean %.2g max %.2g", pass, sumDiff/float64(n), maxDiff)
		if mean := sumDiff / float64(max(n, 1)); mean > 1e-3 || maxDiff > 0.1 {
			t.Errorf("%s: confidence differs from Match without the cache by %.2g on average, %.2g at most", pass, mean, maxDiff)
		}
	}
}

// TestSearchesDuringUpload runs questions while a large upload is indexed:
// none fails, and afterwards every new entry is found and counted.
func TestSearchesDuringUpload(t *testing.T) {
	ctx := context.Background()
	env := testkb.New(t, testkb.Options{})
	before, err := env.Index.Count()
	if err != nil {
		t.Fatal(err)
	}
	var entries []*kb.Entry
	for i := 0; i < 1200; i++ {
		entries = append(entries, &kb.Entry{ID: int64(100000 + i), Column: kb.ColumnFAQ, Department: "综合处",
			Title: fmt.Sprintf("第%d号测试事项怎么办理", i), Content: "按办事指南办理。"})
	}
	last := entries[len(entries)-1]
	last.Title = "乙类大型医用设备配置许可证怎么换证"
	done := make(chan error, 1)
	go func() { done <- env.Index.Put(ctx, entries...) }()
	questions := readQuestions(t)
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			n, err := env.Index.Count()
			if err != nil || n != before+uint64(len(entries)) {
				t.Fatalf("count = %d (%v), want %d", n, err, before+uint64(len(entries)))
			}
			cands, err := env.Index.Match(ctx, last.Title, 1)
			if err != nil || len(cands) == 0 || cands[0].EntryID != last.ID {
				t.Fatalf("new entry not matched: %+v, %v", cands, err)
			}
			return
		default:
		}
		if _, err := env.Index.Match(ctx, questions[i%len(questions)].Question, 3); err != nil {
			t.Fatal(err)
		}
	}
}
