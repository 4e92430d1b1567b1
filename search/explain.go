package search

import (
	"cmp"
	"context"
	"math"
	"slices"

	"xiaoshen/kb"
)

// Explanation tells why the matcher answers a question as it does: how it
// read the question, and how each candidate scored.
type Explanation struct {
	Question string
	// Terms are the question's words as cut (filler words dropped), and
	// Canonical the words it is compared by: synonyms folded, with the
	// words inside longer ones.
	Terms, Canonical []string
	Intents          []string // what the question asks about (treatment, fees …)
	Threshold        float64  // the model's answer threshold
	Calibration      string   // the calibration's name: deployment, or a built-in profile
	Candidates       []CandidateExplanation
}

// CandidateExplanation is one candidate, best first.
type CandidateExplanation struct {
	kb.Candidate         // with MatchedQuestion, the entry's best-matching wording, and Confidence
	RankScore    float64 // the model's ranking score of MatchedQuestion: the sum of the features' effects, +100 when Exact
	Match        float64 // probability that MatchedQuestion asks the same thing
	// Exact is set when the question reads as MatchedQuestion once
	// punctuation and filler words are dropped and synonyms folded.
	Exact bool
	// Features are the non-zero features of MatchedQuestion against the
	// question, largest effect on the ranking score first.
	Features []FeatureEffect
}

// FeatureEffect is one feature's value and its share of the ranking score.
type FeatureEffect struct {
	Name          string
	Value, Weight float64
}

// Effect is the feature's contribution to the ranking score.
func (f FeatureEffect) Effect() float64 { return f.Value * f.Weight }

// Explain ranks question's candidates as Match does, at most limit of them,
// and returns what went into each ranking.
func (idx *Index) Explain(ctx context.Context, question string, limit int) (*Explanation, error) {
	ranked, model, err := idx.rank(ctx, question, limit)
	if err != nil {
		return nil, err
	}
	idx.mu.RLock()
	stats := idx.stats
	if model == nil {
		model = idx.model
	}
	idx.mu.RUnlock()
	q := idx.analyzeCached(kb.WithoutMasks(question), stats)
	ex := &Explanation{Question: question, Terms: q.precise, Canonical: q.keys, Intents: q.intents, Threshold: model.Threshold, Calibration: model.Profile}
	for _, r := range ranked {
		c := CandidateExplanation{Candidate: r.Candidate, RankScore: r.rankScore, Match: r.match, Exact: r.features[featureExact] == 1}
		for i, v := range r.features {
			if v != 0 {
				c.Features = append(c.Features, FeatureEffect{Name: featureNames[i], Value: v, Weight: model.Weights[i]})
			}
		}
		slices.SortStableFunc(c.Features, func(a, b FeatureEffect) int {
			return cmp.Compare(math.Abs(b.Effect()), math.Abs(a.Effect()))
		})
		ex.Candidates = append(ex.Candidates, c)
	}
	return ex, nil
}
