package search_test

import (
	"context"
	"math"
	"testing"

	"xiaoshen/internal/testkb"
)

// TestMatchIsRepeatable asks every corpus question on two separately built
// indexes of the same KB: the rankings must be the same, and the
// confidences equal up to float rounding (bleve's scores are sums whose
// order follows its segment layout).
func TestMatchIsRepeatable(t *testing.T) {
	a, b := testkb.New(t, testkb.Options{}), testkb.New(t, testkb.Options{})
	ctx := context.Background()
	diffs := 0
	for _, q := range readQuestions(t) {
		ca, err := a.Index.Match(ctx, q.Question, 5)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := b.Index.Match(ctx, q.Question, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(ca) != len(cb) {
			diffs++
			continue
		}
		for i := range ca {
			if ca[i].EntryID != cb[i].EntryID || math.Abs(ca[i].Confidence-cb[i].Confidence) > 1e-9 {
				diffs++
				t.Logf("%q: %d %.17g vs %d %.17g", q.Question, ca[i].EntryID, ca[i].Confidence, cb[i].EntryID, cb[i].Confidence)
				break
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d questions matched differently on two builds of the same KB", diffs)
	}
}
