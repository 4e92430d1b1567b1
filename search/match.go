package search

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"xiaoshen/kb"
)

// fillers are polite and filler words that carry no meaning for matching.
var fillers = map[string]bool{
	"请问": true, "您好": true, "你好": true, "我": true, "我们": true, "想": true, "问": true, "问下": true,
	"问问": true, "一下": true, "下": true, "吗": true, "呢": true, "啊": true, "吧": true, "的": true,
	"了": true, "呀": true, "哦": true, "嘛": true, "请": true, "麻烦": true, "咨询": true, "谢谢": true,
	"那个": true, "这个": true, "我想": true, "想问": true, "想知道": true, "知道": true, "告诉": true,
	// 该 is "should" (该怎么办) or "this" (该企业); either way the words
	// around it say what is asked.
	"该":  true,
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
	ranked, _, err := idx.rank(ctx, question, limit)
	if err != nil {
		return nil, err
	}
	out := make([]kb.Candidate, len(ranked))
	for i, r := range ranked {
		out[i] = r.Candidate
	}
	return out, nil
}

// rankedCandidate is a candidate as the model sees it: its ranking score,
// match probability and the features of its best-matching text.
type rankedCandidate struct {
	kb.Candidate
	rankScore, match float64
	// margin is the ranking score over the best other candidate's, capped
	// at maxMargin: what the confidence reads.
	margin   float64
	features []float64
}

// rank scores the candidate pool of question and orders it best first, at
// most limit of them (all when limit is 0). It also returns the model used.
func (idx *Index) rank(ctx context.Context, question string, limit int) ([]rankedCandidate, *Model, error) {
	pool, model, err := idx.pool(ctx, question)
	if err != nil || len(pool) == 0 {
		return nil, model, err
	}
	cands := make([]rankedCandidate, len(pool))
	for i, p := range pool {
		c := &cands[i]
		c.Candidate, c.rankScore = p.Candidate, math.Inf(-1)
		for j, f := range p.features {
			sc, match := model.Score(f), model.Match(f)
			if f[featureExact] == 1 {
				// The question is one of the entry's own wordings, written by
				// its maintainers for it: that entry is the answer.
				sc, match = sc+exactBoost, 1
			}
			if sc > c.rankScore {
				c.rankScore, c.MatchedQuestion, c.features = sc, p.texts[j], f
			}
			c.match = math.Max(c.match, match)
		}
	}
	// Confidence from the score and the margin over the best other candidate.
	for i := range cands {
		other := math.Inf(-1)
		for j := range cands {
			if j != i && cands[j].rankScore > other {
				other = cands[j].rankScore
			}
		}
		margin := 0.0
		if !math.IsInf(other, -1) {
			margin = cands[i].rankScore - other
		} else {
			margin = maxMargin
		}
		cands[i].margin = math.Min(margin, maxMargin)
		cands[i].Confidence = model.Confidence(cands[i].features, cands[i].match, cands[i].margin)
		if cands[i].features[featureExact] == 1 {
			cands[i].Confidence = 1
		}
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].rankScore > cands[b].rankScore })
	if limit > 0 && len(cands) > limit {
		cands = cands[:limit]
	}
	return cands, model, nil
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
	// subjectAbsent is the rarity of the question's rarest word the entry
	// holds nowhere (questionIndex.subjectAbsent).
	subjectAbsent float64
}

// pool runs the full-text search and computes the features of every
// candidate text.
func (idx *Index) pool(ctx context.Context, question string) ([]poolEntry, *Model, error) {
	idx.mu.RLock()
	stats, model := idx.stats, idx.model
	idx.mu.RUnlock()
	question = kb.WithoutMasks(question)
	q := idx.analyzeCached(question, stats)
	if len(q.precise) == 0 {
		return nil, nil, nil
	}
	cites := len(kb.Citations(question)) > 0
	idx.mu.RLock()
	hits := idx.questions.top(idx.questions.withParts(idx.seg, q.precise), candidatePool)
	absent := idx.questions.absentWords(q, cites)
	pool := make([]poolEntry, len(hits))
	for i, h := range hits {
		doc := &idx.questions.docs[h.ord]
		pool[i].Candidate = doc.Candidate
		pool[i].Score = h.score
		pool[i].texts = append([]string{doc.Title}, doc.similar...)
		pool[i].subjectAbsent = idx.questions.subjectAbsent(q, absent, h.ord)
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
		// Of every text of the entry: its similar questions name the
		// document too.
		name, proper := properName(p.Column, p.texts[0])
		interrupted := proper && nameInterrupted(idx.seg.Synonyms(), q, name)
		for i, text := range p.texts {
			d := idx.analyzeCached(text, stats)
			f := pairFeatures(q, d)
			f[featureMatterNamed] = named
			if i == 0 && answersAsNamed(p.Column, q, d) {
				f[featureTitleNamed] = nameCoverage(q, d)
			}
			if interrupted {
				f[featureNameInterrupted] = 1
			}
			f[featureSubjectAbsent] = p.subjectAbsent
			f[len(featureNames)-2] = p.Score / maxScore
			if rank == 0 {
				f[len(featureNames)-1] = 1
			}
			p.features = append(p.features, f)
		}
	}
	return pool, model, nil
}

// namedIntents are what an entry answers when a question names it, by
// column: a term what it means and why (调休到底是怎么回事 asks the cause in
// the words of the synonyms), a department or hotline how to reach it,
// a document whether it is in force, a guide how its matter is done.
var namedIntents = map[kb.Column][]string{
	kb.ColumnWiki:       {"definition", "difference", "cause"},
	kb.ColumnDepartment: {"where", "contact"},
	kb.ColumnHotline:    {"where", "contact"},
	kb.ColumnPolicy:     {"validity", "definition"},
	kb.ColumnNotice:     {"validity", "definition"},
	kb.ColumnGuide:      {"materials", "fees", "time", "process", "conditions", "where", "progress"},
}

// answersAsNamed tells whether an entry whose title names a thing (every
// column but the FAQ's, whose titles are questions) answers question q by
// being named in it: q asks nothing its column does not answer, nor
// anything beyond the intents of the title d itself (延续注册 answers a
// question about 延续). A term's entry does not say what its filing takes
// (普通化妆品备案要交哪些资料).
func answersAsNamed(column kb.Column, q, d *analyzed) bool {
	allowed, ok := namedIntents[column]
	if !ok {
		return false
	}
	for _, in := range q.intents {
		if !slices.Contains(allowed, in) && !slices.Contains(d.intents, in) {
			return false
		}
	}
	return true
}

// titleWords are the words of a column's titles that name no particular
// thing: 办事指引 in every guide's title, 关于 and 通知 in a notice's.
var titleWords = map[string]bool{"办事指引": true, "办事": true, "关于": true, "通知": true, "解读": true}

// nameCoverage is the share of title d's weight, its titleWords left
// out, that question q holds: a word of q, or one inside a word of q or
// holding one (of two characters or more). 化妆品生产许可怎么办 names the guide 化妆品生产许可办事指引
// whole.
func nameCoverage(q, d *analyzed) float64 {
	var total, held float64
	for _, t := range d.keys {
		if titleWords[t] {
			continue
		}
		w := d.terms[t]
		total += w
		if _, ok := q.terms[t]; ok {
			held += w
			continue
		}
		for u := range q.terms {
			// A single character inside a word names nothing.
			if utf8.RuneCountInString(u) > 1 && utf8.RuneCountInString(t) > 1 && (strings.Contains(u, t) || strings.Contains(t, u)) {
				held += w
				break
			}
		}
	}
	if total == 0 {
		return 0
	}
	return held / total
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

// properName returns the name an entry's title gives, and whether it is a
// proper name at all: a policy's or a term's title names a document or a
// term, unless it describes one (关于…的工作方案, 《关于…》解读); a notice's
// title describes, an FAQ's asks. What the title adds in brackets is no
// part of the name: that of 中华人民共和国药品管理法（2019年修订） is
// 中华人民共和国药品管理法.
func properName(column kb.Column, title string) (string, bool) {
	if column != kb.ColumnPolicy && column != kb.ColumnWiki || strings.HasPrefix(strings.TrimPrefix(title, "《"), "关于") {
		return "", false
	}
	if i := strings.IndexAny(title, "（("); i > 0 {
		title = title[:i]
	}
	return title, true
}

// nameInterrupted tells whether question q names title with a word of its
// own in place of some of the title's: 药品网络销售监督管理办法 is not the
// 药品生产监督管理办法, nor 药物临床试验质量管理规范 the 药品生产质量管理规范.
// Between two of its words found in the title (as written, or as one of
// their synonyms), the question has a word of two characters or more that
// asks nothing, where the title has something else. Words the question
// adds between neighbours in the title (化妆品生产许可业务咨询打哪个电话)
// replace nothing, and a shortened name (化妆品条例) adds nothing.
func nameInterrupted(syn *Synonyms, q *analyzed, title string) bool {
	title, _ = fold(title)
	found := func(w string) (int, int) { // where w or a synonym is in the title
		from, to := -1, -1
		for _, s := range syn.Expand(w) {
			if utf8.RuneCountInString(s) < 2 {
				continue
			}
			if i := strings.Index(title, s); i >= 0 && (from < 0 || i < from) {
				from, to = i, i+len(s)
			}
		}
		return from, to
	}
	prev, prevEnd := -1, -1
	for i, w := range q.precise {
		from, to := found(w)
		if from < 0 {
			continue
		}
		// The title's words between may be fillers the question drops (咨询).
		if prev >= 0 && i > prev+1 && i <= prev+4 && from > prevEnd && !fillers[title[prevEnd:from]] {
			for _, between := range q.precise[prev+1 : i] {
				if namesSomething(syn.Canonical(between)) {
					return true
				}
			}
		}
		prev, prevEnd = i, to
	}
	return false
}

// namesSomething tells whether a (canonical) word can stand in a name: it
// has two characters or more and asks nothing, neither an intent (多久)
// nor with an interrogative (什么, 哪个; asks).
func namesSomething(w string) bool {
	_, intent := intentWords[w]
	return !intent && utf8.RuneCountInString(w) > 1 && !asks(w)
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
		if m.Name == matter {
			if m.Names(question) {
				return 1
			}
			return -1
		}
	}
	return 0
}
