package search

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"

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

// matchTerms cuts a text in search mode, so that a compound word also yields
// its parts (药品生产许可证 → 药品, 生产, 许可证, …), and drops filler words.
// Matching on parts lets 药品生产许可 meet 药品生产许可证.
func (idx *Index) matchTerms(text string) []string {
	return idx.terms(text, ModeSearch)
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

// candidatePool is how many full-text hits the matcher rescoring looks at.
const candidatePool = 20

// Match finds the entries that best answer question. Full-text search picks
// a pool of candidates; each is rescored by how well its standard question
// or a similar question agrees with the user's question, term by term,
// weighted by idf and with synonyms folded.
func (idx *Index) Match(ctx context.Context, question string, limit int) ([]kb.Candidate, error) {
	terms := idx.queryTerms(question)
	if len(terms) == 0 {
		return nil, nil
	}
	sr := bleve.NewSearchRequestOptions(idx.textQuery(terms), candidatePool, 0, false)
	sr.Fields = []string{fieldTitle, fieldSimilar, fieldColumn, fieldDepartment, fieldMatter}

	idx.mu.RLock()
	res, err := idx.bi.SearchInContext(ctx, sr)
	stats := idx.stats
	idx.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("search: match: %w", err)
	}
	if len(res.Hits) == 0 {
		return nil, nil
	}
	q := idx.weighTerms(idx.matchTerms(question), stats)
	qBigrams := bigrams(question)
	maxScore := res.Hits[0].Score
	type scored struct {
		kb.Candidate
		rank float64
	}
	cands := make([]scored, 0, len(res.Hits))
	for _, h := range res.Hits {
		id, _ := strconv.ParseInt(h.ID, 10, 64)
		c := kb.Candidate{
			EntryID: id, Column: kb.Column(str(h.Fields[fieldColumn])), Title: str(h.Fields[fieldTitle]),
			Department: str(h.Fields[fieldDepartment]), Matter: str(h.Fields[fieldMatter]), Score: h.Score,
		}
		best := -1.0
		for _, text := range append([]string{c.Title}, strs(h.Fields[fieldSimilar])...) {
			d := idx.weighTerms(idx.matchTerms(text), stats)
			s := termWeight*similarity(q, d) + (1-termWeight)*dice(qBigrams, bigrams(text))
			if s > best {
				best, c.MatchedQuestion = s, text
			}
		}
		c.Confidence = best
		cands = append(cands, scored{Candidate: c, rank: best + 0.15*h.Score/maxScore})
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].rank > cands[j].rank })
	if limit > 0 && len(cands) > limit {
		cands = cands[:limit]
	}
	out := make([]kb.Candidate, len(cands))
	for i, c := range cands {
		out[i] = c.Candidate
	}
	return out, nil
}

// weightedTerms maps canonical terms to idf weights.
type weightedTerms map[string]float64

// weighTerms folds synonyms to their canonical form and weighs each term by
// its inverse document frequency among the KB's questions.
func (idx *Index) weighTerms(terms []string, stats *termStats) weightedTerms {
	syn := idx.seg.Synonyms()
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

// similarity is the idf-weighted Dice overlap of two term sets. A term that
// contains, or is contained in, an unmatched term of the other side earns
// partial credit, so 注册证 still meets 医疗器械注册证.
func similarity(q, d weightedTerms) float64 {
	var total, shared float64
	for _, w := range q {
		total += w
	}
	for _, w := range d {
		total += w
	}
	if total == 0 {
		return 0
	}
	for t, wq := range q {
		if wd, ok := d[t]; ok {
			shared += wq + wd
			continue
		}
		for u, wd := range d {
			if _, exact := q[u]; exact {
				continue
			}
			if strings.Contains(u, t) || strings.Contains(t, u) {
				shared += 0.5 * math.Min(wq, wd) * 2
				break
			}
		}
	}
	return math.Min(1, shared/total)
}

// termWeight balances word overlap against character-bigram overlap, which
// catches typos and words the segmenter cut differently.
const termWeight = 0.6

// bigrams returns the set of character bigrams of the letters and digits of
// text, after folding.
func bigrams(text string) map[string]bool {
	folded, _ := fold(text)
	var runes []rune
	for _, r := range folded {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			runes = append(runes, r)
		}
	}
	out := make(map[string]bool, len(runes))
	for i := 0; i+1 < len(runes); i++ {
		out[string(runes[i:i+2])] = true
	}
	return out
}

// dice is the Dice coefficient of two sets.
func dice(a, b map[string]bool) float64 {
	if len(a)+len(b) == 0 {
		return 0
	}
	n := 0
	for k := range a {
		if b[k] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}
