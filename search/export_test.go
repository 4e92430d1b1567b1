package search

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"

	"xiaoshen/kb"
)

// SetAnalysisCache turns the candidate analysis cache on or off, to compare
// Match with and without it. Call it before the index is in use.
func SetAnalysisCache(idx *Index, on bool) {
	if on {
		idx.candidates = &analysisCache{}
	} else {
		idx.candidates = nil
	}
}

// CheckCachedAnalysis analyses text as a candidate under the index's
// current statistics and compares the result with a fresh analysis: equal
// reports whether they are the same, cached whether the result came from
// the cache.
func CheckCachedAnalysis(idx *Index, text string) (equal, cached bool) {
	idx.mu.RLock()
	stats := idx.stats
	idx.mu.RUnlock()
	c := idx.candidates
	c.mu.Lock()
	_, inRecent := c.recent[text]
	_, inOlder := c.older[text]
	cached = c.stats == stats && (inRecent || inOlder)
	c.mu.Unlock()
	got := idx.analyzeCached(text, stats)
	return reflect.DeepEqual(got, idx.analyze(text, stats)), cached
}

// SetCompactMin changes how many dead ordinals the question index keeps
// before compacting, and returns a function that restores it.
func SetCompactMin(n int) (restore func()) {
	old := compactMin
	compactMin = n
	return func() { compactMin = old }
}

// QuestionIndexDump describes the question index by entry ids rather than
// ordinals, so that an index built by writes and one loaded from disk can
// be compared: its entries, postings, frequencies and lengths, and how many
// dead ordinals it holds.
func QuestionIndexDump(idx *Index) (dump string, dead int) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	q := idx.questions
	var b strings.Builder
	ids := make([]int64, 0, len(q.byID))
	for id := range q.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		d := q.docs[q.byID[id]]
		fmt.Fprintf(&b, "entry %d %s %q %q %q %q %v\n", id, d.Column, d.Title, d.similar, d.Department, d.Matter, d.terms)
	}
	for _, f := range []struct {
		name string
		m    map[string][]int32
	}{{"questions", q.ques}, {"keywords", q.keys}, {"body", q.body}} {
		name, m := f.name, f.m
		terms := slices.Sorted(maps.Keys(m))
		for _, t := range terms {
			var live []int64
			for _, o := range m[t] {
				if id := q.docs[o].EntryID; id != 0 {
					live = append(live, id)
				}
			}
			if len(live) == 0 {
				continue
			}
			slices.Sort(live)
			fmt.Fprintf(&b, "%s %q %v\n", name, t, live)
		}
	}
	for _, t := range slices.Sorted(maps.Keys(q.df)) {
		fmt.Fprintf(&b, "df %q %d\n", t, q.df[t])
	}
	fmt.Fprintf(&b, "live %d lens %d\n", q.live, q.lens)
	return b.String(), q.dead
}

// ScoredEntry is a candidate entry with its candidate score.
type ScoredEntry struct {
	ID    int64
	Score float64
}

// Candidates returns the k best candidates for a question as Match picks
// them, and the same computed the slow way: every live entry scored on
// every term, without stopping early.
func Candidates(idx *Index, question string, k int) (fast, exhaustive []ScoredEntry) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	q := idx.questions
	terms := q.withParts(idx.seg, idx.queryTerms(question))
	for _, s := range q.top(terms, k) {
		fast = append(fast, ScoredEntry{s.id, s.score})
	}
	avg := float64(q.lens) / float64(q.live)
	seen := map[string]bool{}
	var all []scored
	for o, d := range q.docs {
		if d.EntryID == 0 {
			continue
		}
		clear(seen)
		sum := 0.0
		for _, t := range terms {
			c := q.syn.Canonical(t)
			if seen[c] {
				continue
			}
			seen[c] = true
			df := float64(q.df[c])
			idf := math.Log(1 + (float64(q.live)-df+0.5)/(df+0.5))
			norm := (bm25K1 + 1) / (1 + bm25K1*(1-bm25B+bm25B*float64(len(d.terms))/avg))
			if slices.Contains(d.terms, c) {
				sum += idf * weightQuestion * norm
			} else if _, ok := slices.BinarySearch(q.keys[c], int32(o)); ok {
				sum += idf * weightKeyword * norm
			}
		}
		if sum > 0 {
			all = append(all, scored{int32(o), d.EntryID, sum})
		}
	}
	sort.Slice(all, func(a, b int) bool { return worse(all[b], all[a]) })
	for _, s := range all[:min(k, len(all))] {
		exhaustive = append(exhaustive, ScoredEntry{s.id, s.score})
	}
	return fast, exhaustive
}

// LoadRarity reads a gojieba dictionary file's word rarity table and
// returns its weight function.
func LoadRarity(path string) (func(string) float64, error) {
	r, err := loadRarity(path)
	if err != nil {
		return nil, err
	}
	return r.weight, nil
}

// MappingVersionOf is the index mapping version for the given embedded
// dictionaries.
func MappingVersionOf(userDict []byte, synonyms string) string {
	return mappingVersion(userDict, synonyms)
}

// StoreMappingVersion overwrites the mapping version recorded in the
// (closed) index in dir, as an index built by another release would hold.
func StoreMappingVersion(dir, version string) error {
	bi, err := bleve.Open(dir)
	if err != nil {
		return err
	}
	if err := bi.SetInternal(internalVersionKey, []byte(version)); err != nil {
		bi.Close()
		return err
	}
	return bi.Close()
}

// CheckHMMModel reports the first line of a gojieba HMM model file that
// gojieba would reject.
func CheckHMMModel(path string) error { return checkHMMModel(path) }

// MatterNamed exposes matterNamed to the tests.
var MatterNamed = matterNamed

// FeedOf feeds Build the given entries, in order.
func FeedOf(entries []*kb.Entry) func(yield func(*kb.Entry) error) error {
	return func(yield func(*kb.Entry) error) error {
		for _, e := range entries {
			if err := yield(e); err != nil {
				return err
			}
		}
		return nil
	}
}
