// Package testkb builds a real knowledge base (SQLite store, bleve index and
// domain service) in a temporary directory, for tests in other packages.
package testkb

import (
	"context"
	"errors"
	"fmt"
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
	// Entries are stored and indexed after the corpus, e.g. a large KB for
	// benchmarks.
	Entries []*kb.Entry
	// Now fixes the clock of the store and the service.
	Now func() time.Time
}

// MustSegmenter loads the process segmenter or fails the test.
func MustSegmenter(t testing.TB) *search.Segmenter {
	t.Helper()
	seg, err := loadSegmenter()
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

func loadSegmenter() (*search.Segmenter, error) {
	dir, err := search.ResolveDictDir("")
	if err != nil {
		return nil, err
	}
	return search.LoadSegmenter(dir)
}

// New opens a knowledge base in t.TempDir(), loaded with the corpus unless
// opts.Empty, and closes it when the test ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	env, err := Build(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	return env
}

// Build opens a knowledge base in dir, loaded with the corpus unless
// opts.Empty and then with opts.Entries; the caller closes it. Benchmarks
// use it to build a large KB once and share it.
func Build(dir string, opts Options) (*Env, error) {
	ctx := context.Background()
	seg, err := loadSegmenter()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(dir, "xiaoshen.db"))
	if err != nil {
		return nil, err
	}
	if opts.Now != nil {
		st.Now = opts.Now
	}
	env := &Env{Dir: dir, Store: st, ByExternalID: map[string]int64{}}
	var entries []*kb.Entry
	if !opts.Empty {
		recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
		if len(errs) > 0 {
			st.Close()
			return nil, fmt.Errorf("testkb: corpus: %w", errors.Join(errs...))
		}
		for _, r := range recs {
			entries = append(entries, r.Entry)
		}
	}
	entries = append(entries, opts.Entries...)
	if err := st.CreateEntries(ctx, entries, kb.SeedActor); err != nil {
		st.Close()
		return nil, fmt.Errorf("testkb: %w", err)
	}
	for _, e := range entries {
		if e.ExternalID != "" {
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
		st.Close()
		return nil, fmt.Errorf("testkb: %w", err)
	}
	if err := st.MarkIndexed(ctx, indexed); err != nil {
		idx.Close()
		st.Close()
		return nil, fmt.Errorf("testkb: %w", err)
	}
	env.Index = idx
	env.Service = kb.NewService(st, idx, idx, kb.NewCalendar(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	env.Service.Threshold = idx.Model().Threshold
	if opts.Now != nil {
		env.Service.Now = opts.Now
	}
	return env, nil
}

// Close closes the index and the store.
func (env *Env) Close() error {
	return errors.Join(env.Index.Close(), env.Store.Close())
}
