package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"xiaoshen/kb"
	"xiaoshen/search"
)

// runExplain shows why the matcher answers questions as it does: how it
// read each question, its best candidates with their confidence, and the
// features that decided the order. It reads a data directory (an online
// copy of its database when a server is running there), the embedded
// corpus, or a Tianchi set, and records nothing.
func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "数据目录（环境变量 XIAOSHEN_DATA）；服务运行时在其数据库的副本上分析")
	corpus := fs.Bool("corpus", false, "改用内置知识库（在临时目录中加载）")
	tianchi := fs.String("tianchi", "", "改用 Tianchi 评测集的标准问法作知识库（在临时目录中加载）")
	top := fs.Int("top", 3, "列出的候选条数")
	features := fs.Int("features", 6, "每个候选列出影响最大的特征数（0 为全部）")
	dict := fs.String("dict", "", "gojieba 词典目录（默认：程序旁的 dict 目录，其次 Go 模块缓存）")
	threshold := fs.Float64("threshold", 0, "答复阈值（默认：--data 时同 serve，取环境变量 XIAOSHEN_THRESHOLD，否则取模型的校准值）")
	if err := parseFlagsWithArgs(fs, args); err != nil {
		return err
	}
	questions := fs.Args()
	if len(questions) == 0 || *top < 1 || *features < 0 {
		return usageError{fmt.Errorf("用法：xiaoshen explain [--data DIR | --corpus | --tianchi FILE] [--top N] [--features N] 问题 [问题 …]")}
	}
	if *corpus && *tianchi != "" {
		return usageError{fmt.Errorf("--corpus 与 --tianchi 只能选一个")}
	}
	var (
		a    *app
		set  *search.EvalSet
		done func()
		err  error
	)
	if *corpus || *tianchi != "" {
		if *tianchi != "" {
			if set, err = search.LoadTianchi(*tianchi); err != nil {
				return err
			}
		}
		if a, done, err = openScratchApp(ctx, scratch{dict: *dict, seed: *corpus}); err != nil {
			return err
		}
		defer done()
	} else {
		if *threshold == 0 {
			if *threshold, err = envThreshold(); err != nil {
				return err
			}
		}
		if err := requireDatabase(*data); err != nil {
			return fmt.Errorf("%w；用 --corpus 看内置知识库", err)
		}
		a, err = openApp(ctx, appConfig{DataDir: *data, DictDir: *dict, Calibration: filepath.Join(*data, search.CalibrationFileName),
			Logger: newLogger(stderr, "text", "warn"), Notices: stderr})
		var inUse *dataDirInUseError
		switch {
		case errors.As(err, &inUse):
			// A running server holds the directory: read an online copy of
			// its database instead.
			fmt.Fprintf(stderr, "数据目录 %s 正由运行中的服务使用，改为在其数据库的副本上分析。\n", *data)
			if a, done, err = openScratchApp(ctx, scratch{dict: *dict, fromDB: appConfig{DataDir: *data}.dbPath(), calibration: filepath.Join(*data, search.CalibrationFileName), progress: stderr}); err != nil {
				return err
			}
			defer done()
		case err != nil:
			return err
		default:
			defer a.Close()
		}
	}
	if set != nil {
		model, err := a.index.Model().WithProfile(set.Name)
		if err != nil {
			return err
		}
		a.index.SetModel(model)
		if _, err := a.loadEvalSet(ctx, set, "explain"); err != nil {
			return err
		}
	}
	for i, q := range questions {
		// As Ask does: personal data is masked before matching.
		ex, err := a.index.Explain(ctx, kb.MaskPII(q), *top)
		if err != nil {
			return err
		}
		if *threshold > 0 {
			ex.Threshold = *threshold
		}
		ids := make([]int64, len(ex.Candidates))
		for j, c := range ex.Candidates {
			ids[j] = c.EntryID
		}
		expiries, err := a.store.EntryExpiries(ctx, ids)
		if err != nil {
			return err
		}
		expired := map[int64]bool{}
		for _, id := range ids {
			if exp, ok := expiries[id]; !ok || kb.ExpiredAt(exp, time.Now()) {
				expired[id] = true
			}
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		writeExplanation(stdout, ex, expired, *features)
		if err := writeRule(ctx, stdout, a.service, kb.MaskPII(q), ex); err != nil {
			return err
		}
	}
	return nil
}

// writeRule says when /ask answers otherwise than the matcher would, by
// one of its rules: a question citing a document's number, or naming only
// a matter.
func writeRule(ctx context.Context, w io.Writer, svc *kb.Service, question string, ex *search.Explanation) error {
	m, bare := kb.BareMatter(question)
	if !bare && len(kb.Citations(question)) == 0 {
		return nil
	}
	cands, err := svc.Candidates(ctx, question, time.Now())
	if err != nil || len(cands) == 0 || cands[0].Confidence < 1 {
		return err
	}
	if len(ex.Candidates) > 0 && ex.Candidates[0].EntryID == cands[0].EntryID && ex.Candidates[0].Confidence >= 1 {
		return nil // the matcher's own answer: one of the entry's wordings
	}
	c := cands[0]
	why := fmt.Sprintf("问题引用了文号（%s）", c.MatchedQuestion)
	if bare {
		why = fmt.Sprintf("问题只提到事项“%s”，答复其办事指引", m.Name)
	}
	fmt.Fprintf(w, "按规则直接答复：[%s] %s（条目 %d）：%s\n", c.Column, c.Title, c.EntryID, why)
	return nil
}

// writeExplanation prints one question's explanation. Expired candidates
// (deleted, or past their 失效日期) are marked: Ask passes over them.
func writeExplanation(w io.Writer, ex *search.Explanation, expired map[int64]bool, features int) {
	fmt.Fprintf(w, "问题：%s\n分词：%s\n比较用词：%s\n", ex.Question, strings.Join(ex.Terms, " / "), strings.Join(ex.Canonical, " "))
	if len(ex.Intents) > 0 {
		fmt.Fprintf(w, "意图：%s\n", strings.Join(ex.Intents, " "))
	}
	if len(ex.Candidates) == 0 {
		fmt.Fprintln(w, "没有候选条目：知识库中没有与问题共有的词。")
		return
	}
	verdict := "低于阈值，不直接答复（记录为未答复问题并给出推荐）"
	for i, c := range ex.Candidates {
		if !expired[c.EntryID] {
			if c.Confidence >= ex.Threshold {
				verdict = fmt.Sprintf("直接答复第 %d 条", i+1)
			}
			break
		}
	}
	fmt.Fprintf(w, "答复阈值 %.3f（校准：%s）：%s\n", ex.Threshold, ex.Calibration, verdict)
	for i, c := range ex.Candidates {
		fmt.Fprintf(w, "%d. [%s] %s（条目 %d）\n", i+1, c.Column, c.Title, c.EntryID)
		if expired[c.EntryID] {
			fmt.Fprintln(w, "   已删除或已过失效日期：答复时跳过")
		}
		switch {
		case c.Exact:
			fmt.Fprintf(w, "   与问法“%s”一致（去掉标点、语气词并折叠同义词后），直接取该条目\n", c.MatchedQuestion)
		case c.MatchedQuestion != c.Title:
			fmt.Fprintf(w, "   最相近的问法：%s\n", c.MatchedQuestion)
		}
		fmt.Fprintf(w, "   置信度 %.3f  排序分 %.2f  同义概率 %.3f\n", c.Confidence, c.RankScore, c.Match)
		shown := c.Features
		if features > 0 && len(shown) > features {
			shown = shown[:features]
		}
		parts := make([]string, len(shown))
		for j, f := range shown {
			parts[j] = fmt.Sprintf("%s=%.2f（%+.2f）", f.Name, f.Value, f.Effect())
		}
		fmt.Fprintf(w, "   影响最大的特征：%s\n", strings.Join(parts, " "))
	}
}
