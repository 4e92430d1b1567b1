// Package testkb builds a real knowledge base (SQLite store, bleve index and
// domain service) in a temporary directory, for tests in other packages.
package testkb

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"xiaoshen/corpus"
	"xiaoshen/ingest"
	"xiaoshen/kb"
	"xiaoshen/search"
	"xiaoshen/store"
)

// Env is an opened knowledge base.
type Env struct {
	Dir     string
	Store   *store.Store
	Index   *search.Index
	Service *kb.Service
	// ByExternalID maps corpus ids to entry ids.
	ByExternalID map[string]int64
}

// Options configures New.
type Options struct {
	// Empty skips loading the embedded corpus.
	Empty bool
	// Now fixes the clock of the store and the service.
	Now func() time.Time
}

// MustSegmenter loads the process segmenter or fails the test.
func MustSegmenter(t testing.TB) *search.Segmenter {
	t.Helper()
	dir, err := search.ResolveDictDir("")
	if err != nil {
		t.Fatal(err)
	}
	seg, err := search.LoadSegmenter(dir)
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

// New opens a knowledge base in t.TempDir(), loaded with the corpus unless
// opts.Empty, and closes it when the test ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx := context.Background()
	seg := MustSegmenter(t)
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "xiaoshen.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opts.Now != nil {
		st.Now = opts.Now
	}
	env := &Env{Dir: dir, Store: st, ByExternalID: map[string]int64{}}
	if !opts.Empty {
		recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
		if len(errs) > 0 {
			t.Fatalf("corpus: %v", errs)
		}
		entries := make([]*kb.Entry, len(recs))
		for i, r := range recs {
			entries[i] = r.Entry
		}
		if err := st.CreateEntries(ctx, entries, kb.SeedActor); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			env.ByExternalID[e.ExternalID] = e.ID
		}
	}
	var indexed []kb.EntryVersion
	idx, err := search.Build(ctx, filepath.Join(dir, "index"), seg, func(yield func(*kb.Entry) error) error {
		return st.EachEntry(ctx, func(e *kb.Entry) error {
			indexed = append(indexed, kb.EntryVersion{ID: e.ID, Version: e.Version})
			return yield(e)
		})
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkIndexed(ctx, indexed); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	env.Index = idx
	env.Service = kb.NewService(st, idx, idx, kb.NewCalendar(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	env.Service.Threshold = idx.Model().Threshold
	if opts.Now != nil {
		env.Service.Now = opts.Now
	}
	return env
}
