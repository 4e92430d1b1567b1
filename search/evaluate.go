package search

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"xiaoshen/kb"
)

// EvalSet is a labelled question set over a KB: each question expects an
// entry (a paraphrase, which must be answered with it), or is a hard
// negative of an entry (which must not be answered with it), or expects
// nothing (uncovered).
type EvalSet struct {
	Name      string
	Entries   []*kb.Entry // ExternalID is the key questions refer to
	Questions []EvalQuestion
	// Aliases are other names question files may give an entry by (its
	// #ID on the review page), mapped to its key.
	Aliases map[string]string
	// AnyKey accepts any expected entry in AddQuestions, for checking a
	// question file's form before the KB it refers to is at hand; the
	// header row is then taken as read.
	AnyKey bool
}

// EvalQuestion is one labelled question.
type EvalQuestion struct {
	Question string
	Key      string // the entry's ExternalID; "" for an uncovered question
	// Also lists other entries that answer the question as well as Key
	// (a term's wiki entry and the FAQ that says the same): any of them
	// given is right.
	Also     []string
	Negative bool   // a hard negative of Key
	Source   string // file:line, where the set's file has lines to name
}

// Accepts tells whether the entry key answers a covered question rightly.
func (q EvalQuestion) Accepts(key string) bool {
	return key != "" && (key == q.Key || slices.Contains(q.Also, key))
}

// LoadTianchi reads the Tianchi similar-question CSV: a header naming the
// columns query1, query2 and label (category optional, in any order), then
// one pair a row. The distinct query1 are the KB, label 1 rows are
// paraphrases and label 0 rows hard negatives. A malformed row is an error
// naming its line and column: a row skipped would change the figures
// without a word.
func LoadTianchi(path string) (*EvalSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil, inputError(path, 0, "", "文件是空的")
	} else if err != nil {
		return nil, inputError(path, 1, "", err.Error())
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, name := range []string{"query1", "query2", "label"} {
		if _, ok := col[name]; !ok {
			return nil, inputError(path, 1, name, fmt.Sprintf("表头缺少 %s 列（应有 category,query1,query2,label）", name))
		}
	}
	cat, hasCat := col["category"]
	set := &EvalSet{Name: "tianchi"}
	keys := map[string]string{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, inputError(path, line, "", err.Error())
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			return nil, inputError(path, line, "", fmt.Sprintf("应有 %d 列，实有 %d 列", len(header), len(rec)))
		}
		q1, q2, label := strings.TrimSpace(rec[col["query1"]]), strings.TrimSpace(rec[col["query2"]]), strings.TrimSpace(rec[col["label"]])
		if err := checkPair(path, line, q1, q2); err != nil {
			return nil, err
		}
		topic := ""
		if hasCat {
			topic = rec[cat]
		}
		q := EvalQuestion{Question: q2, Key: set.addEntry(keys, q1, topic)}
		switch label {
		case "1":
		case "0":
			q.Negative = true
		default:
			return nil, inputError(path, line, "label", fmt.Sprintf("应为 0（不同）或 1（同义），实为 %q", label))
		}
		set.Questions = append(set.Questions, q)
	}
	return set, set.CheckNotEmpty(path)
}

// LoadKuake reads a KUAKE-QQR JSON array of {query1, query2, label}:
// query1 are the KB; label "2" (same meaning) is a paraphrase, "0" and "1"
// (different, narrower) are negatives.
func LoadKuake(path string) (*EvalSet, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pairs []struct {
		ID     string `json:"id"`
		Query1 string `json:"query1"`
		Query2 string `json:"query2"`
		Label  string `json:"label"`
	}
	if err := json.Unmarshal(raw, &pairs); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se) && se.Offset >= int64(len(bytes.TrimSpace(raw))):
			return nil, inputError(path, lineAt(raw, se.Offset), "", "JSON 不完整，文件在中途结束")
		case errors.As(err, &se):
			return nil, inputError(path, lineAt(raw, se.Offset), "", "不是有效的 JSON："+se.Error())
		case errors.As(err, &te) && te.Field != "":
			return nil, inputError(path, lineAt(raw, te.Offset), te.Field, fmt.Sprintf("应为字符串，此处是 %s", te.Value))
		case errors.As(err, &te):
			return nil, inputError(path, lineAt(raw, te.Offset), "", fmt.Sprintf("应为 JSON 数组，每项一个 {id, query1, query2, label} 对象，此处是 %s", te.Value))
		default:
			return nil, inputError(path, 0, "", "不是有效的 JSON："+err.Error())
		}
	}
	set := &EvalSet{Name: "kuake"}
	keys := map[string]string{}
	for i, p := range pairs {
		where := fmt.Sprintf("%s 第 %d 条", path, i+1)
		if p.ID != "" {
			where += "（id " + p.ID + "）"
		}
		q1, q2 := strings.TrimSpace(p.Query1), strings.TrimSpace(p.Query2)
		if err := checkPair(where, 0, q1, q2); err != nil {
			return nil, err
		}
		if p.Label != "0" && p.Label != "1" && p.Label != "2" {
			return nil, inputError(where, 0, "label", fmt.Sprintf("应为 \"0\"、\"1\" 或 \"2\"，实为 %q", p.Label))
		}
		set.Questions = append(set.Questions, EvalQuestion{Question: q2, Key: set.addEntry(keys, q1, ""), Negative: p.Label != "2"})
	}
	return set, set.CheckNotEmpty(path)
}

// QuestionRows walks the rows of one labelled question file: yield gets
// each row's number and cells.
type QuestionRows func(yield func(row int, cells []string) error) error

// AddQuestions appends the labelled questions of file, read by rows: a
// header row, then per row a question and the entry that must answer it,
// by its key or one of its Aliases, or "-" when the KB does not cover it;
// several entries that answer it equally are separated by commas (、 and
// ， too), the first the one suggested as its main answer.
// Blank rows are skipped. An expected entry the set lacks is an error: a
// typo would otherwise count as a miss.
func (set *EvalSet) AddQuestions(file string, rows QuestionRows) error {
	known := map[string]bool{}
	for _, e := range set.Entries {
		known[e.ExternalID] = true
	}
	header := true
	return rows(func(row int, cells []string) error {
		if strings.TrimSpace(strings.Join(cells, "")) == "" {
			return nil
		}
		for len(cells) > 2 && strings.TrimSpace(cells[len(cells)-1]) == "" {
			cells = cells[:len(cells)-1] // spreadsheets may keep empty cells at the end
		}
		if header {
			header = false
			// A first row that reads as a question would be lost without a word.
			if h := strings.TrimSpace(cells[len(cells)-1]); len(cells) == 2 && (h == "-" || known[h] || set.Aliases[h] != "") && !set.AnyKey {
				return inputError(file, row, "", "第一行应为表头（如 question、expected 两列），这里是一个问题")
			}
			return nil
		}
		switch {
		case len(cells) == 1:
			return inputError(file, row, "", "应有 2 列（问题、预期条目编号），只有 1 列：预期条目编号没有填，或两列之间不是制表符")
		case len(cells) != 2:
			return inputError(file, row, "", fmt.Sprintf("应有 2 列（问题、预期条目编号），实有 %d 列", len(cells)))
		}
		q := strings.TrimSpace(cells[0])
		keys := strings.FieldsFunc(cells[1], func(r rune) bool { return r == ',' || r == '，' || r == '、' })
		for i, k := range keys {
			keys[i] = strings.TrimSpace(k)
			if alias, ok := set.Aliases[keys[i]]; ok {
				keys[i] = alias
			}
		}
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == "" })
		switch {
		case q == "":
			return inputError(file, row, "question", "问题为空")
		case len(keys) == 0:
			return inputError(file, row, "expected", "预期条目编号为空（知识库未覆盖的问题写 -）")
		case slices.Contains(keys, "-") && len(keys) > 1:
			return inputError(file, row, "expected", "- 表示知识库未覆盖，不能与条目编号同时填写")
		case keys[0] == "-":
			keys[0] = ""
		}
		for _, k := range keys {
			if k != "" && !known[k] && !set.AnyKey {
				return inputError(file, row, "expected", fmt.Sprintf("知识库中没有编号为 %q 的条目", k))
			}
		}
		eq := EvalQuestion{Question: q, Key: keys[0], Source: fmt.Sprintf("%s:%d", filepath.Base(file), row)}
		if len(keys) > 1 {
			eq.Also = keys[1:]
		}
		set.Questions = append(set.Questions, eq)
		return nil
	})
}

// TSVRows reads a UTF-8, tab-separated text file by lines.
func TSVRows(path string) QuestionRows {
	return func(yield func(row int, cells []string) error) error {
		fh, err := os.Open(path)
		if err != nil {
			return err
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		line := 0
		for sc.Scan() {
			line++
			text := strings.TrimRight(sc.Text(), "\r")
			if line == 1 {
				text = strings.TrimPrefix(text, "\ufeff")
			}
			if !utf8.ValidString(text) {
				return inputError(path, line, "", "不是 UTF-8 编码的文本：请把文件另存为 UTF-8 编码、以制表符分隔的文本")
			}
			if err := yield(line, strings.Split(text, "\t")); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return inputError(path, line+1, "", err.Error())
		}
		return nil
	}
}

// inputError names the place of a problem in an evaluation file as the
// upload's errors do: file:line [field]: message.
func inputError(file string, line int, field, msg string) error {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&b, ":%d", line)
	}
	if field != "" {
		fmt.Fprintf(&b, " [%s]", field)
	}
	return errors.New(b.String() + ": " + msg)
}

func checkPair(where string, line int, q1, q2 string) error {
	switch {
	case q1 == "":
		return inputError(where, line, "query1", "标准问题为空")
	case q2 == "":
		return inputError(where, line, "query2", "用户问法为空")
	}
	return nil
}

// lineAt is the 1-based line of a byte offset.
func lineAt(raw []byte, offset int64) int {
	return bytes.Count(raw[:min(int(offset), len(raw))], []byte("\n")) + 1
}

// CheckNotEmpty fails when the set has no question, naming source.
func (set *EvalSet) CheckNotEmpty(source string) error {
	if len(set.Questions) == 0 {
		return inputError(source, 0, "", "没有可评测的问题")
	}
	return nil
}

func (set *EvalSet) addEntry(keys map[string]string, title, topic string) string {
	if k, ok := keys[title]; ok {
		return k
	}
	k := fmt.Sprintf("%s-%05d", set.Name, len(keys)+1)
	keys[title] = k
	set.Entries = append(set.Entries, &kb.Entry{ExternalID: k, Column: kb.ColumnFAQ, Title: title,
		Content: "（评测条目）" + title, Department: "评测", Keywords: nonEmpty(topic)})
	return k
}

func nonEmpty(s string) []string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return []string{s}
}

// Ranked is one system's ranked candidate.
type Ranked struct {
	Key        string
	Confidence float64
}

// Outcome is what a system did with one question: its ranking, and the
// entry it answered with ("" when it abstained).
type Outcome struct {
	Ranking  []Ranked
	Answered string
}

// Report holds the figures of one system on one set.
type Report struct {
	System            string
	Paraphrases       int
	Negatives         int
	Uncovered         int
	HitAt1            float64
	MRRAt5            float64
	AnsweredCorrect   float64 // paraphrases answered with the right entry, at the threshold
	AnsweredWrong     float64 // paraphrases answered with a wrong entry
	NegativeLookalike float64 // hard negatives answered with their look-alike
	NegativeAnswered  float64 // hard negatives answered at all
	UncoveredAnswered float64
	Threshold         float64
	// BestAt10 is the largest share of paraphrases answered correctly at a
	// threshold where at most 10% of hard negatives get their look-alike.
	BestAt10, BestAt10Threshold float64
	Curve                       []CurvePoint
	Reliability                 []ReliabilityBin
	// CalibrationError is how far the stated confidence is from the
	// observed accuracy, over the reliability bins weighted by their
	// counts (the expected calibration error): 0.05 means a confidence
	// is off by five points on average.
	CalibrationError float64
}

// CurvePoint is the trade-off at one threshold: the shares of paraphrases
// answered right and wrong, of hard negatives answered with their
// look-alike and at all, and of uncovered questions answered.
type CurvePoint struct {
	Threshold, AnsweredCorrect, AnsweredWrong, NegativeLookalike, NegativeAnswered, UncoveredAnswered float64
}

// ReliabilityBin compares stated confidence with observed accuracy.
type ReliabilityBin struct {
	Low, High      float64
	Count          int
	MeanConfidence float64
	Accuracy       float64
}

// Score computes a report from outcomes (one per question, in order).
// Curves use the top-1 confidence; the answered figures use Outcome.Answered.
func Score(system string, set *EvalSet, outcomes []Outcome, threshold float64) Report {
	r := Report{System: system, Threshold: threshold}
	var hits, rr float64
	var correct, wrong, negLook, negAns, uncAns int
	type point struct {
		conf       float64
		top1Right  bool // paraphrase whose top-1 is right
		lookalike  bool // negative whose top-1 is the look-alike
		negative   bool
		paraphrase bool
		uncovered  bool
	}
	var points []point
	for i, q := range set.Questions {
		o := outcomes[i]
		var top Ranked
		if len(o.Ranking) > 0 {
			top = o.Ranking[0]
		}
		switch {
		case q.Key == "":
			r.Uncovered++
			if o.Answered != "" {
				uncAns++
			}
			points = append(points, point{conf: top.Confidence, uncovered: true})
		case q.Negative:
			r.Negatives++
			if o.Answered == q.Key {
				negLook++
			}
			if o.Answered != "" {
				negAns++
			}
			points = append(points, point{conf: top.Confidence, negative: true, lookalike: top.Key == q.Key})
		default:
			r.Paraphrases++
			for rank, c := range o.Ranking {
				if rank >= 5 {
					break
				}
				if q.Accepts(c.Key) {
					rr += 1 / float64(rank+1)
					if rank == 0 {
						hits++
					}
					break
				}
			}
			switch {
			case q.Accepts(o.Answered):
				correct++
			case o.Answered == "":
			default:
				wrong++
			}
			points = append(points, point{conf: top.Confidence, paraphrase: true, top1Right: q.Accepts(top.Key)})
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	r.HitAt1, r.MRRAt5 = hits/math.Max(1, float64(r.Paraphrases)), rr/math.Max(1, float64(r.Paraphrases))
	r.AnsweredCorrect, r.AnsweredWrong = ratio(correct, r.Paraphrases), ratio(wrong, r.Paraphrases)
	r.NegativeLookalike, r.NegativeAnswered, r.UncoveredAnswered = ratio(negLook, r.Negatives), ratio(negAns, r.Negatives), ratio(uncAns, r.Uncovered)

	at := func(th float64) CurvePoint {
		var c, w, nl, na, ua int
		for _, p := range points {
			if p.conf < th {
				continue
			}
			switch {
			case p.paraphrase && p.top1Right:
				c++
			case p.paraphrase:
				w++
			case p.negative:
				na++
				if p.lookalike {
					nl++
				}
			case p.uncovered:
				ua++
			}
		}
		return CurvePoint{Threshold: th, AnsweredCorrect: ratio(c, r.Paraphrases), AnsweredWrong: ratio(w, r.Paraphrases),
			NegativeLookalike: ratio(nl, r.Negatives), NegativeAnswered: ratio(na, r.Negatives), UncoveredAnswered: ratio(ua, r.Uncovered)}
	}
	for th := 0.05; th < 1; th += 0.05 {
		r.Curve = append(r.Curve, at(math.Round(th*100)/100))
	}
	// The best operating point with at most 10% look-alike answers, over
	// every distinct confidence.
	confs := make([]float64, 0, len(points))
	for _, p := range points {
		confs = append(confs, p.conf)
	}
	sort.Float64s(confs)
	for _, th := range confs {
		if p := at(th); p.NegativeLookalike <= 0.10 && p.AnsweredCorrect > r.BestAt10 {
			r.BestAt10, r.BestAt10Threshold = p.AnsweredCorrect, th
		}
	}
	// Reliability: is the top-1 right (a paraphrase's entry, or for a
	// negative or uncovered question never)?
	for b := 0; b < 10; b++ {
		lo, hi := float64(b)/10, float64(b+1)/10
		bin := ReliabilityBin{Low: lo, High: hi}
		var sum float64
		var right int
		for _, p := range points {
			if p.conf >= lo && (p.conf < hi || (b == 9 && p.conf <= hi)) {
				bin.Count++
				sum += p.conf
				if p.top1Right {
					right++
				}
			}
		}
		if bin.Count > 0 {
			bin.MeanConfidence, bin.Accuracy = sum/float64(bin.Count), float64(right)/float64(bin.Count)
		}
		r.Reliability = append(r.Reliability, bin)
		if len(points) > 0 {
			r.CalibrationError += float64(bin.Count) / float64(len(points)) * math.Abs(bin.MeanConfidence-bin.Accuracy)
		}
	}
	return r
}

// RankWithIndex ranks a question with the project's matcher.
func RankWithIndex(ctx context.Context, idx *Index, question string, keyOf map[int64]string) ([]Ranked, error) {
	cands, err := idx.Match(ctx, question, 5)
	if err != nil {
		return nil, err
	}
	out := make([]Ranked, len(cands))
	for i, c := range cands {
		out[i] = Ranked{Key: keyOf[c.EntryID], Confidence: c.Confidence}
	}
	return out, nil
}

// curveColumn is one printed column of the threshold curve.
type curveColumn struct {
	name string
	get  func(CurvePoint) float64
}

// WriteReports prints reports side by side, then each system's curve and
// reliability table.
func WriteReports(w io.Writer, set string, reports []Report) {
	fmt.Fprintf(w, "数据集 %s：改写问法 %d 条，难负例 %d 条，未覆盖 %d 条\n\n", set, reports[0].Paraphrases, reports[0].Negatives, reports[0].Uncovered)
	fmt.Fprintf(w, "%-28s", "指标")
	for _, r := range reports {
		fmt.Fprintf(w, "%22s", r.System)
	}
	fmt.Fprintln(w)
	type figure struct {
		name string
		get  func(Report) float64
	}
	// Rows for the kinds of question the set has.
	rows := []figure{{"hit@1", func(r Report) float64 { return r.HitAt1 }}, {"MRR@5", func(r Report) float64 { return r.MRRAt5 }}}
	if reports[0].Negatives > 0 {
		rows = append(rows, figure{"answered correctly @≤10% neg", func(r Report) float64 { return r.BestAt10 }},
			figure{"  threshold for that", func(r Report) float64 { return r.BestAt10Threshold }})
	}
	rows = append(rows, figure{"answered correctly @thr", func(r Report) float64 { return r.AnsweredCorrect }},
		figure{"answered wrongly @thr", func(r Report) float64 { return r.AnsweredWrong }})
	if reports[0].Negatives > 0 {
		rows = append(rows, figure{"neg. look-alike @thr", func(r Report) float64 { return r.NegativeLookalike }},
			figure{"neg. answered @thr", func(r Report) float64 { return r.NegativeAnswered }})
	}
	if reports[0].Uncovered > 0 {
		rows = append(rows, figure{"uncovered answered @thr", func(r Report) float64 { return r.UncoveredAnswered }})
	}
	rows = append(rows, figure{"threshold", func(r Report) float64 { return r.Threshold }},
		figure{"calibration error (ECE)", func(r Report) float64 { return r.CalibrationError }})
	for _, row := range rows {
		fmt.Fprintf(w, "%-28s", row.name)
		for _, r := range reports {
			fmt.Fprintf(w, "%22.3f", row.get(r))
		}
		fmt.Fprintln(w)
	}
	for _, r := range reports {
		// Columns for the kinds of question the set has.
		cols := []curveColumn{{"correct", func(p CurvePoint) float64 { return p.AnsweredCorrect }},
			{"wrong", func(p CurvePoint) float64 { return p.AnsweredWrong }}}
		if r.Negatives > 0 {
			cols = append(cols, curveColumn{"neg-lookalike", func(p CurvePoint) float64 { return p.NegativeLookalike }},
				curveColumn{"neg-answered", func(p CurvePoint) float64 { return p.NegativeAnswered }})
		}
		if r.Uncovered > 0 {
			cols = append(cols, curveColumn{"uncovered", func(p CurvePoint) float64 { return p.UncoveredAnswered }})
		}
		fmt.Fprintf(w, "\n[%s] threshold curve (top-1 confidence ≥ t: shares answered)\n  %6s", r.System, "t")
		for _, c := range cols {
			fmt.Fprintf(w, " %13s", c.name)
		}
		fmt.Fprintln(w)
		for _, p := range r.Curve {
			fmt.Fprintf(w, "  %6.2f", p.Threshold)
			for _, c := range cols {
				fmt.Fprintf(w, " %13.3f", c.get(p))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "[%s] reliability (is the top-1 right?)\n  %-11s %7s %12s %10s\n", r.System, "confidence", "count", "mean conf.", "accuracy")
		for _, b := range r.Reliability {
			if b.Count > 0 {
				fmt.Fprintf(w, "  %.1f–%.1f   %7d %12.3f %10.3f\n", b.Low, b.High, b.Count, b.MeanConfidence, b.Accuracy)
			}
		}
	}
}
