package search

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"xiaoshen/kb"
)

// questionIndex is an in-memory inverted index over every entry's question
// texts (title and similar questions) and keywords, with synonyms folded to
// their canonical word. It picks the matcher's candidates: the matcher then
// compares the question with exactly these texts, so they are the evidence
// that counts, and an in-memory index with early termination answers in
// tens of microseconds where bleve's scored disjunction over all text
// fields took milliseconds on a large KB.
//
// Entries are numbered in the order they were added (ordinals); a replaced
// or removed entry leaves a dead ordinal behind until compaction, so that
// postings stay sorted and never need inserting into.
//
// bleve stays the store of record for the texts and terms: Open loads the
// index from bleve's segments (stored fields and postings), and Put and
// Remove keep it up to date by cutting the same texts with the same
// tokenizer the bleve mapping uses. The caller guards it with Index.mu.
type questionIndex struct {
	syn  *Synonyms
	docs []questionDoc
	byID map[int64]int32
	ques map[string][]int32 // canonical term → ordinals whose question texts hold it, ascending
	keys map[string][]int32 // the same for keywords
	body map[string][]int32 // the same for the body as citizens read it (what an entry holds at all)
	df   map[string]int     // live entries per question term
	live int
	lens int // sum of the live entries' lengths
	dead int
	// norms is each ordinal's length normalisation (0 when dead) and ids
	// its entry id, in arrays of their own: scoring touches thousands of
	// entries at random, and these are all it reads of them.
	norms []float64
	ids   []int64
	scrap sync.Pool // *scratch
}

// questionDoc is what the matcher needs of a candidate entry.
type questionDoc struct {
	kb.Candidate          // EntryID (0 when dead), Column, Title, Department, Matter
	similar      []string // similar questions, in order
	terms        []string // canonical question terms, each once
}

func newQuestionIndex(syn *Synonyms) *questionIndex {
	return &questionIndex{
		syn: syn, byID: map[int64]int32{},
		ques: map[string][]int32{}, keys: map[string][]int32{}, body: map[string][]int32{}, df: map[string]int{},
	}
}

// Field weights of the candidate score: a word in a question text is the
// strongest evidence, a maintainer's keyword weaker.
// The parameters were chosen by the recall of the right entry among the
// candidates on the corpus questions (0.969 in the top 20, 0.941 in the
// top 10, on the corpus of then; docs/quality.md has the current figures).
const (
	weightQuestion = 1.0
	weightKeyword  = 0.6
	bm25K1         = 1.2
	bm25B          = 0.75
)

// indexedTerms are the canonical terms of texts cut in search mode, as the
// bleve mapping indexes them, without filler words; each term once.
func (q *questionIndex) indexedTerms(seg *Segmenter, texts []string) []string {
	var out []string
	for _, text := range texts {
		for _, t := range seg.Terms(text, ModeSearch) {
			if !fillers[t] {
				out = append(out, q.syn.Canonical(t))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// questionUpdate is an entry's new state, cut outside the index lock.
type questionUpdate struct {
	id               int64
	doc              *questionDoc // nil: remove
	ques, keys, body []string
}

// prepare cuts the entries' texts for apply.
func (q *questionIndex) prepare(seg *Segmenter, entries []*kb.Entry) []questionUpdate {
	ups := make([]questionUpdate, len(entries))
	for i, e := range entries {
		ups[i].id = e.ID
		if e.DeletedAt != nil {
			continue
		}
		ups[i].doc = &questionDoc{
			Candidate: kb.Candidate{EntryID: e.ID, Column: e.Column, Title: e.Title, Department: e.Department, Matter: e.Matter},
			similar:   slices.Clone(e.Similar),
		}
		ups[i].ques = q.indexedTerms(seg, e.Questions())
		ups[i].keys = q.indexedTerms(seg, e.SearchKeywords())
		ups[i].body = q.indexedTerms(seg, []string{kb.ForCitizens(e.Content)}) // as document() indexes it
	}
	return ups
}

// apply adds, replaces and removes entries.
func (q *questionIndex) apply(ups []questionUpdate) {
	for _, u := range ups {
		q.remove(u.id)
		if u.doc == nil {
			continue
		}
		ord := int32(len(q.docs))
		doc := *u.doc
		doc.terms = u.ques
		q.docs = append(q.docs, doc)
		q.byID[u.id] = ord
		for _, t := range u.ques {
			q.ques[t] = append(q.ques[t], ord)
			q.df[t]++
		}
		for _, t := range u.keys {
			q.keys[t] = append(q.keys[t], ord)
		}
		for _, t := range u.body {
			q.body[t] = append(q.body[t], ord)
		}
		q.live++
		q.lens += len(doc.terms)
	}
	if q.dead > compactMin && q.dead > q.live {
		q.compact()
	}
	q.renorm()
}

// renorm recomputes every ordinal's length normalisation for the current
// average length, BM25's (k1+1)/(1+k1(1-b+b·len/avg)), and its entry id.
func (q *questionIndex) renorm() {
	avg := 1.0
	if q.live > 0 && q.lens > 0 {
		avg = float64(q.lens) / float64(q.live)
	}
	q.norms = slices.Grow(q.norms[:0], len(q.docs))[:len(q.docs)]
	q.ids = slices.Grow(q.ids[:0], len(q.docs))[:len(q.docs)]
	for o, d := range q.docs {
		q.ids[o] = d.EntryID
		q.norms[o] = 0
		if d.EntryID != 0 {
			q.norms[o] = (bm25K1 + 1) / (1 + bm25K1*(1-bm25B+bm25B*float64(len(d.terms))/avg))
		}
	}
}

// remove marks an entry's ordinal dead: its postings stay until
// compaction, but its terms no longer count.
func (q *questionIndex) remove(id int64) {
	ord, ok := q.byID[id]
	if !ok {
		return
	}
	delete(q.byID, id)
	doc := &q.docs[ord]
	doc.EntryID = 0
	q.live--
	q.lens -= len(doc.terms)
	q.dead++
	for _, t := range doc.terms {
		if q.df[t]--; q.df[t] == 0 {
			delete(q.df, t)
		}
	}
	doc.terms, doc.similar = nil, nil
}

// compactMin is how many dead ordinals there must be, and more than live
// ones, before apply compacts.
var compactMin = 1024

// compact renumbers the live entries and drops dead postings.
func (q *questionIndex) compact() {
	renum := make([]int32, len(q.docs))
	docs := make([]questionDoc, 0, q.live)
	for i, d := range q.docs {
		renum[i] = -1
		if d.EntryID != 0 {
			renum[i] = int32(len(docs))
			q.byID[d.EntryID] = renum[i]
			docs = append(docs, d)
		}
	}
	for _, m := range []map[string][]int32{q.ques, q.keys, q.body} {
		for t, ords := range m {
			kept := ords[:0]
			for _, o := range ords {
				if renum[o] >= 0 {
					kept = append(kept, renum[o])
				}
			}
			if len(kept) == 0 {
				delete(m, t)
			} else {
				m[t] = slices.Clip(kept)
			}
		}
	}
	q.docs, q.dead = docs, 0
}

// loadQuestionIndex reads the question index from the bleve index's current
// snapshot: the stored fields of every live document and the postings of
// the questions and keywords fields, with no text cut again.
func loadQuestionIndex(idx *Index) (*questionIndex, error) {
	q := newQuestionIndex(idx.seg.Synonyms())
	snap, err := snapshot(idx.bi)
	if err != nil {
		return nil, fmt.Errorf("search: load questions: %w", err)
	}
	defer snap.Close()
	segments := snap.Segments()
	// Per segment, document number → ordinal, -1 for a deleted document:
	// a slice, since a segment numbers its documents from 0, and the
	// postings below look up one ordinal per posting.
	ords := make([][]int32, len(segments))
	live := 0
	for s, ss := range segments {
		ords[s] = make([]int32, ss.FullSize())
		for i := range ords[s] {
			ords[s][i] = -1
		}
		live += int(ss.Count())
	}
	q.docs = make([]questionDoc, 0, live)
	var doc *questionDoc
	var idErr error
	err = visitLiveDocuments(snap, func(s int, num uint64, field string, value []byte) bool {
		ord := ords[s][num]
		if ord < 0 {
			ord = int32(len(q.docs))
			ords[s][num] = ord
			q.docs = append(q.docs, questionDoc{})
		}
		doc = &q.docs[ord]
		switch field {
		case "_id":
			doc.EntryID, idErr = strconv.ParseInt(string(value), 10, 64)
			q.byID[doc.EntryID] = ord
		case fieldTitle:
			doc.Title = string(value)
		case fieldSimilar:
			doc.similar = append(doc.similar, string(value))
		case fieldColumn:
			doc.Column = kb.Column(value)
		case fieldDepartment:
			doc.Department = string(value)
		case fieldMatter:
			doc.Matter = string(value)
		}
		return idErr == nil
	})
	if err == nil {
		err = idErr
	}
	if err != nil {
		return nil, fmt.Errorf("search: load questions: %w", err)
	}
	for _, f := range []struct {
		field    string
		postings map[string][]int32
	}{{fieldQuestions, q.ques}, {fieldKeywords, q.keys}, {fieldContent, q.body}} {
		terms, err := fieldTerms(idx, f.field)
		if err != nil {
			return nil, fmt.Errorf("search: load questions: %w", err)
		}
		for s, ss := range segments {
			dict, err := ss.Segment().Dictionary(f.field)
			if err != nil {
				return nil, fmt.Errorf("search: load questions: %w", err)
			}
			for _, term := range terms {
				if fillers[term] {
					continue
				}
				pl, err := dict.PostingsList([]byte(term), ss.Deleted(), nil)
				if err != nil {
					return nil, fmt.Errorf("search: load questions: %q: %w", term, err)
				}
				if pl == nil || pl.Count() == 0 {
					continue
				}
				canon := q.syn.Canonical(term)
				list := slices.Grow(f.postings[canon], int(pl.Count()))
				it := pl.Iterator(false, false, false, nil)
				for {
					p, err := it.Next()
					if err != nil {
						return nil, fmt.Errorf("search: load questions: %q: %w", term, err)
					}
					if p == nil {
						break
					}
					if ord := ords[s][p.Number()]; ord >= 0 {
						list = append(list, ord)
					}
				}
				f.postings[canon] = list
			}
		}
		for t, list := range f.postings {
			// Ordinals follow the segments' order, so one term's list is
			// sorted already; only synonyms folded together need sorting.
			if !slices.IsSorted(list) {
				slices.Sort(list)
			}
			f.postings[t] = slices.Clip(slices.Compact(list))
		}
	}
	terms := make([]string, 0, len(q.ques))
	for t := range q.ques {
		terms = append(terms, t)
	}
	slices.Sort(terms) // so that every entry's terms come out sorted, as prepare makes them
	// Every entry's terms share one array, each sliced to its own length so
	// that a later append copies rather than runs into the next entry's.
	counts := make([]int, len(q.docs))
	total := 0
	for _, t := range terms {
		for _, o := range q.ques[t] {
			counts[o]++
		}
		total += len(q.ques[t])
	}
	flat := make([]string, total)
	for o, at := range counts {
		q.docs[o].terms = flat[:0:at]
		flat = flat[at:]
	}
	for _, t := range terms {
		list := q.ques[t]
		q.df[t] = len(list)
		for _, o := range list {
			q.docs[o].terms = append(q.docs[o].terms, t)
		}
	}
	q.live = len(q.docs)
	for _, d := range q.docs {
		q.lens += len(d.terms)
	}
	q.renorm()
	return q, nil
}

// fieldTerms lists the terms of a field's dictionary.
func fieldTerms(idx *Index, field string) ([]string, error) {
	dict, err := idx.bi.FieldDict(field)
	if err != nil {
		return nil, err
	}
	defer dict.Close()
	var terms []string
	for {
		de, err := dict.Next()
		if err != nil {
			return nil, err
		}
		if de == nil {
			return terms, nil
		}
		terms = append(terms, de.Term)
	}
}

// withParts adds to a question's (precisely cut) terms the words inside
// each long term that no entry has, so that 小儿支原体肺炎 can still find
// entries about 支原体肺炎.
func (q *questionIndex) withParts(seg *Segmenter, terms []string) []string {
	out := terms
	for _, t := range terms {
		c := q.syn.Canonical(t)
		if len(q.ques[c]) > 0 || len(q.keys[c]) > 0 || utf8.RuneCountInString(t) <= 2 {
			continue
		}
		for _, part := range seg.Terms(t, ModeSearch) {
			if part != t && !fillers[part] {
				if len(out) == len(terms) {
					out = slices.Clone(terms)
				}
				out = append(out, part)
			}
		}
	}
	return out
}

// queryTerm is one canonical question term with its weight and the most
// it can add to an entry's score.
type queryTerm struct {
	term   string
	idf    float64
	bound  float64
	ques   []int32
	keys   []int32
	remain float64 // bound of this term and all after it
}

// scratch holds one search's per-entry scores.
type scratch struct {
	score   []float64
	touched []int32
}

// scored is a candidate with its score.
type scored struct {
	ord   int32
	id    int64
	score float64
}

// top returns the k entries whose question texts and keywords best cover
// the terms, by a BM25-like score (each term counted once per entry, field
// weights, entry length normalised), best first; ties go to the smaller
// entry id, so the order never depends on the order of writes.
//
// It stops early in the manner of MaxScore: terms are taken rarest first,
// and once no entry that has none of the terms taken so far could reach the
// current k-th score, the remaining (common) terms only add to the entries
// already found that could still reach it, walking the term's postings or
// looking those entries up in them, whichever is shorter.
func (q *questionIndex) top(terms []string, k int) []scored {
	if q.live == 0 || k <= 0 {
		return nil
	}
	maxNorm := (bm25K1 + 1) / (1 + bm25K1*(1-bm25B))
	var qts []queryTerm
	seen := map[string]bool{}
	for _, t := range terms {
		c := q.syn.Canonical(t)
		if seen[c] {
			continue
		}
		seen[c] = true
		ques, keys := q.ques[c], q.keys[c]
		if len(ques) == 0 && len(keys) == 0 {
			continue
		}
		df := float64(q.df[c])
		idf := math.Log(1 + (float64(q.live)-df+0.5)/(df+0.5))
		w := weightKeyword
		if len(ques) > 0 {
			w = weightQuestion
		}
		qts = append(qts, queryTerm{term: c, idf: idf, bound: idf * w * maxNorm, ques: ques, keys: keys})
	}
	if len(qts) == 0 {
		return nil
	}
	sort.SliceStable(qts, func(a, b int) bool { return qts[a].bound > qts[b].bound })
	for i := len(qts) - 1; i >= 0; i-- {
		qts[i].remain = qts[i].bound
		if i+1 < len(qts) {
			qts[i].remain += qts[i+1].remain
		}
	}

	s, _ := q.scrap.Get().(*scratch)
	if s == nil || len(s.score) < len(q.docs) {
		s = &scratch{score: make([]float64, len(q.docs)+len(q.docs)/4+64)}
	}
	defer func() {
		for _, o := range s.touched {
			s.score[o] = 0
		}
		s.touched = s.touched[:0]
		q.scrap.Put(s)
	}()
	add := func(o int32, v float64) {
		norm := q.norms[o]
		if norm == 0 { // dead
			return
		}
		if s.score[o] == 0 {
			s.touched = append(s.touched, o)
		}
		s.score[o] += v * norm
	}
	best := &minHeap{}
	threshold := func(among []int32) float64 {
		// The k-th best score so far is a lower bound of the final k-th
		// best, since scores only grow.
		*best = (*best)[:0]
		for _, o := range among {
			pushTop(best, scored{o, q.ids[o], s.score[o]}, k)
		}
		if len(*best) < k {
			return 0
		}
		return (*best)[0].score
	}
	i := 0
	for ; i < len(qts); i++ {
		if i > 0 && threshold(s.touched) > qts[i].remain+scoreEps {
			break
		}
		t := qts[i]
		for _, o := range t.ques {
			add(o, t.idf*weightQuestion)
		}
		for _, o := range t.keys {
			if _, inQues := slices.BinarySearch(t.ques, o); !inQues {
				add(o, t.idf*weightKeyword)
			}
		}
	}
	// The remaining terms only add to the entries found: those that could
	// still reach the k-th score. Each term either walks its postings or
	// looks the candidates up in them, whichever is shorter.
	cands := s.touched
	for ; i < len(qts); i++ {
		t := qts[i]
		theta := threshold(cands) // the entries left out cannot be among the best k
		kept := cands[:0:0]
		for _, o := range cands {
			if s.score[o]+t.remain >= theta-scoreEps {
				kept = append(kept, o)
			}
		}
		cands = kept
		if len(t.ques)+len(t.keys) < len(cands)*4 {
			for _, o := range t.ques {
				if s.score[o] > 0 {
					add(o, t.idf*weightQuestion)
				}
			}
			for _, o := range t.keys {
				if s.score[o] > 0 {
					if _, inQues := slices.BinarySearch(t.ques, o); !inQues {
						add(o, t.idf*weightKeyword)
					}
				}
			}
			continue
		}
		for _, o := range cands {
			if _, ok := slices.BinarySearch(t.ques, o); ok {
				add(o, t.idf*weightQuestion)
			} else if _, ok := slices.BinarySearch(t.keys, o); ok {
				add(o, t.idf*weightKeyword)
			}
		}
	}
	*best = (*best)[:0]
	for _, o := range s.touched {
		pushTop(best, scored{o, q.ids[o], s.score[o]}, k)
	}
	out := make([]scored, len(*best))
	copy(out, *best)
	sort.Slice(out, func(a, b int) bool { return worse(out[b], out[a]) })
	return out
}

// worse orders candidates by score, then by entry id (the smaller wins).
// Scores within scoreEps are equal: two entries that score the same add
// the same terms' weights in another order, and may come out a bit apart.
func worse(a, b scored) bool {
	if math.Abs(a.score-b.score) > scoreEps {
		return a.score < b.score
	}
	return a.id > b.id
}

// scoreEps is how far apart two candidate scores may be and still count as
// equal: far below any real difference (a term's weight is 0.1 or more),
// far above the rounding of a sum of a few dozen terms.
const scoreEps = 1e-9

// minHeap keeps the best k candidates with the weakest on top.
type minHeap []scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return worse(h[i], h[j]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// pushTop adds c to h if it is among the best k.
func pushTop(h *minHeap, c scored, k int) {
	if len(*h) < k {
		heap.Push(h, c)
		return
	}
	if worse((*h)[0], c) {
		(*h)[0] = c
		heap.Fix(h, 0)
	}
}

// holds tells whether the entry at ord holds canonical term t anywhere: in
// one of its wordings, its keywords or its body.
func (q *questionIndex) holds(ord int32, t string) bool {
	if _, ok := slices.BinarySearch(q.docs[ord].terms, t); ok {
		return true
	}
	for _, m := range []map[string][]int32{q.keys, q.body} {
		if _, ok := slices.BinarySearch(m[t], ord); ok {
			return true
		}
	}
	return false
}

// absentWords lists the words of question a that subjectAbsent reads,
// rarest first: no intent word, and none that no entry holds at all (those
// are unknown_query_share's to weigh: absent from every candidate alike).
// When the question cites a document number, neither are the number's
// words (739, 号令) nor the verbs that say what the document does (规定,
// 要求): the document-number rule (kb) decides what a number names, and
// as subjects they would count against every entry but the document's,
// though 739号令规定二类械注册要交什么材料 asks what the materials FAQ
// answers.
func (q *questionIndex) absentWords(a *analyzed, cites bool) []int {
	var out []int
	for i, t := range a.keys {
		if cites && (citationWords[t] || strings.Trim(t, "0123456789") == "") {
			continue
		}
		if _, intent := intentWords[t]; !intent && q.heldByAny(t) {
			out = append(out, i)
		}
	}
	slices.SortStableFunc(out, func(i, j int) int { return cmp.Compare(a.rarity[j], a.rarity[i]) })
	return out
}

// heldByAny tells whether a live entry holds term t anywhere. Postings
// keep removed entries until compaction, so a word only they held must
// not count, or the feature would read otherwise after a reload.
func (q *questionIndex) heldByAny(t string) bool {
	if q.df[t] > 0 { // live entries whose wordings hold it
		return true
	}
	for _, m := range []map[string][]int32{q.keys, q.body} {
		for _, o := range m[t] {
			if q.docs[o].EntryID != 0 {
				return true
			}
		}
	}
	return false
}

// citationWords are the words a document number is cut into besides its
// digits (国务院令第739号, 739号令), and the verbs by which a question says
// what the document it cites does.
var citationWords = map[string]bool{"号令": true, "令": true, "号": true, "第": true, "号文": true, "文号": true,
	"规定": true, "要求": true, "说": true, "讲": true, "写": true, "提到": true}

// subjectAbsent is the general rarity of the rarest of words (absentWords
// of question a) that the entry at ord holds nowhere, 0 when it holds them
// all: 兽药 in 请问兽药GMP证书有效期几年, which the GMP term's entry never
// mentions while another entry does.
func (q *questionIndex) subjectAbsent(a *analyzed, words []int, ord int32) float64 {
	for _, i := range words {
		if !q.holds(ord, a.keys[i]) {
			return a.rarity[i]
		}
	}
	return 0
}
