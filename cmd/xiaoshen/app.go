package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"xiaoshen/corpus"
	"xiaoshen/ingest"
	"xiaoshen/kb"
	"xiaoshen/metrics"
	"xiaoshen/search"
	"xiaoshen/store"
)

// appConfig is what every subcommand that opens a data directory needs.
type appConfig struct {
	DataDir       string
	DictDir       string
	CalendarFiles []string
	Seed          bool
	Logger        *slog.Logger
	// Metrics, when set, counts index rebuilds.
	Metrics *metrics.Registry
}

// app is an opened data directory: store, index and the domain service.
type app struct {
	cfg     appConfig
	store   *store.Store
	index   *search.Index
	service *kb.Service
	seg     *search.Segmenter
}

func (cfg appConfig) dbPath() string    { return filepath.Join(cfg.DataDir, "xiaoshen.db") }
func (cfg appConfig) indexPath() string { return filepath.Join(cfg.DataDir, "index") }

// loadCalendar returns the embedded calendar plus the years imported into
// the data directory and those given on the command line.
func loadCalendar(cfg appConfig) (*kb.Calendar, error) {
	cal := kb.NewCalendar()
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "calendar", "*.json"))
	for _, f := range append(files, cfg.CalendarFiles...) {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("calendar %s: %w", f, err)
		}
		years, err := cal.Load(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("calendar %s: %w", f, err)
		}
		cfg.Logger.Info("calendar loaded", "file", f, "years", years)
	}
	if y := time.Now().In(kb.Shanghai).Year(); !cal.Published(y + 1) {
		cfg.Logger.Warn("official holiday arrangement not loaded; deadlines in that year assume Monday to Friday and are marked provisional", "year", y+1)
	}
	return cal, nil
}

// openApp opens the store, seeds it on first use, and opens the index,
// rebuilding it when it is missing, of an old mapping version, or out of
// step with the store.
func openApp(ctx context.Context, cfg appConfig) (*app, error) {
	logger := cfg.Logger
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	cal, err := loadCalendar(cfg)
	if err != nil {
		return nil, err
	}
	dictDir, err := search.ResolveDictDir(cfg.DictDir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	seg, err := search.LoadSegmenter(dictDir)
	if err != nil {
		return nil, err
	}
	logger.Info("segmenter loaded", "dict", dictDir, "duration_ms", time.Since(start).Milliseconds())

	st, err := store.Open(cfg.dbPath())
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, store: st, seg: seg}
	seeded := false
	if cfg.Seed {
		if seeded, err = a.seed(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	idx, err := search.Open(cfg.indexPath(), seg)
	if err == nil && !seeded {
		var live int
		var indexed uint64
		if live, err = st.CountEntries(ctx); err == nil {
			if indexed, err = idx.Count(); err == nil && uint64(live) != indexed {
				logger.Warn("index out of step with store; rebuilding", "store_entries", live, "index_entries", indexed)
				idx.Close()
				idx, err = nil, search.ErrRebuildNeeded
			}
		}
	} else if err == nil {
		idx.Close()
		idx, err = nil, search.ErrRebuildNeeded
	}
	if errors.Is(err, search.ErrRebuildNeeded) {
		logger.Info("building index", "reason", err.Error())
		idx, err = a.rebuild(ctx, nil)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	a.index = idx
	a.service = kb.NewService(st, idx, idx, cal, logger)
	a.service.Threshold = idx.Model().Threshold
	return a, nil
}

// rebuild builds the index from the store.
func (a *app) rebuild(ctx context.Context, progress func(int)) (*search.Index, error) {
	start := time.Now()
	idx, err := search.Build(ctx, a.cfg.indexPath(), a.seg, func(yield func(*kb.Entry) error) error {
		return a.store.EachEntry(ctx, yield)
	}, progress)
	if err != nil {
		return nil, err
	}
	n, _ := idx.Count()
	a.cfg.Logger.Info("index built", "entries", n, "duration_ms", time.Since(start).Milliseconds())
	if a.cfg.Metrics != nil {
		a.cfg.Metrics.IndexRebuilt()
	}
	return idx, nil
}

// seed loads the embedded corpus into an empty store, in one transaction.
func (a *app) seed(ctx context.Context) (bool, error) {
	n, err := a.store.CountEntries(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		return false, fmt.Errorf("embedded corpus: %w", errors.Join(errs...))
	}
	entries := make([]*kb.Entry, len(recs))
	for i, r := range recs {
		entries[i] = r.Entry
	}
	if err := a.store.CreateEntries(ctx, entries, kb.SeedActor); err != nil {
		return false, fmt.Errorf("seed: %w", err)
	}
	a.cfg.Logger.Info("seeded the embedded corpus", "entries", len(entries))
	return true, nil
}

func (a *app) Close() error {
	var errs []error
	if a.index != nil {
		errs = append(errs, a.index.Close())
	}
	errs = append(errs, a.store.Close())
	return errors.Join(errs...)
}
