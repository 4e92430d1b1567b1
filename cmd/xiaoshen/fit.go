package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"xiaoshen/kb"
	"xiaoshen/search"
)

// runFit fits the matcher's model on labelled question sets run through
// the real index: ranking weights on pairs (the right entry's texts above a
// wrong entry's), then, per set, a calibration of the confidence and an
// answer threshold from out-of-fold predictions, so the figures it prints
// are honest estimates. The result is a data file to commit
// (search/model.json).
func runFit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fit", stderr)
	kuake := fs.String("kuake", "", "KUAKE-QQR JSON 问题对（label 2 = 同义）：补充排序训练数据")
	tianchi := fs.String("tianchi", "", "Tianchi CSV：排序训练数据，并交叉验证其校准方案")
	corpusQuestions := fs.String("corpus-questions", "", "语料问题 TSV 目录：排序训练数据，并交叉验证默认校准方案")
	folds := fs.Int("folds", 5, "交叉验证折数（按标准问题分组）")
	topicFolds := fs.Bool("topic-folds", false, "按 Tianchi 的主题（category）每个主题一折做交叉验证，看拟合能否推广到没见过的主题；此时 --folds 为主题数")
	out := fs.String("out", "search/model.json", "模型写入的文件")
	l2 := fs.Float64("l2", 1.0, "排序权重的 L2 惩罚")
	maxNegative := fs.Float64("max-negative", 0.10, "有难负例的集合：阈值下难负例被答成相似条目的最大比例")
	maxWrong := fs.Float64("max-wrong", 0.03, "无难负例的集合：阈值下已覆盖问题答错的最大比例")
	maxUncovered := fs.Float64("max-uncovered", 0.05, "无难负例的集合：阈值下未覆盖问题被答复的最大比例")
	dict := fs.String("dict", "", "gojieba 词典目录（默认：程序旁的 dict 目录，其次 Go 模块缓存）")
	marginMode := fs.String("margin", "auto", "校准中是否使用排序差距：auto（每个集合取答对更多的一种）、on 或 off")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	marginChoices := map[string][]bool{"auto": {true, false}, "on": {true}, "off": {false}}[*marginMode]
	if marginChoices == nil {
		return usageError{fmt.Errorf("--margin 应为 auto、on 或 off")}
	}
	if *tianchi == "" && *corpusQuestions == "" || *folds < 2 {
		return usageError{fmt.Errorf("需要 --tianchi 或 --corpus-questions，且 --folds 至少为 2")}
	}
	start := time.Now()
	var base []labelledRows
	if *kuake != "" {
		set, err := search.LoadKuake(*kuake)
		if err != nil {
			return err
		}
		if base, err = collectRows(ctx, set, *dict); err != nil {
			return err
		}
	}
	// The deployment's own questions first: their profile is the default.
	var cvSets []*search.EvalSet
	if *corpusQuestions != "" {
		cs, err := loadCorpusSet(*corpusQuestions)
		if err != nil {
			return err
		}
		cvSets = append(cvSets, cs)
	}
	var dev *search.EvalSet // the Tianchi set, whose entries have topics
	if *tianchi != "" {
		var err error
		if dev, err = search.LoadTianchi(*tianchi); err != nil {
			return err
		}
		cvSets = append(cvSets, dev)
	}
	cvRows := make([][]labelledRows, len(cvSets))
	for i, set := range cvSets {
		var err error
		if cvRows[i], err = collectRows(ctx, set, *dict); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "候选特征已计算：%d 个训练问题，用时 %s\n", len(base)+len(cvRows[0])+len(cvRows[len(cvRows)-1]), time.Since(start).Round(time.Millisecond))

	// Out-of-fold rankings: a question is ranked by weights fitted without
	// it and without its standard question's group.
	topicFold := map[string]int{} // standard question key → its topic's fold
	if *topicFolds {
		topics := map[string]int{}
		var entries []*kb.Entry
		if dev != nil {
			entries = dev.Entries
		}
		for _, e := range entries {
			if len(e.Keywords) == 0 {
				continue
			}
			if _, ok := topics[e.Keywords[0]]; !ok {
				topics[e.Keywords[0]] = len(topics)
			}
			topicFold[e.ExternalID] = topics[e.Keywords[0]]
		}
		if len(topics) < 2 {
			return usageError{fmt.Errorf("--topic-folds 需要至少两个主题（Tianchi 的 category），现有 %d 个", len(topics))}
		}
		*folds = len(topics)
		fmt.Fprintf(stdout, "按主题交叉验证：%d 折，每个主题一折\n", *folds)
	}
	fold := func(q search.EvalQuestion) int {
		if f, ok := topicFold[q.Key]; ok {
			return f
		}
		return foldOf(q, *folds)
	}
	type oofTop struct {
		ranking []ranked
		margin  float64
	}
	oof := make([][]oofTop, len(cvSets))
	for i := range cvSets {
		oof[i] = make([]oofTop, len(cvSets[i].Questions))
	}
	for k := 0; k < *folds; k++ {
		train := append([]labelledRows{}, base...)
		for i, set := range cvSets {
			for j, q := range set.Questions {
				if fold(q) != k {
					train = append(train, cvRows[i][j])
				}
			}
		}
		m := fitModel(train, *l2)
		for i, set := range cvSets {
			for j, q := range set.Questions {
				if fold(q) == k {
					oof[i][j].ranking, oof[i][j].margin = cvRows[i][j].rank(m)
				}
			}
		}
	}

	// Per set: calibrate (score, margin) of the top-1 to "is it right", and
	// choose the threshold on the calibrated out-of-fold outcomes.
	var profiles []search.CalibrationProfile
	outcomes := make([][]search.Outcome, len(cvSets))
	for i, set := range cvSets {
		// Two candidate calibrations, with and without the ranking margin;
		// the one that answers more questions correctly at its threshold
		// wins. The margin helps where entries have many similar
		// questions, and can hurt where hard negatives are near-copies.
		var best search.CalibrationProfile
		bestCorrect := -1.0
		for _, useMargin := range marginChoices {
			var x [][]float64
			var y []float64
			for j, o := range oof[i] {
				if len(o.ranking) == 0 {
					continue
				}
				margin := 0.0
				if useMargin {
					margin = o.margin
				}
				x = append(x, search.CalibrationInputs(o.ranking[0].features, o.ranking[0].match, margin))
				right := 0.0
				if q := set.Questions[j]; !q.Negative && q.Accepts(o.ranking[0].key) {
					right = 1
				}
				y = append(y, right)
			}
			cal := fitSigned(x, y, calibrationSigns)
			m := &search.Model{Calibration: cal}
			candidate := make([]search.Outcome, len(oof[i]))
			for j, o := range oof[i] {
				for r, c := range o.ranking {
					if r == 5 {
						break
					}
					margin := o.margin
					if r > 0 {
						margin = c.score - o.ranking[0].score
					}
					if !useMargin {
						margin = 0
					}
					candidate[j].Ranking = append(candidate[j].Ranking, search.Ranked{Key: c.key, Confidence: m.Confidence(c.features, c.match, margin)})
				}
			}
			th, rule := chooseThreshold(set, candidate, thresholdRule{*maxNegative, *maxWrong, *maxUncovered})
			rep := search.Score("", set, withAnswers(candidate, th), th)
			if rep.AnsweredCorrect > bestCorrect {
				bestCorrect = rep.AnsweredCorrect
				use := "with the ranking margin"
				if !useMargin {
					use = "without the ranking margin"
				}
				best = search.CalibrationProfile{Name: set.Name, Calibration: cal, Threshold: th,
					FittedOn: fmt.Sprintf("%d-fold out-of-fold top-1 predictions on %s (%d questions), %s; threshold: %s", *folds, set.Name, len(set.Questions), use, rule)}
				outcomes[i] = candidate
			}
		}
		profiles = append(profiles, best)
	}

	all := append([]labelledRows{}, base...)
	names := []string{}
	for i, rows := range cvRows {
		all = append(all, rows...)
		names = append(names, cvSets[i].Name)
	}
	final := fitModel(all, *l2)
	final.Profiles = profiles
	final.Calibration, final.Threshold, final.Profile = profiles[0].Calibration, profiles[0].Threshold, profiles[0].Name
	final.TrainedOn = fmt.Sprintf("xiaoshen fit --kuake %s --tianchi %s --corpus-questions %s --folds %d: ranking weights from pairs of retrieved candidates of %s and %s",
		filepath.Base(*kuake), filepath.Base(*tianchi), *corpusQuestions, *folds, filepath.Base(*kuake), strings.Join(names, " and "))
	fmt.Fprintf(stdout, "  %-26s %8s %8s\n", "feature", "rank", "match")
	for i, name := range final.Features {
		fmt.Fprintf(stdout, "  %-26s %+8.3f %+8.3f\n", name, final.Weights[i], final.MatchWeights[i])
	}
	fmt.Fprintf(stdout, "  %-26s %8s %+8.3f\n", "bias", "", final.MatchBias)
	for _, p := range profiles {
		fmt.Fprintf(stdout, "校准 %s：系数 %.3f；阈值 %.3f\n  （%s）\n", p.Name, p.Calibration, p.Threshold, p.FittedOn)
	}
	fmt.Fprintln(stdout)
	for i, set := range cvSets {
		th := profiles[i].Threshold
		rep := search.Score("cross-validated", set, withAnswers(outcomes[i], th), th)
		fmt.Fprintf(stdout, "交叉验证（%d 折）%s：hit@1 %.3f，MRR@5 %.3f，阈值下答对 %.3f、答错 %.3f，难负例误答 ≤ %.0f%% 时答对 %.3f\n",
			*folds, set.Name, rep.HitAt1, rep.MRRAt5, rep.AnsweredCorrect, rep.AnsweredWrong, *maxNegative*100, rep.BestAt10)
		search.WriteReports(stdout, set.Name+"（交叉验证）", []search.Report{rep})
		fmt.Fprintln(stdout)
	}
	raw, _ := json.MarshalIndent(final, "", "  ")
	if err := os.WriteFile(*out, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已写入 %s\n", *out)
	return nil
}

// foldOf is the cross-validation fold of a question: by its expected
// entry, so that the paraphrases of one entry are held out together (an
// uncovered question by its own text).
func foldOf(q search.EvalQuestion, folds int) int {
	key := q.Key
	if key == "" {
		key = q.Question
	}
	h := 0
	for _, r := range key {
		h = h*31 + int(r)
	}
	return (h%folds + folds) % folds
}

// labelledRows are one question's candidate rows with their labels.
type labelledRows struct {
	keys   []string
	rows   []search.TrainingRow
	labels []float64
}

// ranked is one candidate entry of a question with its best text score
// and its best match probability.
type ranked struct {
	key          string
	score, match float64
	features     []float64 // of the best-scoring text
}

// rank orders the question's candidates by the model's score, as the
// matcher does (best text per entry), and returns the margin of the top
// one over the next.
func (lr labelledRows) rank(m *search.Model) ([]ranked, float64) {
	best := map[string]*ranked{}
	var order []string
	for i, r := range lr.rows {
		sc, p := m.Score(r.Features), m.Match(r.Features)
		b, ok := best[lr.keys[i]]
		if !ok {
			b = &ranked{key: lr.keys[i], score: sc, match: p, features: r.Features}
			best[lr.keys[i]] = b
			order = append(order, lr.keys[i])
		}
		if sc > b.score {
			b.score, b.features = sc, r.Features
		}
		b.match = math.Max(b.match, p)
	}
	out := make([]ranked, len(order))
	for i, k := range order {
		out[i] = *best[k]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	margin := 5.0
	if len(out) > 1 {
		margin = math.Min(out[0].score-out[1].score, 5)
	}
	return out, margin
}

// fitModel fits the ranking weights on pairs and the match weights on
// every row, the ranking-only features left out of the latter.
func fitModel(sets []labelledRows, l2 float64) *search.Model {
	m := fitRank(sets, l2)
	var x [][]float64
	var y, weights []float64
	for _, s := range sets {
		weight := questionWeight / math.Sqrt(float64(max(len(s.rows), 1)))
		for i, r := range s.rows {
			f := slices.Clone(r.Features)
			for k := range f {
				if search.RankingOnly(k) {
					f[k] = 0
				}
			}
			x, y = append(x, f), append(y, s.labels[i])
			weights = append(weights, weight)
		}
	}
	m.MatchWeights, m.MatchBias = search.FitWeightedLogistic(x, y, weights, l2, 30)
	return m
}

// fitRank fits the ranking weights on pairs: for every question, each row
// of its right entry against each row of a wrong entry.
func fitRank(sets []labelledRows, l2 float64) *search.Model {
	var x [][]float64
	var y, weights []float64
	for _, s := range sets {
		pairs := 0
		for i := range s.rows {
			for j := range s.rows {
				if s.labels[i] == 1 && s.labels[j] == 0 {
					pairs++
				}
			}
		}
		weight := questionWeight / math.Sqrt(float64(max(pairs, 1)))
		for i, ri := range s.rows {
			if s.labels[i] != 1 {
				continue
			}
			for j, rj := range s.rows {
				if s.labels[j] != 0 {
					continue
				}
				weights = append(weights, weight, weight)
				d := make([]float64, len(ri.Features))
				neg := make([]float64, len(ri.Features))
				for k := range d {
					d[k] = ri.Features[k] - rj.Features[k]
					neg[k] = -d[k]
				}
				x, y = append(x, d, neg), append(y, 1, 0)
			}
		}
	}
	w, _ := search.FitWeightedLogistic(x, y, weights, l2, 30)
	return &search.Model{Version: 2, Features: search.FeatureNames(), Weights: w}
}

// questionWeight scales one question's samples in the fits: each of n
// samples (candidate texts, or ranking pairs) weighs questionWeight/√n.
// Left at one each, a question whose candidates have many similar
// questions brings hundreds of pairs and drowns the others; at an equal
// total each, the sets of short questions (KUAKE) drown the corpus. The
// square root sits between (cross-validated, Tianchi dev: hit@1 0.877
// unweighted, 0.883 equal, 0.881 square root; answered correctly 0.689,
// 0.692, 0.698; the corpus answered 0.346, 0.292, 0.326). The L2 penalty
// is relative to it.
const questionWeight = 10.0

// thresholdRule bounds the wrong answers a threshold may let through.
type thresholdRule struct{ maxNegative, maxWrong, maxUncovered float64 }

// chooseThreshold picks the lowest threshold that keeps wrong answers rare:
// with hard negatives, at most maxNegative of them answered with their
// look-alike; otherwise at most maxWrong of covered questions answered
// wrongly and at most maxUncovered of uncovered questions answered.
func chooseThreshold(set *search.EvalSet, outcomes []search.Outcome, r thresholdRule) (float64, string) {
	withNegatives := hasNegatives(set)
	var confs []float64
	for _, o := range outcomes {
		if len(o.Ranking) > 0 {
			confs = append(confs, math.Ceil(o.Ranking[0].Confidence*1000)/1000)
		}
	}
	sort.Float64s(confs)
	for _, th := range confs {
		rep := search.Score("", set, withAnswers(outcomes, th), th)
		if withNegatives && rep.NegativeLookalike <= r.maxNegative {
			return th, fmt.Sprintf("lowest with at most %.0f%% of hard negatives answered with their look-alike", r.maxNegative*100)
		}
		if !withNegatives && rep.AnsweredWrong <= r.maxWrong && rep.UncoveredAnswered <= r.maxUncovered {
			return th, fmt.Sprintf("lowest with at most %.0f%% of covered questions answered wrongly and %.0f%% of uncovered ones answered", r.maxWrong*100, r.maxUncovered*100)
		}
	}
	return 1, "none met the rule"
}

// withAnswers sets each outcome's answer: its top-1 at or above threshold.
func withAnswers(outcomes []search.Outcome, threshold float64) []search.Outcome {
	for i, o := range outcomes {
		outcomes[i].Answered = ""
		if len(o.Ranking) > 0 && o.Ranking[0].Confidence >= threshold {
			outcomes[i].Answered = o.Ranking[0].Key
		}
	}
	return outcomes
}

func collectRows(ctx context.Context, set *search.EvalSet, dict string) ([]labelledRows, error) {
	out := make([]labelledRows, len(set.Questions))
	err := withSet(ctx, set, dict, func(idx *search.Index, keyOf map[int64]string) error {
		for i, q := range set.Questions {
			rows, err := idx.TrainingRows(ctx, q.Question)
			if err != nil {
				return err
			}
			lr := labelledRows{rows: rows}
			for _, r := range rows {
				key := keyOf[r.EntryID]
				lr.keys = append(lr.keys, key)
				label := 0.0
				if !q.Negative && q.Accepts(key) {
					label = 1
				}
				lr.labels = append(lr.labels, label)
			}
			out[i] = lr
		}
		return nil
	})
	return out, err
}

func withSet(ctx context.Context, set *search.EvalSet, dict string, fn func(idx *search.Index, keyOf map[int64]string) error) error {
	a, done, err := openScratchApp(ctx, scratch{dict: dict})
	if err != nil {
		return err
	}
	defer done()
	if _, err := a.loadEvalSet(ctx, set, "fit"); err != nil {
		return err
	}
	keyOf, err := a.entryKeys(ctx)
	if err != nil {
		return err
	}
	return fn(a.index, keyOf)
}

// calibrationSigns are the signs the calibration's inputs must have: a
// better match and a larger margin can only raise the confidence; unknown
// or unmatched important words can only lower it; naming the entry's
// matter or its title can only raise it, and naming another document or
// term in its name's place can only lower it.
var calibrationSigns = []float64{+1, +1, -1, -1, -1, +1, +1, -1}

// fitSigned fits a logistic regression whose weights keep the given signs:
// an input whose fitted weight has the wrong sign is dropped (weight 0) and
// the rest refitted, until all signs agree. It returns the weights, then
// the bias.
func fitSigned(x [][]float64, y []float64, signs []float64) []float64 {
	active := make([]bool, len(signs))
	for i := range active {
		active[i] = true
	}
	for {
		var cols []int
		for i, a := range active {
			if a {
				cols = append(cols, i)
			}
		}
		sub := make([][]float64, len(x))
		for r := range x {
			sub[r] = make([]float64, len(cols))
			for j, c := range cols {
				sub[r][j] = x[r][c]
			}
		}
		w, b := search.FitLogistic(sub, y, 0.1, 50)
		out := make([]float64, len(signs)+1)
		wrong := -1
		for j, c := range cols {
			out[c] = w[j]
			if w[j]*signs[c] < 0 && (wrong < 0 || math.Abs(w[j]) > math.Abs(out[wrong])) {
				wrong = c
			}
		}
		out[len(signs)] = b
		if wrong < 0 {
			return out
		}
		active[wrong] = false
	}
}
