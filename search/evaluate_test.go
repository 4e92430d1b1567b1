package search_test

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"xiaoshen/kb"
	"xiaoshen/search"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadTianchiReadsColumnsByName(t *testing.T) {
	// BOM, columns in another order, a blank line and CRLF line ends.
	path := writeFile(t, "dev.csv", "\ufefflabel,query2,query1,category\r\n"+
		"1,肺炎怎样治疗,肺炎怎么治,肺炎\r\n\r\n"+
		"0,肺炎有什么症状,肺炎怎么治,肺炎\r\n"+
		"1,哮喘能根治吗,哮喘能治好吗,哮喘\r\n")
	set, err := search.LoadTianchi(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Entries) != 2 || set.Entries[0].Title != "肺炎怎么治" || set.Entries[1].Title != "哮喘能治好吗" {
		t.Fatalf("entries: %+v", set.Entries)
	}
	if got := set.Entries[1].Keywords; len(got) != 1 || got[0] != "哮喘" {
		t.Errorf("category as keyword: %v", got)
	}
	want := []search.EvalQuestion{
		{Question: "肺炎怎样治疗", Key: set.Entries[0].ExternalID},
		{Question: "肺炎有什么症状", Key: set.Entries[0].ExternalID, Negative: true},
		{Question: "哮喘能根治吗", Key: set.Entries[1].ExternalID},
	}
	if len(set.Questions) != len(want) {
		t.Fatalf("questions: %+v", set.Questions)
	}
	for i, q := range set.Questions {
		if !reflect.DeepEqual(q, want[i]) {
			t.Errorf("question %d: got %+v, want %+v", i, q, want[i])
		}
	}
}

func TestLoadTianchiNamesTheBadRow(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"empty", "", "dev.csv: 文件是空的"},
		{"no label column", "category,query1,query2\n肺炎,a,b\n", "dev.csv:1 [label]: 表头缺少 label 列"},
		{"short row", "category,query1,query2,label\n肺炎,肺炎怎么治,肺炎如何治疗,1\n肺炎,肺炎怎么治\n", "dev.csv:3: 应有 4 列，实有 2 列"},
		{"bad label", "category,query1,query2,label\n肺炎,肺炎怎么治,肺炎如何治疗,2\n", `dev.csv:2 [label]: 应为 0（不同）或 1（同义），实为 "2"`},
		{"empty query2", "category,query1,query2,label\n肺炎,肺炎怎么治, ,1\n", "dev.csv:2 [query2]: 用户问法为空"},
		{"empty query1", "category,query1,query2,label\n肺炎,,肺炎如何治疗,1\n", "dev.csv:2 [query1]: 标准问题为空"},
		{"header only", "category,query1,query2,label\n", "dev.csv: 没有可评测的问题"},
		{"broken quote", "category,query1,query2,label\n肺炎,\"肺炎怎么治,b,1\n", "dev.csv:2: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "dev.csv", tc.content)
			set, err := search.LoadTianchi(path)
			if err == nil {
				t.Fatalf("no error; %d questions", len(set.Questions))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadKuake(t *testing.T) {
	path := writeFile(t, "dev.json", `[
  {"id": "s1", "query1": "头疼怎么办", "query2": "头痛怎么办", "label": "2"},
  {"id": "s2", "query1": "头疼怎么办", "query2": "偏头疼怎么办", "label": "1"},
  {"id": "s3", "query1": "感冒吃什么药", "query2": "感冒能洗澡吗", "label": "0"}
]`)
	set, err := search.LoadKuake(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Entries) != 2 || len(set.Questions) != 3 {
		t.Fatalf("got %d entries and %d questions", len(set.Entries), len(set.Questions))
	}
	if q := set.Questions[0]; q.Negative || q.Key != set.Entries[0].ExternalID {
		t.Errorf("label 2 must be a paraphrase of its query1: %+v", q)
	}
	if !set.Questions[1].Negative || !set.Questions[2].Negative {
		t.Errorf("labels 1 and 0 must be negatives: %+v", set.Questions)
	}

	for _, tc := range []struct{ name, content, want string }{
		{"truncated", "[\n  {\"id\": \"s1\", \"query1\": \"a\"", "dev.json:2: JSON 不完整，文件在中途结束"},
		{"syntax", "[\n {\"id\": \"s1\",\n  \"query1\": \"a\" \"query2\": \"b\"}]", "dev.json:3: 不是有效的 JSON"},
		{"not an array", `{"id": "s1"}`, "dev.json:1: 应为 JSON 数组，每项一个 {id, query1, query2, label} 对象，此处是 object"},
		{"numeric label", "[\n {\"id\": \"s1\", \"query1\": \"a\", \"query2\": \"b\",\n  \"label\": 2}]", "dev.json:3 [label]: 应为字符串，此处是 number"},
		{"bad label", `[{"id": "s7", "query1": "a", "query2": "b", "label": "3"}]`, `dev.json 第 1 条（id s7） [label]: 应为 "0"、"1" 或 "2"，实为 "3"`},
		{"missing query2", `[{"id": "s8", "query1": "a", "label": "2"}]`, "dev.json 第 1 条（id s8） [query2]: 用户问法为空"},
		{"empty array", `[]`, "dev.json: 没有可评测的问题"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := search.LoadKuake(writeFile(t, "dev.json", tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v does not contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadQuestionTSV(t *testing.T) {
	newSet := func() *search.EvalSet {
		return &search.EvalSet{Name: "corpus", Entries: []*kb.Entry{{ExternalID: "faq-a", Title: "甲"}, {ExternalID: "faq-b", Title: "乙"}}}
	}
	set := newSet()
	ok := writeFile(t, "q.tsv", "\ufeffquestion\texpected\n甲怎么办\tfaq-a\r\n\n丙是什么\t-\n甲乙都说的事\tfaq-b, faq-a\n")
	if err := loadTSV(set, ok); err != nil {
		t.Fatal(err)
	}
	want := []search.EvalQuestion{
		{Question: "甲怎么办", Key: "faq-a", Source: "q.tsv:2"},
		{Question: "丙是什么", Source: "q.tsv:4"},
		// Entries that answer a question equally: either is right.
		{Question: "甲乙都说的事", Key: "faq-b", Also: []string{"faq-a"}, Source: "q.tsv:5"},
	}
	if !reflect.DeepEqual(set.Questions, want) {
		t.Fatalf("got %+v, want %+v", set.Questions, want)
	}
	if q := set.Questions[2]; !q.Accepts("faq-a") || !q.Accepts("faq-b") || q.Accepts("faq-c") || q.Accepts("") || set.Questions[1].Accepts("") {
		t.Errorf("Accepts: %+v", q)
	}

	for _, tc := range []struct{ name, content, want string }{
		{"unknown id", "question\texpected\n甲怎么办\tfaq-a\n乙怎么办\tfaq-x\n", `q.tsv:3 [expected]: 知识库中没有编号为 "faq-x" 的条目`},
		{"unknown second id", "question\texpected\n甲怎么办\tfaq-a、faq-y\n", `q.tsv:2 [expected]: 知识库中没有编号为 "faq-y" 的条目`},
		{"uncovered and an id", "question\texpected\n甲怎么办\t-,faq-a\n", "q.tsv:2 [expected]: - 表示知识库未覆盖，不能与条目编号同时填写"},
		{"three fields", "question\texpected\n甲怎么办\tfaq-a\t多余\n", "q.tsv:2: 应有 2 列"},
		{"no tab", "question\texpected\n甲怎么办 faq-a\n", "q.tsv:2: 应有 2 列"},
		{"empty expected", "question\texpected\n甲怎么办\t\n", "q.tsv:2 [expected]: 预期条目编号为空"},
		{"empty question", "question\texpected\n \tfaq-a\n", "q.tsv:2 [question]: 问题为空"},
		{"header only", "question\texpected\n", "q.tsv: 没有可评测的问题"},
		{"GBK", "question\texpected\n\xbc\xd7\xd4\xf5\xc3\xb4\xb0\xec\tfaq-a\n", "q.tsv:2: 不是 UTF-8 编码的文本"},
		{"UTF-16", "\xff\xfeq\x00u\x00", "q.tsv:1: 不是 UTF-8 编码的文本"},
		{"no header", "甲怎么办\tfaq-a\n乙怎么办\tfaq-b\n", "q.tsv:1: 第一行应为表头"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := newSet()
			err := loadTSV(set, writeFile(t, "q.tsv", tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v does not contain %q", err, tc.want)
			}
		})
	}
}

// Score's figures, worked by hand on five questions: a paraphrase answered
// right, one whose top-1 is wrong, a hard negative whose top-1 is its
// look-alike, an uncovered question, and one two entries answer, whose
// top-1 is neither.
func TestScoreFigures(t *testing.T) {
	set := &search.EvalSet{Questions: []search.EvalQuestion{
		{Question: "甲", Key: "a"},
		{Question: "乙", Key: "b"},
		{Question: "非甲", Key: "a", Negative: true},
		{Question: "丙"},
		{Question: "甲或乙", Key: "b", Also: []string{"a"}},
	}}
	rank := func(key string, conf float64, rest ...string) []search.Ranked {
		r := []search.Ranked{{Key: key, Confidence: conf}}
		for _, k := range rest {
			r = append(r, search.Ranked{Key: k, Confidence: conf / 2})
		}
		return r
	}
	outcomes := []search.Outcome{
		{Ranking: rank("a", 0.9, "b"), Answered: "a"},
		{Ranking: rank("a", 0.6, "b"), Answered: "a"}, // b second: reciprocal rank 1/2
		{Ranking: rank("a", 0.7), Answered: "a"},
		{Ranking: rank("b", 0.3)},
		{Ranking: rank("c", 0.8, "a"), Answered: "c"}, // a second of the accepted: 1/2
	}
	r := search.Score("x", set, outcomes, 0.5)
	if r.Paraphrases != 3 || r.Negatives != 1 || r.Uncovered != 1 {
		t.Fatalf("counts: %+v", r)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"hit@1", r.HitAt1, 1.0 / 3},
		{"MRR@5", r.MRRAt5, 2.0 / 3},
		{"answered correctly", r.AnsweredCorrect, 1.0 / 3},
		{"answered wrongly", r.AnsweredWrong, 2.0 / 3},
		{"negative look-alike", r.NegativeLookalike, 1},
		{"negative answered", r.NegativeAnswered, 1},
		{"uncovered answered", r.UncoveredAnswered, 0},
		// Above 0.7 the negative is no longer answered; the paraphrase
		// at 0.9 still is.
		{"best at ≤10% look-alike", r.BestAt10, 1.0 / 3},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Each question in a bin of its own: |0.9−1|, |0.6−0|, |0.7−0|, |0.3−0|, |0.8−0|.
	if want := (0.1 + 0.6 + 0.7 + 0.3 + 0.8) / 5; math.Abs(r.CalibrationError-want) > 1e-9 {
		t.Errorf("calibration error = %v, want %v", r.CalibrationError, want)
	}
	at := func(th float64) search.CurvePoint {
		for _, p := range r.Curve {
			if p.Threshold == th {
				return p
			}
		}
		t.Fatalf("no curve point at %v", th)
		return search.CurvePoint{}
	}
	third := func(x float64) bool { return math.Abs(x-1.0/3) < 1e-9 }
	if p := at(0.25); !third(p.AnsweredCorrect) || math.Abs(p.AnsweredWrong-2.0/3) > 1e-9 || p.NegativeLookalike != 1 || p.UncoveredAnswered != 1 {
		t.Errorf("curve at 0.25: %+v", p)
	}
	if p := at(0.65); !third(p.AnsweredCorrect) || !third(p.AnsweredWrong) || p.NegativeAnswered != 1 || p.UncoveredAnswered != 0 {
		t.Errorf("curve at 0.65: %+v", p)
	}

	var b strings.Builder
	search.WriteReports(&b, "手算", []search.Report{r})
	for _, want := range []string{"改写问法 3 条，难负例 1 条，未覆盖 1 条", "correct", "wrong", "neg-lookalike", "uncovered", "    0.65         0.333         0.333         1.000         1.000         0.000"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
