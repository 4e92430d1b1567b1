package kb

import (
	"context"
	"strings"
	"testing"
)

// openWordings is a review store holding only open items' wordings.
type openWordings struct {
	ReviewStore
	items map[int64][]string
}

func (o openWordings) OpenReviewWordings(context.Context, string) (map[int64][]string, error) {
	return o.items, nil
}

// wordAnalyzer weighs each character 1 and reads 费用 as the fees intent.
type wordAnalyzer struct{}

func (wordAnalyzer) Signature(q string) QuestionSignature {
	sig := QuestionSignature{Terms: map[string]float64{}}
	for _, r := range q {
		sig.Terms[string(r)] = 1
	}
	if strings.Contains(q, "费用") {
		sig.Intents = []string{"fees"}
	}
	return sig
}

// TestGroupCacheKeepsEachWordingOnce checks that a wording asked again and
// again is compared once, not once per ask, and that grouping still finds
// its item and keeps other intents apart.
func TestGroupCacheKeepsEachWordingOnce(t *testing.T) {
	ctx := context.Background()
	s := &Service{Reviews: openWordings{items: map[int64][]string{7: {"护照过期怎么办"}, 9: {"护照补办费用"}}}, Analyzer: wordAnalyzer{}}
	sig := s.Analyzer.Signature("护照过期了怎么办")
	for i := 0; i < 100; i++ {
		id, err := s.findGroup(ctx, ReviewUnanswered, sig)
		if err != nil {
			t.Fatal(err)
		}
		if id != 7 {
			t.Fatalf("ask %d joined item %d, want 7", i, id)
		}
		s.rememberWording(ReviewUnanswered, id, "护照过期了怎么办", sig)
	}
	filed := 0
	for _, items := range s.groups().items[ReviewUnanswered] {
		for _, wordings := range items {
			filed += len(wordings)
		}
	}
	if filed != 3 {
		t.Errorf("%d wordings filed after 100 asks of one, want 3", filed)
	}
	if id, err := s.findGroup(ctx, ReviewUnanswered, s.Analyzer.Signature("护照过期费用")); err != nil || id != 9 {
		t.Errorf("a fees question joined item %d (%v), want 9", id, err)
	}
}
