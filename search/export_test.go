package search

import "reflect"

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
	got := idx.analyzeCandidate(text, stats)
	return reflect.DeepEqual(got, idx.analyze(text, stats)), cached
}
