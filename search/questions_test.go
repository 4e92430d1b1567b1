package search_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"xiaoshen/corpus"
	"xiaoshen/ingest"
	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
	"xiaoshen/search"
)

// corpusEntries returns the embedded corpus as entries with ids 1, 2, ….
func corpusEntries(t *testing.T) []*kb.Entry {
	t.Helper()
	recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	entries := make([]*kb.Entry, len(recs))
	for i, r := range recs {
		entries[i] = r.Entry
		entries[i].ID = int64(i + 1)
		entries[i].Version = 1
	}
	return entries
}

// matchSummary is what Match returns for every corpus question, to compare
// two indexes.
func matchSummary(t *testing.T, idx *search.Index) []string {
	t.Helper()
	var out []string
	for _, q := range readQuestions(t) {
		cands, err := idx.Match(context.Background(), q.Question, 20)
		if err != nil {
			t.Fatal(err)
		}
		line := q.Question
		for _, c := range cands {
			line += fmt.Sprintf(" %d:%.9f:%.6f", c.EntryID, c.Score, c.Confidence)
		}
		out = append(out, line)
	}
	return out
}

// TestQuestionIndexAfterWritesEqualsLoaded builds the candidate index by
// writes (adds, edits, deletions, removals and a compaction), then reopens
// the index from disk, where it is loaded from bleve's segments, and checks
// that both hold the same entries, postings and frequencies and give the
// same candidates and confidences for every corpus question.
func TestQuestionIndexAfterWritesEqualsLoaded(t *testing.T) {
	defer search.SetCompactMin(20)()
	ctx := context.Background()
	seg := testkb.MustSegmenter(t)
	dir := filepath.Join(t.TempDir(), "index")
	entries := corpusEntries(t)
	half := len(entries) / 2
	idx, err := search.Build(ctx, dir, seg, search.FeedOf(entries[:half]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Put(ctx, entries[half:]...); err != nil {
		t.Fatal(err)
	}
	// Edit ten entries: one more similar question and a new keyword.
	for _, e := range entries[10:20] {
		e.Similar = append(e.Similar, e.Title+"怎么弄")
		e.Keywords = append(e.Keywords, "测试关键词")
		e.Version++
	}
	if err := idx.Put(ctx, entries[10:20]...); err != nil {
		t.Fatal(err)
	}
	// Delete ten through Put and five through Remove, then put one back.
	now := time.Now()
	for _, e := range entries[30:40] {
		e.DeletedAt = &now
	}
	if err := idx.Put(ctx, entries[30:40]...); err != nil {
		t.Fatal(err)
	}
	if err := idx.Remove(ctx, 41, 42, 43, 44, 45); err != nil {
		t.Fatal(err)
	}
	entries[30].DeletedAt = nil
	if err := idx.Put(ctx, entries[30]); err != nil {
		t.Fatal(err)
	}
	// Re-put everything unchanged so that dead ordinals outnumber live ones
	// and the index compacts.
	var live []*kb.Entry
	for _, e := range entries {
		if e.DeletedAt == nil && (e.ID < 41 || e.ID > 45) {
			live = append(live, e)
		}
	}
	if err := idx.Put(ctx, live...); err != nil {
		t.Fatal(err)
	}
	written, dead := search.QuestionIndexDump(idx)
	if dead != 0 {
		t.Errorf("%d dead ordinals after re-putting every entry, want a compaction to 0", dead)
	}
	writtenMatches := matchSummary(t, idx)
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}

	idx, err = search.Open(dir, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	loaded, _ := search.QuestionIndexDump(idx)
	if written != loaded {
		t.Fatalf("question index built by writes differs from the one loaded from disk:\nwritten:\n%.2000s\nloaded:\n%.2000s", written, loaded)
	}
	for i, got := range matchSummary(t, idx) {
		if got != writtenMatches[i] {
			t.Errorf("after reopening:\n got %s\nwant %s", got, writtenMatches[i])
		}
	}
	for _, id := range []int64{31, 41, 45} {
		cands, err := idx.Match(ctx, entries[id-1].Title, 20)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range cands {
			found = found || c.EntryID == id
		}
		if want := id == 31; found != want {
			t.Errorf("entry %d (%s) among the candidates for its own title: %v, want %v", id, entries[id-1].Title, found, want)
		}
	}
}

// TestCandidatesStopEarlyWithoutLoss checks that picking candidates with
// early termination gives the same entries and scores as scoring every
// entry on every term, for every corpus question.
func TestCandidatesStopEarlyWithoutLoss(t *testing.T) {
	env := testkb.New(t, testkb.Options{})
	for _, q := range readQuestions(t) {
		for _, k := range []int{1, 5, 20} {
			fast, slow := search.Candidates(env.Index, q.Question, k)
			if len(fast) != len(slow) {
				t.Fatalf("%s, k=%d: %d candidates, exhaustive %d", q.Question, k, len(fast), len(slow))
			}
			for i := range fast {
				if fast[i].ID != slow[i].ID || math.Abs(fast[i].Score-slow[i].Score) > 1e-9 {
					t.Errorf("%s, k=%d, #%d: %+v, exhaustive %+v", q.Question, k, i+1, fast[i], slow[i])
				}
			}
		}
	}
}
