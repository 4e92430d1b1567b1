package kb

import (
	"context"
	"fmt"
	"runtime"
	"sync"
)

// WordingClash is a wording that another live entry already has, as the
// matcher reads it: two entries with one question between them leave the
// answer to chance, and the one a reviewer or maintainer meant may lose.
type WordingClash struct {
	Wording    string // the wording given
	EntryID    int64  // the entry that has it already
	EntryTitle string
	Department string
	Theirs     string // that entry's wording
}

func (c *WordingClash) String() string {
	if c.Theirs == c.Wording {
		return fmt.Sprintf("问法“%s”已是条目 %d“%s”（%s）的问法", c.Wording, c.EntryID, c.EntryTitle, c.Department)
	}
	return fmt.Sprintf("问法“%s”与条目 %d“%s”（%s）的问法“%s”在小申看来是同一个问题", c.Wording, c.EntryID, c.EntryTitle, c.Department, c.Theirs)
}

// wordingClash returns a live entry, other than those skip names, that
// already has a wording the matcher reads as the same question as w, or
// nil. Such an entry is among the first candidates for w, as an exact
// match ranks above any other.
func (s *Service) wordingClash(ctx context.Context, w string, skip func(id int64) bool) (*WordingClash, error) {
	if s.Analyzer == nil {
		return nil, nil
	}
	key := s.Analyzer.WordingKey(w)
	if key == "" {
		return nil, nil
	}
	cands, err := s.Index.Match(ctx, w, 3)
	if err != nil {
		return nil, err
	}
	var same []Candidate
	for _, c := range cands {
		if !skip(c.EntryID) && c.MatchedQuestion != "" && s.Analyzer.WordingKey(c.MatchedQuestion) == key {
			same = append(same, c)
		}
	}
	if len(same) == 0 {
		return nil, nil
	}
	if same, err = s.live(ctx, same, s.Now()); err != nil || len(same) == 0 {
		return nil, err
	}
	c := same[0]
	return &WordingClash{Wording: w, EntryID: c.EntryID, EntryTitle: c.Title, Department: c.Department, Theirs: c.MatchedQuestion}, nil
}

// firstClash checks wordings in order and returns the first clash.
func (s *Service) firstClash(ctx context.Context, wordings []string, skip func(id int64) bool) (*WordingClash, error) {
	for _, w := range wordings {
		c, err := s.wordingClash(ctx, w, skip)
		if c != nil || err != nil {
			return c, err
		}
	}
	return nil, nil
}

// wordingKeys keys texts on every core: an upload keys every wording of the
// upload and of the KB.
func (s *Service) wordingKeys(texts []string) []string {
	keys := make([]string, len(texts))
	workers := runtime.GOMAXPROCS(0)
	chunk := (len(texts) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(texts); lo += chunk {
		hi := min(lo+chunk, len(texts))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				keys[i] = s.Analyzer.WordingKey(texts[i])
			}
		})
	}
	wg.Wait()
	return keys
}
