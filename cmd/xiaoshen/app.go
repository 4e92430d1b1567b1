package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	// Calibration is the deployment calibration file to answer with, used
	// when it exists: calibration.json of the data directory for serve and
	// explain, of the source directory for a copy. Commands that never
	// state a confidence (import, reindex, check) leave it empty.
	Calibration string
	// CalibrationNotices, when set, is told in plain words why a
	// calibration file is set aside, and a damaged one is set aside
	// instead of stopping the open: for the copies that eval, explain and
	// calibrate work on (calibrate must run to replace a damaged file).
	CalibrationNotices io.Writer
	// Notices, when set, is told in plain words what the person running a
	// one-shot command (check, import …) should know about the data
	// directory; serve leaves it nil and logs the same as a warning.
	Notices io.Writer
}

// app is an opened data directory: store, index and the domain service.
type app struct {
	cfg      appConfig
	lock     *dataLock
	calendar *kb.Calendar
	store    *store.Store
	index    *search.Index
	service  *kb.Service
	seg      *search.Segmenter
	// model is the matcher's model with the deployment's calibration, or
	// nil for the built-in one.
	model *search.Model
	// seeded is set when this start loaded the embedded corpus.
	seeded bool
}

func (cfg appConfig) dbPath() string { return filepath.Join(cfg.DataDir, "xiaoshen.db") }

// requireDatabase refuses a data directory without a database, for the
// commands that look after an existing one: a mistyped --data would
// otherwise get a new, empty database that checks out fine.
func requireDatabase(dir string) error {
	if _, err := os.Stat(appConfig{DataDir: dir}.dbPath()); err != nil {
		return fmt.Errorf("数据目录 %s 中没有知识库（xiaoshen.db）：路径是否写错？新部署请先运行 xiaoshen serve 或 xiaoshen import", dir)
	}
	return nil
}
func (cfg appConfig) indexPath() string { return filepath.Join(cfg.DataDir, "index") }

// deploymentCalibration reads the calibration file at path: nothing when
// there is none; the file and the built-in model calibrated by it; or,
// with the file when it could be read, why it cannot be used (damaged, or
// fitted with another model, errors.Is search.ErrCalibrationStale).
func deploymentCalibration(path string) (*search.DeploymentCalibration, *search.Model, error) {
	c, err := search.ReadCalibration(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := search.DefaultModel.WithCalibration(c)
	if err != nil {
		return c, nil, fmt.Errorf("calibration %s: %w", path, err)
	}
	return c, m, nil
}

// loadCalibration returns the built-in model with the deployment's
// calibration (`xiaoshen calibrate`), or nil when there is none. A file
// that cannot be read stops the start (unless CalibrationNotices): the
// service would otherwise answer at a threshold nobody chose. One fitted
// with another model (the binary was upgraded since) is set aside with a
// warning: its numbers mean nothing with this model's, and the built-in
// calibration is the safer one until it is fitted again.
func loadCalibration(cfg appConfig) (*search.Model, error) {
	if cfg.Calibration == "" {
		return nil, nil
	}
	c, m, err := deploymentCalibration(cfg.Calibration)
	if err != nil && cfg.CalibrationNotices != nil {
		fmt.Fprintf(cfg.CalibrationNotices, "注意：不使用本部署的校准，改用内置校准：%v\n", err)
	}
	switch {
	case err == nil && m == nil:
		return nil, nil
	case errors.Is(err, search.ErrCalibrationStale):
		cfg.Logger.Warn("deployment calibration fitted with another model; using the built-in one until xiaoshen calibrate is run again", "error", err.Error())
		return nil, nil
	case err != nil && cfg.CalibrationNotices != nil:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%w（删除或移走该文件即恢复内置校准，再运行 xiaoshen calibrate 重新拟合）", err)
	}
	cfg.Logger.Info("deployment calibration loaded", "file", cfg.Calibration, "threshold", c.Profile.Threshold,
		"questions", c.Questions, "fitted_at", c.FittedAt.Format(time.RFC3339))
	return m, nil
}

// loadCalendar returns the embedded calendar plus the years imported into
// the data directory and those given on the command line.
func loadCalendar(cfg appConfig) (*kb.Calendar, error) {
	cal := kb.NewCalendar()
	files, _ := filepath.Glob(filepath.Join(cfg.DataDir, "calendar", "*.json"))
	for i, f := range append(files, cfg.CalendarFiles...) {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("calendar %s: %w", f, err)
		}
		years, err := cal.Load(fh)
		fh.Close()
		if err != nil && i < len(files) {
			// Imported by an earlier version whose checks were looser: the
			// service starts on the rest, and says so.
			cfg.Logger.Warn("imported holiday arrangement set aside; import a corrected file with xiaoshen calendar import", "file", f, "error", kb.ErrorMessage(err))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("calendar %s: %w", f, err)
		}
		cfg.Logger.Info("calendar loaded", "file", f, "years", years)
	}
	if y := time.Now().In(kb.Shanghai).Year(); !cal.Published(y + 1) {
		if cfg.Notices != nil {
			fmt.Fprintf(cfg.Notices, "提醒：%d 年的节假日安排尚未导入，该年的期限暂只按周末休息计算；安排公布后请用 xiaoshen calendar import 导入\n", y+1)
		} else {
			cfg.Logger.Warn("official holiday arrangement not loaded; deadlines in that year assume Monday to Friday and are marked provisional", "year", y+1)
		}
	}
	return cal, nil
}

// openApp opens the store, seeds it on first use, and opens the index,
// repairing it from the store: the queued changes a crash or a failed index
// update left behind, then any difference in entries or versions. An index
// that is missing, unreadable or of an old mapping version is rebuilt.
func openApp(ctx context.Context, cfg appConfig) (*app, error) {
	a, err := openData(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := a.openIndex(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openData locks the data directory and opens the store, seeding it when
// asked; the index is left closed.
func openData(ctx context.Context, cfg appConfig) (*app, error) {
	logger := cfg.Logger
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, lock: lock}
	fail := func(err error) (*app, error) {
		a.Close()
		return nil, err
	}
	if a.calendar, err = loadCalendar(cfg); err != nil {
		return fail(err)
	}
	dictDir, err := search.ResolveDictDir(cfg.DictDir)
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	if a.seg, err = search.LoadSegmenter(dictDir); err != nil {
		return fail(err)
	}
	logger.Info("segmenter loaded", "dict", dictDir, "duration_ms", time.Since(start).Milliseconds())
	if a.model, err = loadCalibration(cfg); err != nil {
		return fail(err)
	}
	if a.store, err = store.Open(cfg.dbPath()); err != nil {
		return fail(err)
	}
	if cfg.Seed {
		if a.seeded, err = a.seed(ctx); err != nil {
			return fail(err)
		}
	}
	return a, nil
}

// openIndex opens and repairs the index, or rebuilds it.
func (a *app) openIndex(ctx context.Context) error {
	logger := a.cfg.Logger
	idx, err := search.Open(a.cfg.indexPath(), a.seg)
	if err == nil && a.seeded {
		idx.Close()
		idx, err = nil, fmt.Errorf("%w: the store was just seeded", search.ErrRebuildNeeded)
	}
	if err == nil {
		a.useIndex(idx)
		report, cerr := a.checkIndex(ctx, true)
		switch {
		case cerr != nil:
			logger.Warn("index unreadable; rebuilding", "error", cerr.Error())
			idx.Close()
			a.index, a.service = nil, nil
			err = fmt.Errorf("%w: %v", search.ErrRebuildNeeded, cerr)
		case report.Repaired:
			logger.Warn("index repaired from the store", "store_entries", report.StoreEntries, "index_documents", report.IndexDocuments,
				"queued", report.Queued, "missing", len(report.Missing), "stale", len(report.Stale), "extra", len(report.Extra))
			return nil
		default:
			logger.Info("index consistent with the store", "entries", report.StoreEntries)
			return nil
		}
	}
	if !errors.Is(err, search.ErrRebuildNeeded) {
		return err
	}
	logger.Info("building index", "reason", err.Error())
	return a.rebuild(ctx, nil)
}

// useIndex makes idx the app's index and builds the service on it.
func (a *app) useIndex(idx *search.Index) {
	if a.model != nil {
		idx.SetModel(a.model)
	}
	a.index = idx
	a.service = kb.NewService(a.store, idx, idx, a.calendar, a.cfg.Logger)
	a.service.Threshold = idx.Model().Threshold
}

// checkIndex compares the index with the store, repairing it when asked. A
// corrupt index can make bleve panic while reading it; that is reported as
// an error, so that the caller rebuilds.
func (a *app) checkIndex(ctx context.Context, repair bool) (report *kb.IndexReport, err error) {
	defer func() {
		if p := recover(); p != nil {
			report, err = nil, fmt.Errorf("reading the index panicked: %v", p)
		}
	}()
	return a.service.CheckIndex(ctx, repair)
}

// rebuild builds the index from the store, makes it the app's index, and
// empties the index queue: the entries it holds are taken off, and queued
// deletions are applied. The caller holds the data directory's lock, so no
// write runs meanwhile.
func (a *app) rebuild(ctx context.Context, progress func(int)) error {
	start := time.Now()
	var indexed []kb.EntryVersion
	idx, err := search.Build(ctx, a.cfg.indexPath(), a.seg, func(yield func(*kb.Entry) error) error {
		return a.store.EachEntry(ctx, func(e *kb.Entry) error {
			indexed = append(indexed, kb.EntryVersion{ID: e.ID, Version: e.Version})
			return yield(e)
		})
	}, progress)
	if err != nil {
		return err
	}
	a.useIndex(idx)
	if err := a.store.MarkIndexed(ctx, indexed); err != nil {
		return err
	}
	if _, err := a.service.RepairQueue(ctx, time.Time{}); err != nil {
		return err
	}
	n, _ := idx.Count()
	a.cfg.Logger.Info("index built", "entries", n, "duration_ms", time.Since(start).Milliseconds())
	if a.cfg.Metrics != nil {
		a.cfg.Metrics.IndexRebuilt()
	}
	return nil
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

// Close closes the index and the store, then releases the data directory.
func (a *app) Close() error {
	var errs []error
	if a.index != nil {
		errs = append(errs, a.index.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	errs = append(errs, a.lock.Release())
	return errors.Join(errs...)
}
