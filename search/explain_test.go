package search_test

import (
	"maps"
	"math"
	"slices"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// Explain ranks exactly as Match does, and its feature effects add up to
// the ranking score it reports: what it shows is what decided.
func TestExplainAgreesWithMatch(t *testing.T) {
	env := testkb.New(t, testkb.Options{})
	ctx := t.Context()
	for _, q := range []string{"二类械注册要交哪些材料", "化妆品生产许可证多久能办下来", "药品生产许可证注销需要办什么手续", "护照过期了怎么办"} {
		cands, err := env.Index.Match(ctx, q, 5)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := env.Index.Explain(ctx, q, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Candidates) != len(cands) || len(cands) == 0 {
			t.Fatalf("%s: Explain gives %d candidates, Match %d", q, len(ex.Candidates), len(cands))
		}
		for i, c := range ex.Candidates {
			if c.EntryID != cands[i].EntryID || c.Confidence != cands[i].Confidence || c.MatchedQuestion != cands[i].MatchedQuestion {
				t.Errorf("%s #%d: Explain has entry %d (%.3f, %q), Match %d (%.3f, %q)", q, i+1,
					c.EntryID, c.Confidence, c.MatchedQuestion, cands[i].EntryID, cands[i].Confidence, cands[i].MatchedQuestion)
			}
			sum := 0.0
			for _, f := range c.Features {
				sum += f.Effect()
			}
			if c.Exact {
				sum += 100
			}
			if math.Abs(sum-c.RankScore) > 1e-9 {
				t.Errorf("%s #%d: effects add up to %.6f, ranking score %.6f", q, i+1, sum, c.RankScore)
			}
			for j := 1; j < len(c.Features); j++ {
				if math.Abs(c.Features[j].Effect()) > math.Abs(c.Features[j-1].Effect()) {
					t.Errorf("%s #%d: features not ordered by effect at %s", q, i+1, c.Features[j].Name)
				}
			}
		}
		if ex.Threshold <= 0 || len(ex.Terms) == 0 {
			t.Errorf("%s: threshold %v, terms %q", q, ex.Threshold, ex.Terms)
		}
	}
	// The question's reading: 二类械 folds to its canonical form and the
	// intent is materials.
	ex, err := env.Index.Explain(ctx, "二类械注册要交哪些材料", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ex.Canonical, "第二类医疗器械") || !slices.Equal(ex.Intents, []string{"materials"}) {
		t.Errorf("canonical %q, intents %q", ex.Canonical, ex.Intents)
	}
	if c := ex.Candidates[0]; !c.Exact || c.Confidence != 1 || c.EntryID != env.ByExternalID["faq-dev2-materials"] {
		t.Errorf("first candidate %+v, want the materials entry by an exact wording", c.Candidate)
	}
}

// A phone number or ID-card number in a question, masked before matching,
// changes neither the candidates nor their confidence.
func TestMaskedPersonalDataDoesNotSteerMatching(t *testing.T) {
	env := testkb.New(t, testkb.Options{})
	ctx := t.Context()
	for _, pair := range [][2]string{
		{"我电话13812345678，二类械注册要交哪些材料", "我电话，二类械注册要交哪些材料"},
		{"身份证310101199001011234的人想问药证丢了怎么补办", "身份证的人想问药证丢了怎么补办"},
	} {
		with, err := env.Index.Match(ctx, kb.MaskPII(pair[0]), 3)
		if err != nil {
			t.Fatal(err)
		}
		without, err := env.Index.Match(ctx, pair[1], 3)
		if err != nil {
			t.Fatal(err)
		}
		if kb.MaskPII(pair[0]) == pair[0] {
			t.Fatalf("%q was not masked", pair[0])
		}
		if len(with) == 0 || len(with) != len(without) {
			t.Fatalf("%q: %d candidates, without the number %d", pair[0], len(with), len(without))
		}
		for i := range with {
			if with[i].EntryID != without[i].EntryID || with[i].Confidence != without[i].Confidence {
				t.Errorf("%q #%d: entry %d at %.3f, without the number entry %d at %.3f", pair[0], i+1,
					with[i].EntryID, with[i].Confidence, without[i].EntryID, without[i].Confidence)
			}
		}
		if sw, so := env.Index.Signature(kb.MaskPII(pair[0])), env.Index.Signature(pair[1]); !maps.Equal(sw.Terms, so.Terms) {
			t.Errorf("%q: signature terms %v, without the number %v", pair[0], sw.Terms, so.Terms)
		}
	}
}
