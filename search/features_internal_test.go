package search

import (
	"path/filepath"
	"slices"
	"testing"

	"xiaoshen/kb"
)

// The features read by index must be the ones named: a feature added
// before them moves every later index, and the model file's list of names
// (checked at load) does not see a constant left behind.
func TestFeatureIndexes(t *testing.T) {
	n := len(featureNames)
	for i, want := range map[int]string{
		featureUnmatchedQueryMax: "unmatched_query_max",
		featureExact:             "exact",
		featureUnknownQuery:      "unknown_query_share",
		featureUnmatchedKnownMax: "unmatched_known_max",
		featureMatterNamed:       "matter_named",
		featureTitleNamed:        "title_named",
		featureNameInterrupted:   "name_interrupted",
		n - 2:                    "score_ratio",
		n - 1:                    "score_first",
	} {
		if featureNames[i] != want {
			t.Errorf("feature %d is %q, read as %q", i, featureNames[i], want)
		}
	}
	// rankingOnly is keyed by name: a misspelt one would quietly let the
	// feature into the match model.
	for name := range rankingOnly {
		found := false
		for _, f := range featureNames {
			found = found || f == name
		}
		if !found {
			t.Errorf("rankingOnly names %q, which is no feature", name)
		}
	}
}

// The committed model keeps the ranking-only features out of the match
// probability, as fitting does.
func TestRankingOnlyOutOfMatch(t *testing.T) {
	for i, name := range featureNames {
		if RankingOnly(i) && DefaultModel.MatchWeights[i] != 0 {
			t.Errorf("%s is ranking only but has match weight %v", name, DefaultModel.MatchWeights[i])
		}
	}
}

// A named entry answers the questions that name it within what its column
// answers, or what its title asks itself; an FAQ title never counts as one.
func TestAnswersAsNamed(t *testing.T) {
	fz := NewFeaturizer(mustLoadSegmenter(t), []string{"调休", "化妆品生产许可办事指引", "延续注册", "普通化妆品", "器械注册处"})
	tests := []struct {
		column kb.Column
		title  string
		q      string
		want   bool
	}{
		{kb.ColumnWiki, "调休", "调休是什么意思", true},
		{kb.ColumnWiki, "调休", "调休到底是怎么回事", true},
		{kb.ColumnFAQ, "调休", "调休是什么意思", false},
		{kb.ColumnWiki, "普通化妆品", "普通化妆品备案要交哪些资料", false}, // a term's entry lists no materials
		{kb.ColumnGuide, "化妆品生产许可办事指引", "化妆品生产许可要交哪些资料", true},
		{kb.ColumnWiki, "延续注册", "延续注册要提前多久申请", false},
		{kb.ColumnWiki, "延续注册", "延续注册是什么意思", true},
		{kb.ColumnDepartment, "器械注册处", "器械注册处的电话是多少", true},
		{kb.ColumnDepartment, "器械注册处", "器械注册处收费吗", false},
		{kb.ColumnDepartment, "器械注册处", "器械注册处处长是谁", false}, // no department entry names its head
		{kb.ColumnDepartment, "器械注册处", "器械注册处的传真号码", false},
	}
	for _, tt := range tests {
		if got := answersAsNamed(tt.column, fz.analyzed(tt.q), fz.analyzed(tt.title)); got != tt.want {
			t.Errorf("answersAsNamed(%s, %q, %q) = %v, want %v (intents %v)", tt.column, tt.q, tt.title, got, tt.want, fz.analyzed(tt.q).intents)
		}
	}
}

// Every calibration profile of the committed model has a weight per input
// and the bias: Confidence falls back to the bare match probability for
// one that does not, without a word.
func TestProfileCalibrationLength(t *testing.T) {
	for _, p := range DefaultModel.Profiles {
		if len(p.Calibration) != calibrationLen {
			t.Errorf("profile %s: %d numbers, want %d", p.Name, len(p.Calibration), calibrationLen)
		}
	}
}

// A title's name is covered by the question's words, its column's
// boilerplate (办事指引, 关于 … 通知) left out, and a single character
// names nothing.
func TestNameCoverage(t *testing.T) {
	fz := NewFeaturizer(mustLoadSegmenter(t), []string{"化妆品生产许可办事指引", "器械注册处"})
	tests := []struct {
		title, q string
		min, max float64
	}{
		{"化妆品生产许可办事指引", "化妆品生产许可怎么办", 1, 1},
		{"器械注册处", "器械注册处的电话是多少", 1, 1},
		{"化妆品生产许可办事指引", "药品生产许可怎么办", 0.01, 0.9},
		{"化妆品生产许可办事指引", "化妆品生产许可", 1, 1},
		{"化妆品生产许可办事指引", "生", 0, 0}, // inside 生产, but one character
	}
	for _, tt := range tests {
		if got := nameCoverage(fz.analyzed(tt.q), fz.analyzed(tt.title)); got < tt.min || got > tt.max {
			t.Errorf("nameCoverage(%q, %q) = %.3f, want %.2f–%.2f", tt.q, tt.title, got, tt.min, tt.max)
		}
	}
}

// A question that puts a word of its own in place of one of a name's
// words names another document or term; one that shortens the name, adds
// words beside it or writes it in other words names the same one.
func TestNameInterrupted(t *testing.T) {
	seg := mustLoadSegmenter(t)
	fz := NewFeaturizer(seg, []string{"药品生产监督管理办法", "药品生产质量管理规范", "医疗机构制剂注册管理办法", "化妆品监督管理条例", "化妆品生产许可业务咨询电话"})
	tests := []struct {
		q, title string
		want     bool
	}{
		{"药品网络销售监督管理办法哪天施行的", "药品生产监督管理办法", true},
		{"药物临床试验质量管理规范GCP是啥", "药品生产质量管理规范", true},
		{"医疗机构制剂配制监督管理办法试行什么时候出的", "医疗机构制剂注册管理办法", true},
		{"药品生产监督管理办法哪天施行的", "药品生产监督管理办法", false},
		{"化妆品条例什么时候施行", "化妆品监督管理条例", false},          // shortened
		{"药品生产监管办法是几号令", "药品生产监督管理办法", false},        // 监管 is 监督管理
		{"化妆品生产许可业务咨询打哪个电话", "化妆品生产许可业务咨询电话", false}, // words beside the name
		{"药品管理法最近一次修订是哪年", "中华人民共和国药品管理法", false},    // the name without its bracket
	}
	for _, tt := range tests {
		if got := nameInterrupted(seg.Synonyms(), fz.analyzed(tt.q), tt.title); got != tt.want {
			t.Errorf("nameInterrupted(%q, %q) = %v, want %v", tt.q, tt.title, got, tt.want)
		}
	}
	for _, tt := range []struct {
		column      kb.Column
		title, name string
		proper      bool
	}{
		{kb.ColumnWiki, "药品生产质量管理规范（GMP）", "药品生产质量管理规范", true},
		{kb.ColumnPolicy, "中华人民共和国药品管理法（2019年修订）", "中华人民共和国药品管理法", true},
		{kb.ColumnPolicy, "《关于市药品监管局政务服务“一网通办”帮办制度的工作方案》解读", "", false},
		{kb.ColumnNotice, "关于网上办事系统维护期间暂停申报的通知", "", false},
		{kb.ColumnFAQ, "药品生产许可证的有效期是几年？", "", false},
	} {
		if name, proper := properName(tt.column, tt.title); name != tt.name || proper != tt.proper {
			t.Errorf("properName(%s, %q) = %q, %v; want %q, %v", tt.column, tt.title, name, proper, tt.name, tt.proper)
		}
	}
}

// A word of the synonym table that holds a negation means what its group
// means, and its pieces, which say the opposite, are not compared; 该 is
// "should" or "this", and asks for nothing either way.
func TestNegatedWordsAndThis(t *testing.T) {
	seg := mustLoadSegmenter(t)
	for text, piece := range map[string]string{"要不要交钱": "不要", "一类和二类有啥不一样": "一样", "能不能网上办": "不能"} {
		_, terms := seg.BothTerms(text)
		for _, term := range terms {
			if term == piece {
				t.Errorf("%s: compared by its piece %q (%v)", text, piece, terms)
			}
		}
	}
	fz := NewFeaturizer(seg, []string{"企业有哪些材料"})
	if a := fz.analyzed("该企业有哪些材料"); a.terms["需要"] != 0 {
		t.Errorf("该企业 read as 需要: %v", a.keys)
	}
	if a, b := fz.analyzed("该怎么办"), fz.analyzed("怎么办"); !slices.Equal(a.keys, b.keys) {
		t.Errorf("该怎么办 %v, 怎么办 %v", a.keys, b.keys)
	}
}

// nameInterrupted reads any question against any title without failing.
func FuzzNameInterrupted(f *testing.F) {
	seg := mustLoadSegmenter(f)
	fz := NewFeaturizer(seg, []string{"药品生产监督管理办法"})
	for _, s := range [][2]string{{"药品网络销售监督管理办法哪天施行的", "药品生产监督管理办法"}, {"咨询咨询", "咨询"}, {"", "（"}, {"ＧＣＰ是啥", "药品生产质量管理规范（GMP）"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, q, title string) {
		if name, ok := properName(kb.ColumnPolicy, title); ok {
			nameInterrupted(seg.Synonyms(), fz.analyzed(q), name)
		}
	})
}

// A word another entry holds and this one holds nowhere (兽药, which the
// GMP term never mentions; 中药饮片, only in another entry's body) is
// absent; one its body holds (原料药) is not, though no wording of the
// entry has it; one no entry holds (宠物) is left to unknown_query_share.
func TestSubjectAbsent(t *testing.T) {
	seg := mustLoadSegmenter(t)
	entries := []*kb.Entry{
		{ID: 1, Version: 1, Column: kb.ColumnWiki, Title: "药品生产质量管理规范", Content: "药品生产企业应当按照本规范组织生产；原料药也适用。"},
		{ID: 2, Version: 1, Column: kb.ColumnFAQ, Title: "药品生产许可证的有效期是几年？", Content: "有效期为五年，中药饮片生产企业也一样。"},
		{ID: 3, Version: 1, Column: kb.ColumnFAQ, Title: "兽药和原料药归哪个部门管？", Content: "（示例）"},
	}
	idx := buildInternal(t, seg, entries)
	ord := idx.questions.byID[1]
	for q, absent := range map[string]bool{
		"药品生产质量管理规范对原料药适用吗":  false, // in the body
		"药品生产质量管理规范是什么":      false,
		"兽药生产质量管理规范是什么":      true,
		"药品生产质量管理规范对兽药适用吗":   true,
		"药品生产质量管理规范对中药饮片适用吗": true,
		"药品生产质量管理规范对宠物适用吗":   false,
	} {
		a := idx.analyze(q, idx.stats)
		// Absent, the rarity of a rare word; held, at most that of a
		// common word the entry lacks (是).
		if got := idx.questions.subjectAbsent(a, idx.questions.absentWords(a, false), ord); (got > 0.5) != absent {
			t.Errorf("subjectAbsent(%q) = %.3f, want absent %v (words %v)", q, got, absent, a.keys)
		}
	}
	// Once the one entry that held 兽药 is removed, no entry holds it,
	// though its postings stay until compaction.
	if err := idx.Remove(t.Context(), 3); err != nil {
		t.Fatal(err)
	}
	a := idx.analyze("药品生产质量管理规范对兽药适用吗", idx.stats)
	if got := idx.questions.subjectAbsent(a, idx.questions.absentWords(a, false), ord); got > 0.5 {
		t.Errorf("兽药 after its entry was removed: subjectAbsent %.3f, want it left to unknown_query_share", got)
	}
}

// Words that frame the question (应该, 怎么办) name no subject: an entry
// lacking them lacks nothing the question is about.
func TestSubjectAbsentPassesOverFramingWords(t *testing.T) {
	seg := mustLoadSegmenter(t)
	entries := []*kb.Entry{
		{ID: 1, Version: 1, Column: kb.ColumnFAQ, Title: "变异性哮喘怎么治疗", Content: "（示例）"},
		{ID: 2, Version: 1, Column: kb.ColumnFAQ, Title: "得了咳嗽变异性哮喘应该怎么办", Content: "（示例）"},
		{ID: 3, Version: 1, Column: kb.ColumnFAQ, Title: "过敏性哮喘要吃什么药", Content: "（示例）"},
	}
	idx := buildInternal(t, seg, entries)
	for q, want := range map[string]bool{"变异性哮喘应该怎么办": false, "过敏性哮喘应该怎么办": true} {
		a := idx.analyze(q, idx.stats)
		got := idx.questions.subjectAbsent(a, idx.questions.absentWords(a, false), idx.questions.byID[1])
		if (got > 0) != want {
			t.Errorf("subjectAbsent(%q, 变异性哮喘怎么治疗) = %.3f, want absent %v (words %v)", q, got, want, a.keys)
		}
	}
}

// A word of examination that tells what was found (检查出, 确诊了, 诊断为)
// is no question about the examination.
func TestStatesFinding(t *testing.T) {
	fz := NewFeaturizer(mustLoadSegmenter(t), []string{"肺气肿要做哪些检查"})
	for q, exam := range map[string]bool{
		"检查出有肺气肿，该怎么治疗":  false,
		"确诊了新冠要吃什么药":     false,
		"孩子被诊断为支原体肺炎怎么治": false,
		"查出肺炎怎么办":        false,
		"肺气肿要做哪些检查":      true,
		"怎么确诊肺炎":         true,
		"怎么查出肺炎":         true,
		"检查要多少钱":         true,
	} {
		if got := slices.Contains(fz.analyzed(q).intents, "examination"); got != exam {
			t.Errorf("%s: intents %v, examination %v, want %v", q, fz.analyzed(q).intents, got, exam)
		}
	}
}

// buildInternal indexes entries in a temporary folder, for the tests that
// read the index's unexported parts; it is closed when the test ends.
func buildInternal(t *testing.T, seg *Segmenter, entries []*kb.Entry) *Index {
	t.Helper()
	idx, err := Build(t.Context(), filepath.Join(t.TempDir(), "index"), seg, FeedOf(entries), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}
