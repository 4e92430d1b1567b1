package search

import "sync"

// analysisCacheSize bounds the candidate texts kept analysed: about 2 KB
// each, so some 30 MB at most. The whole corpus fits many times over; on a
// 50,000-entry KB it holds the texts that popular questions keep drawing.
const analysisCacheSize = 16384

// analysisCache keeps the analysed form of candidate texts (standard and
// similar questions) for one version of the term statistics, so that a text
// is cut and weighed once rather than on every question it is a candidate
// for. An analysis depends only on the text and the statistics, so a new
// statistics version (after any index write) starts an empty cache.
//
// Two generations bound its size: when the recent one is full it becomes
// the older one, and a text found in the older one moves back, so texts in
// use stay and the rest fall out.
type analysisCache struct {
	mu     sync.Mutex
	stats  *termStats
	recent map[string]*analyzed
	older  map[string]*analyzed
}

// get returns the analysis of text under stats, computing it with analyze
// when it is not cached. Analyses are never modified once made, so callers
// share them.
func (c *analysisCache) get(text string, stats *termStats, analyze func(string, *termStats) *analyzed) *analyzed {
	c.mu.Lock()
	if c.stats != stats {
		c.stats, c.recent, c.older = stats, map[string]*analyzed{}, nil
	}
	if a, ok := c.recent[text]; ok {
		c.mu.Unlock()
		return a
	}
	if a, ok := c.older[text]; ok {
		c.putLocked(text, a)
		c.mu.Unlock()
		return a
	}
	c.mu.Unlock()

	a := analyze(text, stats)
	c.mu.Lock()
	if c.stats == stats {
		c.putLocked(text, a)
	}
	c.mu.Unlock()
	return a
}

func (c *analysisCache) putLocked(text string, a *analyzed) {
	if len(c.recent) >= analysisCacheSize/2 {
		c.older, c.recent = c.recent, make(map[string]*analyzed, analysisCacheSize/2)
	}
	c.recent[text] = a
}

// analyzeCached is analyze through the cache when it is on: for entries'
// question texts, and for the user's question, which the matcher and then,
// if unanswered, grouping both analyse.
func (idx *Index) analyzeCached(text string, stats *termStats) *analyzed {
	if idx.candidates == nil {
		return idx.analyze(text, stats)
	}
	return idx.candidates.get(text, stats, idx.analyze)
}
