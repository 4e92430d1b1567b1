package search_test

import (
	"context"
	"os"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/search"
)

func TestDebugMatch(t *testing.T) {
	q := os.Getenv("Q")
	if q == "" {
		t.Skip()
	}
	env := testkb.New(t, testkb.Options{})
	seg := testkb.MustSegmenter(t)
	t.Log(seg.Terms(q, search.ModePrecise), seg.Terms(q, search.ModeSearch))
	cands, _ := env.Index.Match(context.Background(), q, 5)
	for _, c := range cands {
		t.Logf("%.3f %.3f %s | %s | %v", c.Confidence, c.Score, c.Title, c.MatchedQuestion, seg.Terms(c.MatchedQuestion, search.ModeSearch))
	}
}
