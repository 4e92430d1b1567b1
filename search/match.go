package search

import (
	"context"
	"math"
	"sort"
	"strings"

	"xiaoshen/kb"
)

// fillers are polite and filler words that carry no meaning for matching.
var fillers = map[string]bool{
	"请问": true, "您好": true, "你好": true, "我": true, "我们": true, "想": true, "问": true, "问下": true,
	"问问": true, "一下": true, "下": true, "吗": true, "呢": true, "啊": true, "吧": true, "的": true,
	"了": true, "呀": true, "哦": true, "嘛": true, "请": true, "麻烦": true, "咨询": true, "谢谢": true,
	"那个": true, "这个": true, "我想": true, "想问": true, "想知道": true, "知道": true, "告诉": true,
	"可以": false,
}

// queryTerms cuts a question precisely and drops filler words.
func (idx *Index) queryTerms(question string) []string {
	return idx.terms(question, ModePrecise)
}

func (idx *Index) terms(text string, mode Mode) []string {
	var out []string
	for _, t := range idx.seg.Terms(text, mode) {
		if !fillers[t] {
			out = append(out, t)
		}
	}
	return out
}

// candidatePool is how many candidates the matcher scores with its model.
const candidatePool = 20

// Match finds the entries that best answer question. Full-text search picks
// a pool of candidates; the model then scores the user's question against
// each candidate's standard question and similar questions, and the best
// of these is the candidate's confidence.
func (idx *Index) Match(ctx context.Context, question string, limit int) ([]kb.Candidate, error) {
	pool, model, err := idx.pool(ctx, question)
	if err != nil || len(pool) == 0 {
		return nil, err
	}
	cands := make([]kb.Candidate, len(pool))
	scores := make([]float64, len(pool))
	matches := make([]float64, len(pool))
	best := make([][]float64, len(pool)) // features of each candidate's best text
	for i, p := range pool {
		cands[i] = p.Candidate
		scores[i] = math.Inf(-1)
		for j, f := range p.features {
			sc, match := model.Score(f), model.Match(f)
			if f[featureExact] == 1 {
				// The question is one of the entry's own wordings, written by
				// its maintainers for it: that entry is the answer.
				sc, match = sc+exactBoost, 1
			}
			if sc > scores[i] {
				scores[i], cands[i].MatchedQuestion, best[i] = sc, p.texts[j], f
			}
			matches[i] = math.Max(matches[i], match)
		}
	}
	// Confidence from the score and the margin over the best other candidate.
	for i := range cands {
		other := math.Inf(-1)
		for j, sc := range scores {
			if j != i && sc > other {
				other = sc
			}
		}
		margin := 0.0
		if !math.IsInf(other, -1) {
			margin = scores[i] - other
		} else {
			margin = maxMargin
		}
		cands[i].Confidence = model.Confidence(best[i], matches[i], math.Min(margin, maxMargin))
		if best[i][featureExact] == 1 {
			cands[i].Confidence = 1
		}
	}
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	out := make([]kb.Candidate, 0, len(cands))
	for _, i := range order {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, cands[i])
	}
	return out, nil
}

// exactBoost lifts an entry whose wording equals the question above any
// other candidate.
const exactBoost = 100.0

// maxMargin caps the margin feature, so that a lone candidate is not
// infinitely sure.
const maxMargin = 5.0

// poolEntry is a full-text candidate with the features of each of its
// question texts (standard question first, then similar questions).
type poolEntry struct {
	kb.Candidate
	texts    []string
	features [][]float64
}

// pool runs the full-text search and computes the features of every
// candidate text.
func (idx *Index) pool(ctx context.Context, question string) ([]poolEntry, *Model, error) {
	idx.mu.RLock()
	stats, model := idx.stats, idx.model
	idx.mu.RUnlock()
	q := idx.analyzeCached(question, stats)
	if len(q.precise) == 0 {
		return nil, nil, nil
	}
	idx.mu.RLock()
	hits := idx.questions.top(idx.questions.withParts(idx.seg, q.precise), candidatePool)
	pool := make([]poolEntry, len(hits))
	for i, h := range hits {
		doc := &idx.questions.docs[h.ord]
		pool[i].Candidate = doc.Candidate
		pool[i].Score = h.score
		pool[i].texts = append([]string{doc.Title}, doc.similar...)
	}
	idx.mu.RUnlock()
	if len(pool) == 0 {
		return nil, model, nil
	}
	folded, _ := fold(question)
	maxScore := pool[0].Score
	for rank := range pool {
		p := &pool[rank]
		named := matterNamed(folded, p.Matter)
		for _, text := range p.texts {
			f := pairFeatures(q, idx.analyzeCached(text, stats))
			f[featureMatterNamed] = named
			f[len(featureNames)-2] = p.Score / maxScore
			if rank == 0 {
				f[len(featureNames)-1] = 1
			}
			p.features = append(p.features, f)
		}
	}
	return pool, model, nil
}

// TrainingRow is one candidate text's features for fitting the model.
type TrainingRow struct {
	EntryID  int64
	Features []float64
}

// TrainingRows returns the features of every candidate text the matcher
// would score for question, as fitting needs them.
func (idx *Index) TrainingRows(ctx context.Context, question string) ([]TrainingRow, error) {
	pool, _, err := idx.pool(ctx, question)
	if err != nil {
		return nil, err
	}
	var rows []TrainingRow
	for _, p := range pool {
		for _, f := range p.features {
			rows = append(rows, TrainingRow{EntryID: p.EntryID, Features: f})
		}
	}
	return rows, nil
}

// weightedTerms maps canonical terms to idf weights.
type weightedTerms map[string]float64

// weigh folds synonyms to their canonical form and weighs each term by its
// inverse document frequency among the KB's questions.
func weigh(syn *Synonyms, terms []string, stats *termStats) weightedTerms {
	out := make(weightedTerms, len(terms))
	for _, t := range terms {
		df := stats.df[t]
		idf := math.Log(1 + (float64(stats.docs)-float64(df)+0.5)/(float64(df)+0.5))
		c := syn.Canonical(t)
		if idf > out[c] {
			out[c] = idf
		}
	}
	return out
}

// matterNamed tells whether the (folded) question names the matter: +1 when
// it holds one of the matter's words, -1 when it holds none, 0 when the
// entry has no matter.
func matterNamed(question, matter string) float64 {
	if matter == "" {
		return 0
	}
	for _, m := range kb.Matters {
		if m.Name != matter {
			continue
		}
		if strings.Contains(question, strings.ToLower(m.Name)) {
			return 1
		}
		for _, k := range m.Keywords {
			if strings.Contains(question, k) {
				return 1
			}
		}
		return -1
	}
	return 0
}
