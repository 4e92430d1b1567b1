package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"xiaoshen/corpus"
	"xiaoshen/ingest"
	"xiaoshen/kb"
	"xiaoshen/search"
	"xiaoshen/store"
)

// scratch says what a scratch app starts with: the embedded corpus when
// seed is set, or an online copy of the database fromDB, indexed with a
// progress bar on progress.
type scratch struct {
	dict   string
	seed   bool
	fromDB string
	// calibration is the deployment calibration file to use, that of
	// the data directory fromDB is copied from.
	calibration string
	progress    io.Writer
}

// openScratchApp opens an app on a new temporary data directory with its
// logs discarded. done closes it and removes the directory.
func openScratchApp(ctx context.Context, sc scratch) (a *app, done func(), err error) {
	tmp, err := os.MkdirTemp("", "xiaoshen-scratch-")
	if err != nil {
		return nil, nil, err
	}
	cfg := appConfig{DataDir: filepath.Join(tmp, "data"), DictDir: sc.dict, Seed: sc.seed, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if sc.calibration != "" {
		// Say when the deployment's calibration is set aside: the figures
		// are then the built-in one's.
		cfg.Calibration, cfg.CalibrationNotices = sc.calibration, cmp.Or(sc.progress, io.Discard)
	}
	if sc.fromDB == "" {
		a, err = openApp(ctx, cfg)
	} else {
		a, err = openCopy(ctx, cfg, sc.fromDB, sc.progress)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	return a, func() { a.Close(); os.RemoveAll(tmp) }, nil
}

// openCopy opens an app on an online copy of the database db (a server
// may be writing to it), and indexes it.
func openCopy(ctx context.Context, cfg appConfig, db string, progress io.Writer) (*app, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, err
	}
	if _, err := store.Backup(ctx, db, cfg.dbPath(), time.Now()); err != nil {
		return nil, err
	}
	a, err := openData(ctx, cfg)
	if err != nil {
		return nil, err
	}
	total, err := a.store.CountEntries(ctx)
	if err == nil {
		bar := newProgress(progress, "建立索引", total)
		err = a.rebuild(ctx, bar.Set)
		bar.Done()
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// evalKey is the key an evaluation refers to an entry by: its 编号, or
// #ID when it has none (entries written on the review page).
func evalKey(e *kb.Entry) string {
	if e.ExternalID != "" {
		return e.ExternalID
	}
	return "#" + strconv.FormatInt(e.ID, 10)
}

// entryKeys maps the app's entry ids to their evaluation keys.
func (a *app) entryKeys(ctx context.Context) (map[int64]string, error) {
	keyOf := map[int64]string{}
	err := a.store.EachEntry(ctx, func(e *kb.Entry) error { keyOf[e.ID] = evalKey(e); return nil })
	return keyOf, err
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
	tianchi := fs.String("tianchi", "", "Tianchi 相似问题 CSV（category,query1,query2,label）")
	kuake := fs.String("kuake", "", "KUAKE-QQR JSON 数组")
	questions := fs.String("corpus-questions", "", "用这些问题 TSV 文件（目录或文件）评测内置知识库")
	threshold := fs.Float64("threshold", 0, "答复阈值（默认：有 --data 时同 serve，取环境变量 XIAOSHEN_THRESHOLD；否则取校准方案的阈值）")
	profile := fs.String("calibration", "", "模型的校准方案（默认：与评测集同名的方案，否则模型的默认方案）")
	baselines := fs.Bool("baselines", true, "同时评测两个基线（有 --data 时须显式指定）")
	dict := fs.String("dict", "", "gojieba 词典目录（默认：程序旁的 dict 目录，其次 Go 模块缓存）")
	dump := fs.String("dump", "", "把每个问题的结果写入此 TSV 文件")
	data := fs.String("data", "", "评测某个部署的知识库：其数据目录（服务可在运行；在副本上评测，不写入任何记录）；与 --questions 一起用")
	own := fs.String("questions", "", "with --data: labelled question files, .tsv, .csv or .xlsx (a header row, then a question and the expected entry's 编号 or #ID, several separated by commas when any answers, or - when uncovered), a folder or file")
	outOfScope := fs.Bool("out-of-scope", false, "with --data: also ask the questions reviewers dismissed as 超出本单位职能, as questions the KB does not cover")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dumpPath = *dump
	if *outOfScope && *data == "" {
		return usageError{fmt.Errorf("--out-of-scope 只能与 --data 一起使用")}
	}
	if (*data == "") != (*own == "") {
		return usageError{fmt.Errorf("--data 与 --questions 须一起使用：xiaoshen eval --data 数据目录 --questions 问题文件")}
	}
	if *data != "" {
		if *tianchi != "" || *kuake != "" || *questions != "" {
			return usageError{fmt.Errorf("--data 不能与 --tianchi、--kuake 或 --corpus-questions 同用")}
		}
		// The baselines are for comparing methods on shared sets; on a
		// deployment's KB they are only asked for.
		asked := false
		fs.Visit(func(f *flag.Flag) { asked = asked || f.Name == "baselines" })
		return evalDeployment(ctx, *data, *own, *dict, *outOfScope, *threshold, *baselines && asked, stdout, stderr)
	}
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
	reports, err := evaluateSet(ctx, set, *dict, *profile, *threshold, *baselines, stderr)
	if err != nil {
		return err
	}
	search.WriteReports(stdout, set.Name, reports)
	return nil
}

// evalDeployment evaluates the KB of the data directory dir with the
// labelled questions of path, on an online copy of its database: the
// deployment's data, its unanswered questions and its statistics are left
// as they were.
func evalDeployment(ctx context.Context, dir, path, dict string, outOfScope bool, threshold float64, baselines bool, stdout, stderr io.Writer) error {
	a, set, done, err := openDeploymentSet(ctx, dir, path, dict, outOfScope, stderr)
	if err != nil {
		return err
	}
	defer done()
	if threshold == 0 {
		if threshold, err = envThreshold(); err != nil {
			return err
		}
	}
	reports, outcomes, err := evaluate(ctx, a, set, "", threshold, baselines, stderr)
	if err != nil {
		return err
	}
	search.WriteReports(stdout, set.Name, reports)
	writeSuggestedThreshold(stdout, set, outcomes, reports[0].Threshold)
	return nil
}

// openDeploymentSet opens an online copy of the data directory dir (with
// its calibration) and the labelled questions of path over its entries.
// The question files' form is checked before the copy, which takes about
// 10 s at 50,000 entries; their expected entries after it.
func openDeploymentSet(ctx context.Context, dir, path, dict string, outOfScope bool, stderr io.Writer) (*app, *search.EvalSet, func(), error) {
	if err := requireDatabase(dir); err != nil {
		return nil, nil, nil, err
	}
	files, err := questionFiles(path)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkQuestionFiles(files); err != nil {
		return nil, nil, nil, err
	}
	start := time.Now()
	a, done, err := openScratchApp(ctx, scratch{dict: dict, fromDB: appConfig{DataDir: dir}.dbPath(), calibration: filepath.Join(dir, search.CalibrationFileName), progress: stderr})
	if err != nil {
		return nil, nil, nil, err
	}
	set, err := deploymentSet(ctx, a)
	if err == nil {
		fmt.Fprintf(stderr, "知识库副本（%s）：%d 个条目，复制并建立索引用时 %s\n", dir, len(set.Entries), time.Since(start).Round(time.Millisecond))
		err = loadQuestionFiles(set, files)
	}
	if err == nil && outOfScope {
		err = addOutOfScope(ctx, a, set, stderr)
	}
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return a, set, done, nil
}

// addOutOfScope adds to set, as questions the KB does not cover, every
// wording of the review items reviewers dismissed as 超出本单位职能: real
// questions the service must not answer, which are the hardest kind for
// maintainers to collect by hand. Wordings the question files already
// hold are not added twice.
func addOutOfScope(ctx context.Context, a *app, set *search.EvalSet, stderr io.Writer) error {
	seen := map[string]bool{}
	for _, q := range set.Questions {
		seen[q.Question] = true
	}
	added := 0
	const page = 500
	for offset := 0; ; offset += page {
		items, _, err := a.store.FindReviewItems(ctx, kb.ReviewFilter{Status: kb.StatusDismissed, Limit: page, Offset: offset})
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.DismissReason != kb.DismissOutOfScope {
				continue
			}
			for _, w := range it.Wordings {
				if q := strings.TrimSpace(w.Question); q != "" && !seen[q] {
					seen[q] = true
					set.Questions = append(set.Questions, search.EvalQuestion{Question: q, Source: fmt.Sprintf("审核页 #%d", it.ID)})
					added++
				}
			}
		}
		if len(items) < page {
			break
		}
	}
	fmt.Fprintf(stderr, "加入审核页驳回为“%s”的问题 %d 个，作为知识库未覆盖的问题\n", kb.DismissOutOfScope, added)
	return nil
}

// deploymentSet is an evaluation set over the entries of a's KB, each
// known by its evalKey, by #ID and by its bare ID; its questions are to be
// added.
func deploymentSet(ctx context.Context, a *app) (*search.EvalSet, error) {
	set := &search.EvalSet{Name: "deployed", Aliases: map[string]string{}}
	err := a.store.EachEntry(ctx, func(e *kb.Entry) error {
		key := evalKey(e)
		id := strconv.FormatInt(e.ID, 10)
		set.Aliases["#"+id], set.Aliases[id] = key, key
		c := *e
		c.ExternalID = key
		set.Entries = append(set.Entries, &c)
		return nil
	})
	return set, err
}

// writeSuggestedThreshold prints the threshold the built-in calibration's
// rule would choose on these questions, beside the one in use, when there
// are enough of them to mean something.
func writeSuggestedThreshold(w io.Writer, set *search.EvalSet, outcomes []search.Outcome, current float64) {
	const fewest, few = 50, 200
	rule := thresholdRule{maxWrong: 0.03, maxUncovered: 0.05}
	n := len(set.Questions)
	if n < fewest {
		fmt.Fprintf(w, "\n只有 %d 个问题，不给建议阈值：至少需要 %d 个（其中应有知识库未覆盖的问题）。\n", n, fewest)
		return
	}
	th, _ := chooseThreshold(set, slices.Clone(outcomes), rule)
	if th >= 1 {
		fmt.Fprintf(w, "\n没有阈值能让已覆盖的问题答错不超过 %.0f%% 且未覆盖的问题被答复不超过 %.0f%%：请看上面的阈值曲线，或先补充条目的相似问法。\n", rule.maxWrong*100, rule.maxUncovered*100)
		return
	}
	at := search.Score("", set, withAnswers(slices.Clone(outcomes), th), th)
	fmt.Fprintf(w, "\n建议阈值 %.3f（当前 %.3f）：已覆盖的问题答错不超过 %.0f%%、未覆盖的问题被答复不超过 %.0f%% 的最低阈值，与内置校准的规则相同；"+
		"按此阈值答对 %.3f、答错 %.3f，未覆盖的问题被答复 %.3f。\n",
		th, current, rule.maxWrong*100, rule.maxUncovered*100, at.AnsweredCorrect, at.AnsweredWrong, at.UncoveredAnswered)
	switch {
	case at.Uncovered == 0:
		fmt.Fprintln(w, "问题中没有知识库未覆盖的，建议值只看了答错，可能偏低。")
	case n < few:
		fmt.Fprintf(w, "只有 %d 个问题，建议值的误差较大。\n", n)
	}
	fmt.Fprintln(w, "要改阈值，在服务的环境中设置 XIAOSHEN_THRESHOLD。")
}

// evaluateSet loads set into a scratch app (the embedded corpus for the
// corpus questions, judged on the day they were labelled) and evaluates it
// there.
func evaluateSet(ctx context.Context, set *search.EvalSet, dict, profile string, threshold float64, baselines bool, progressOut io.Writer) ([]search.Report, error) {
	a, done, err := openScratchApp(ctx, scratch{dict: dict, seed: set.Name == "corpus"})
	if err != nil {
		return nil, err
	}
	defer done()
	if set.Name == "corpus" {
		a.service.Now = func() time.Time { return corpus.LabelledOn }
	} else {
		res, err := a.loadEvalSet(ctx, set, "eval")
		if err != nil {
			return nil, err
		}
		if res.Rejected > 0 {
			fmt.Fprintf(progressOut, "注意：%d 个评测条目未通过校验而跳过（%s）\n", res.Rejected, res.Errors[0])
		}
	}
	reports, _, err := evaluate(ctx, a, set, profile, threshold, baselines, progressOut)
	return reports, err
}

// evaluate runs the project on set, whose entries a's KB holds, and,
// optionally, the baselines on the same entries. It returns the reports,
// the project's first, and the project's outcomes.
func evaluate(ctx context.Context, a *app, set *search.EvalSet, profile string, threshold float64, baselines bool, progressOut io.Writer) ([]search.Report, []search.Outcome, error) {
	var err error
	model := a.index.Model()
	if profile == "" {
		if m, err := model.WithProfile(set.Name); err == nil {
			model = m
		}
	} else if model, err = model.WithProfile(profile); err != nil {
		return nil, nil, err
	}
	a.index.SetModel(model)
	a.service.Threshold = model.Threshold
	if threshold > 0 {
		a.service.Threshold = threshold
	}
	fmt.Fprintf(progressOut, "校准：%s，阈值 %.3f\n", model.Profile, a.service.Threshold)
	keyOf, err := a.entryKeys(ctx)
	if err != nil {
		return nil, nil, err
	}

	start := time.Now()
	bar := newProgress(progressOut, "评测", len(set.Questions))
	project := make([]search.Outcome, len(set.Questions))
	for i, q := range set.Questions {
		ranking, err := search.RankWithIndex(ctx, a.index, q.Question, keyOf)
		if err != nil {
			return nil, nil, err
		}
		res, err := a.service.Ask(ctx, kb.AskRequest{Question: q.Question, Channel: "eval"})
		if err != nil {
			return nil, nil, fmt.Errorf("ask %q: %w", q.Question, err)
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
			return nil, nil, err
		}
	}
	reports := []search.Report{search.Score("xiaoshen", set, project, a.service.Threshold)}
	fmt.Fprintf(progressOut, "xiaoshen: %d 个问题，用时 %s\n", len(set.Questions), time.Since(start).Round(time.Millisecond))
	if !baselines {
		return reports, project, nil
	}
	for _, kind := range []string{search.BaselineCJK, search.BaselineJieba} {
		b, err := search.NewBaseline(filepath.Join(filepath.Dir(a.cfg.DataDir), kind), kind, set.Entries) // beside the scratch data directory, removed with it
		if err != nil {
			return nil, nil, err
		}
		rankings := make([][]search.Ranked, len(set.Questions))
		for i, q := range set.Questions {
			if rankings[i], err = b.Rank(ctx, q.Question); err != nil {
				b.Close()
				return nil, nil, err
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
	return reports, project, nil
}

// questionFiles is path, or every question file (.tsv, .csv, .xlsx) of
// the folder path.
func questionFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".tsv", ".csv", ".xlsx":
			return []string{path}, nil
		case ".xls":
			return nil, fmt.Errorf("%s: 是旧版 .xls 格式：请在 Excel 中另存为 .xlsx", path)
		}
		return nil, fmt.Errorf("%s: 不支持的问题文件格式：应为 .xlsx、.csv 或 .tsv", path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".tsv", ".csv", ".xlsx":
			if !e.IsDir() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: 没有问题文件（.tsv、.csv 或 .xlsx）", path)
	}
	return files, nil
}

// checkQuestionFiles reads question files for their form (columns,
// encoding, empty cells) without a KB to check the expected entries
// against: before copying a large KB, so that a malformed file is
// reported in a second rather than after the copy.
func checkQuestionFiles(files []string) error {
	return loadQuestionFiles(&search.EvalSet{AnyKey: true}, files)
}

// loadQuestionFiles appends the labelled questions of files to set:
// .tsv files as UTF-8 text, .csv and .xlsx files as uploads read tables
// (a CSV's encoding detected, an XLSX's first sheet).
func loadQuestionFiles(set *search.EvalSet, files []string) error {
	for _, f := range files {
		rows := search.TSVRows(f)
		if ext := strings.ToLower(filepath.Ext(f)); ext == ".csv" || ext == ".xlsx" {
			rows = func(yield func(row int, cells []string) error) error {
				fh, err := os.Open(f)
				if err != nil {
					return err
				}
				defer fh.Close()
				return ingest.ReadTable(f, fh, yield)
			}
		}
		if err := set.AddQuestions(f, rows); err != nil {
			return err
		}
	}
	return set.CheckNotEmpty(strings.Join(files, ", "))
}

// loadCorpusSet reads corpus question TSV files (question, expected id or
// -), a file or every .tsv file of a folder, against the embedded corpus.
func loadCorpusSet(path string) (*search.EvalSet, error) {
	files, err := questionFiles(path)
	if err != nil {
		return nil, err
	}
	recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		return nil, errs[0]
	}
	set := &search.EvalSet{Name: "corpus"}
	for _, r := range recs {
		set.Entries = append(set.Entries, r.Entry)
	}
	return set, loadQuestionFiles(set, files)
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
		right := top == q.Key
		if !q.Negative {
			right = q.Accepts(top)
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%.3f\t%v\n", kind, q.Question, title[q.Key], title[top], conf, right)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
