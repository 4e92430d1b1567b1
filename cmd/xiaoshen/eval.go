package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"xiaoshen/corpus"
	"xiaoshen/ingest"
	"xiaoshen/kb"
	"xiaoshen/search"
)

// openScratchApp opens an app on a new temporary data directory, holding
// the embedded corpus when seed is set, with its logs discarded. done
// closes it and removes the directory.
func openScratchApp(ctx context.Context, dict string, seed bool) (a *app, done func(), err error) {
	tmp, err := os.MkdirTemp("", "xiaoshen-scratch-")
	if err != nil {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if a, err = openApp(ctx, appConfig{DataDir: filepath.Join(tmp, "data"), DictDir: dict, Seed: seed, Logger: logger}); err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	return a, func() { a.Close(); os.RemoveAll(tmp) }, nil
}

// loadEvalSet adds an evaluation set's standard questions to the app's KB
// through the upload path, as an administrator named who; entries that
// fail validation are skipped and counted in the result.
func (a *app) loadEvalSet(ctx context.Context, set *search.EvalSet, who string) (*kb.SyncResult, error) {
	rows := make([]kb.SyncRow, len(set.Entries))
	for i, e := range set.Entries {
		rows[i] = kb.SyncRow{File: set.Name, Row: i + 1, Entry: e}
	}
	return a.service.Sync(ctx, &kb.Principal{Name: who, Role: kb.RoleAdmin}, kb.SyncRequest{Rows: rows, SkipInvalid: true})
}

// runEval measures answer quality on a labelled question set, loading it
// into a fresh temporary data directory through the same upload and ask
// code the server uses, and prints the project beside two baselines.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr)
	tianchi := fs.String("tianchi", "", "Tianchi similar-question CSV (category,query1,query2,label)")
	kuake := fs.String("kuake", "", "KUAKE-QQR JSON array")
	questions := fs.String("corpus-questions", "", "evaluate on the embedded corpus with these question TSV files (a folder or file)")
	threshold := fs.Float64("threshold", 0, "answer threshold (default: the calibration profile's)")
	profile := fs.String("calibration", "", "calibration profile of the model (default: the one fitted on a set of the same name, else the model's default)")
	baselines := fs.Bool("baselines", true, "also evaluate the two baselines")
	dict := fs.String("dict", "", "gojieba dictionary folder")
	dump := fs.String("dump", "", "write the project's per-question outcomes to this TSV file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dumpPath = *dump
	var set *search.EvalSet
	var err error
	switch {
	case *tianchi != "":
		set, err = search.LoadTianchi(*tianchi)
	case *kuake != "":
		set, err = search.LoadKuake(*kuake)
	case *questions != "":
		set, err = loadCorpusSet(*questions)
	default:
		return usageError{fmt.Errorf("需要 --tianchi FILE、--kuake FILE 或 --corpus-questions DIR 其中之一")}
	}
	if err != nil {
		return err
	}
	reports, err := evaluate(ctx, set, *dict, *profile, *threshold, *baselines, stderr)
	if err != nil {
		return err
	}
	search.WriteReports(stdout, set.Name, reports)
	return nil
}

// evaluate runs the project and, optionally, the baselines on set.
func evaluate(ctx context.Context, set *search.EvalSet, dict, profile string, threshold float64, baselines bool, progressOut io.Writer) ([]search.Report, error) {
	a, done, err := openScratchApp(ctx, dict, set.Name == "corpus")
	if err != nil {
		return nil, err
	}
	defer done()
	model := a.index.Model()
	if profile == "" {
		if m, err := model.WithProfile(set.Name); err == nil {
			model = m
		}
	} else if model, err = model.WithProfile(profile); err != nil {
		return nil, err
	}
	a.index.SetModel(model)
	a.service.Threshold = model.Threshold
	if threshold > 0 {
		a.service.Threshold = threshold
	}
	fmt.Fprintf(progressOut, "校准：%s，阈值 %.3f\n", model.Profile, a.service.Threshold)
	if set.Name != "corpus" {
		res, err := a.loadEvalSet(ctx, set, "eval")
		if err != nil {
			return nil, err
		}
		if res.Rejected > 0 {
			fmt.Fprintf(progressOut, "注意：%d 个评测条目未通过校验而跳过（%s）\n", res.Rejected, res.Errors[0])
		}
	}
	keyOf := map[int64]string{}
	if err := a.store.EachEntry(ctx, func(e *kb.Entry) error { keyOf[e.ID] = e.ExternalID; return nil }); err != nil {
		return nil, err
	}

	start := time.Now()
	bar := newProgress(progressOut, "评测", len(set.Questions))
	project := make([]search.Outcome, len(set.Questions))
	for i, q := range set.Questions {
		ranking, err := search.RankWithIndex(ctx, a.index, q.Question, keyOf)
		if err != nil {
			return nil, err
		}
		res, err := a.service.Ask(ctx, kb.AskRequest{Question: q.Question, Channel: "eval"})
		if err != nil {
			return nil, fmt.Errorf("ask %q: %w", q.Question, err)
		}
		project[i].Ranking = ranking
		if res.Answered {
			project[i].Answered = keyOf[res.Answer.EntryID]
		}
		bar.Set(i + 1)
	}
	bar.Done()
	if dumpPath != "" {
		if err := dumpOutcomes(dumpPath, set, project); err != nil {
			return nil, err
		}
	}
	reports := []search.Report{search.Score("xiaoshen", set, project, a.service.Threshold)}
	fmt.Fprintf(progressOut, "xiaoshen: %d 个问题，用时 %s\n", len(set.Questions), time.Since(start).Round(time.Millisecond))
	if !baselines {
		return reports, nil
	}
	for _, kind := range []string{search.BaselineCJK, search.BaselineJieba} {
		b, err := search.NewBaseline(filepath.Join(filepath.Dir(a.cfg.DataDir), kind), kind, set.Entries) // beside the scratch data directory, removed with it
		if err != nil {
			return nil, err
		}
		rankings := make([][]search.Ranked, len(set.Questions))
		for i, q := range set.Questions {
			if rankings[i], err = b.Rank(ctx, q.Question); err != nil {
				b.Close()
				return nil, err
			}
		}
		b.Close()
		search.NormaliseTopScores(rankings)
		outcomes := make([]search.Outcome, len(rankings))
		for i := range rankings {
			outcomes[i].Ranking = rankings[i]
		}
		// A baseline answers its top-1 at its own best threshold.
		th := search.Score(kind, set, outcomes, 0).BestAt10Threshold
		for i, r := range rankings {
			if len(r) > 0 && r[0].Confidence >= th {
				outcomes[i].Answered = r[0].Key
			}
		}
		reports = append(reports, search.Score(kind, set, outcomes, th))
	}
	return reports, nil
}

// loadCorpusSet reads corpus question TSV files (question, expected id or
// -), a file or every .tsv file of a folder, against the embedded corpus.
func loadCorpusSet(path string) (*search.EvalSet, error) {
	files := []string{path}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.tsv")); err != nil {
			return nil, err
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: 没有问题文件（*.tsv）", path)
	}
	recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		return nil, errs[0]
	}
	set := &search.EvalSet{Name: "corpus"}
	for _, r := range recs {
		set.Entries = append(set.Entries, r.Entry)
	}
	return set, set.LoadQuestionTSV(files...)
}

// dumpPath, when set, receives the per-question outcomes of the project.
var dumpPath string

// dumpOutcomes writes kind, question, expected title, top-1 title and its
// confidence, one question a line, for reading the errors.
func dumpOutcomes(path string, set *search.EvalSet, outcomes []search.Outcome) error {
	title := map[string]string{}
	for _, e := range set.Entries {
		title[e.ExternalID] = e.Title
	}
	var b strings.Builder
	b.WriteString("kind\tquestion\texpected\ttop1\tconfidence\ttop1_right\n")
	for i, q := range set.Questions {
		kind := "paraphrase"
		if q.Negative {
			kind = "negative"
		} else if q.Key == "" {
			kind = "uncovered"
		}
		top, conf := "", 0.0
		if r := outcomes[i].Ranking; len(r) > 0 {
			top, conf = r[0].Key, r[0].Confidence
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%.3f\t%v\n", kind, q.Question, title[q.Key], title[top], conf, top == q.Key)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
