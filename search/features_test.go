package search_test

import (
	"slices"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/search"
)

// The question's form and intents against the entry's: asking how long
// instead of whether, or which instead of whether, is another question.
func TestFormAndIntentFeatures(t *testing.T) {
	seg := testkb.MustSegmenter(t)
	fz := search.NewFeaturizer(seg, []string{"吃了阿莫西林胶囊能喝酒吗", "请问治疗胸膜炎可以使用激素吗", "胸膜炎是什么原因引起的",
		"变异性哮喘怎么治疗", "变异性哮喘可以治吗", "胸膜炎治好以后可以喝酒吗"})
	names := search.FeatureNames()
	tests := []struct {
		question, entry string
		want            map[string]float64
	}{
		{"吃过阿莫西林胶囊多长时间能喝酒", "吃了阿莫西林胶囊能喝酒吗",
			map[string]float64{"yes_no_mismatch": 1, "intent_query_extra": 1, "intent_entry_extra": 0}},
		{"阿莫西林胶囊吃了以后可以喝酒吗？", "吃了阿莫西林胶囊能喝酒吗",
			map[string]float64{"yes_no_mismatch": 0, "intent_query_extra": 0, "intent_entry_extra": 0}},
		{"治疗胸膜炎能不能用激素", "请问治疗胸膜炎可以使用激素吗",
			map[string]float64{"yes_no_mismatch": 0}},
		{"治疗胸膜炎可以使用哪些激素", "请问治疗胸膜炎可以使用激素吗",
			map[string]float64{"yes_no_mismatch": 1}},
		// 需要不需要 folds into 需要 (synonyms.txt): the form is read from
		// the text.
		{"治疗胸膜炎需要不需要用激素", "请问治疗胸膜炎可以使用激素吗",
			map[string]float64{"yes_no_mismatch": 0}},
		{"胸膜炎怎么治疗", "胸膜炎是什么原因引起的",
			map[string]float64{"yes_no_mismatch": 0, "intent_query_extra": 1, "intent_entry_extra": 1}},
		{"胸膜炎是怎么引起的呢", "胸膜炎是什么原因引起的",
			map[string]float64{"yes_no_mismatch": 0, "intent_query_extra": 0, "intent_entry_extra": 0}},
		// Next to an action, 手续 (流程) is that action's procedure.
		{"药品生产许可证注销需要办什么手续", "药品生产许可证如何注销？",
			map[string]float64{"intent_query_extra": 0, "intent_entry_extra": 0, "intent_same": 1}},
		{"药品生产许可证核发要走什么手续", "药品生产许可证如何注销？",
			map[string]float64{"intent_query_extra": 1, "intent_entry_extra": 1}},
		// Whether an illness can be cured is not how to treat it, though
		// the synonyms fold 治好 and 根治 into 治疗.
		{"得了变异性哮喘能治好吗", "变异性哮喘怎么治疗",
			map[string]float64{"intent_query_extra": 1, "intent_entry_extra": 0}},
		{"变异性哮喘能根治么", "变异性哮喘可以治吗",
			map[string]float64{"intent_query_extra": 0, "intent_entry_extra": 0, "intent_same": 1}},
		{"请问变异性哮喘要怎么治愈", "变异性哮喘怎么治疗",
			map[string]float64{"intent_query_extra": 0, "intent_entry_extra": 0, "intent_same": 1}},
		// After the cure is another matter than the cure.
		{"胸膜炎治愈后能喝酒吗", "胸膜炎治好以后可以喝酒吗",
			map[string]float64{"intent_query_extra": 0, "intent_entry_extra": 0}},
		{"胸膜炎治好了能喝酒吗", "胸膜炎治好以后可以喝酒吗",
			map[string]float64{"intent_query_extra": 0, "intent_entry_extra": 0}},
		{"变异性哮喘能不能治", "变异性哮喘可以治吗",
			map[string]float64{"intent_query_extra": 0, "intent_entry_extra": 0, "intent_same": 1}},
	}
	for _, tt := range tests {
		f := fz.Features(tt.question, tt.entry)
		for name, want := range tt.want {
			i := slices.Index(names, name)
			if i < 0 {
				t.Fatalf("no feature %s", name)
			}
			if f[i] != want {
				t.Errorf("%s of %q against %q = %v, want %v", name, tt.question, tt.entry, f[i], want)
			}
		}
	}
}

// A subject swapped for another (肺炎 for 胸膜炎) is seen however alike the
// rest of the wording reads; intent words, words inside one another and
// words no entry uses are not subjects.
func TestSubjectFeatures(t *testing.T) {
	seg := testkb.MustSegmenter(t)
	fz := search.NewFeaturizer(seg, []string{"胸膜炎饮食需要注意什么", "请问有肺炎该怎么治疗？", "请问肺气肿要怎么治愈？",
		"小儿支原体肺炎要怎么医治？", "胸膜炎是什么原因引起的"})
	names := search.FeatureNames()
	feature := func(name, question, entry string) float64 {
		i := slices.Index(names, name)
		if i < 0 {
			t.Fatalf("no feature %s", name)
		}
		return fz.Features(question, entry)[i]
	}
	const query, entry = "subject_unmatched_query", "subject_unmatched_entry"
	if got := feature(query, "肺炎饮食方面要注意什么", "胸膜炎饮食需要注意什么"); got < 0.5 {
		t.Errorf("肺炎 unmatched by 胸膜炎饮食需要注意什么: %s = %v, want ≥ 0.5", query, got)
	}
	if got := feature(entry, "肺炎饮食方面要注意什么", "胸膜炎饮食需要注意什么"); got < 0.5 {
		t.Errorf("胸膜炎 unmatched by 肺炎饮食方面要注意什么: %s = %v, want ≥ 0.5", entry, got)
	}
	swapped, same := feature(query, "肺炎需要怎样治", "请问肺气肿要怎么治愈？"), feature(query, "肺炎需要怎样治", "请问有肺炎该怎么治疗？")
	if swapped <= same {
		t.Errorf("肺炎需要怎样治: %s against 肺气肿 %v, against 肺炎 %v; want the swap higher", query, swapped, same)
	}
	for _, tt := range []struct{ name, question, entry string }{
		{query, "肺炎怎么治", "小儿支原体肺炎要怎么医治？"},        // 肺炎 inside 支原体肺炎
		{query, "胸膜炎的治疗", "胸膜炎是什么原因引起的"},         // 治疗 is an intent word
		{query, "胸膜炎饮食需要注意什么呢", "胸膜炎饮食需要注意什么"},   // the same words
		{query, "沙雷菌胸膜炎饮食需要注意什么", "胸膜炎饮食需要注意什么"}, // 沙雷菌 is in no entry
	} {
		if got := feature(tt.name, tt.question, tt.entry); got != 0 {
			t.Errorf("%s of %q against %q = %v, want 0", tt.name, tt.question, tt.entry, got)
		}
	}
}

// WordingKey, which the KB uses to keep one question to one entry, agrees
// with the matcher's exact match: equal keys are an exact match, others not.
func TestWordingKeyAgreesWithExactMatch(t *testing.T) {
	env := testkb.New(t, testkb.Options{})
	fz := search.NewFeaturizer(testkb.MustSegmenter(t), nil)
	exact := slices.Index(search.FeatureNames(), "exact")
	for _, pair := range [][2]string{
		{"二类械注册要交哪些材料？", "请问第二类医疗器械注册要交哪些资料"},
		{"化妆品生产许可证多久能办下来", "化妆品生产许可证多长时间能办下来呢"},
		{"二类械注册要交哪些材料", "三类械注册要交哪些材料"},
		{"药品生产许可证怎么注销", "药品生产许可证怎么变更"},
		{"您好，我想问一下药证丢了怎么补办", "药品生产许可证丢了怎么补办"},
	} {
		same := env.Index.WordingKey(pair[0]) == env.Index.WordingKey(pair[1])
		if matched := fz.Features(pair[0], pair[1])[exact] == 1; same != matched {
			t.Errorf("%q and %q: same key %v, exact match %v", pair[0], pair[1], same, matched)
		}
	}
	if env.Index.WordingKey("二类械注册要交哪些材料？") != env.Index.WordingKey("请问第二类医疗器械注册要交哪些资料") {
		t.Error("a wording and its synonym-folded form should share a key")
	}
}

// A question names an entry's matter by the matter's words, unless it names
// another matter of the same products or, for one class of them, another
// class alone.
func TestMatterNamed(t *testing.T) {
	const registration, cosmetics = "第二类医疗器械产品注册", "化妆品生产许可"
	tests := []struct {
		question, matter string
		want             float64
	}{
		{"二类医疗器械注册要交哪些材料", registration, 1},
		{"械字号到期了咋整", registration, 1},
		{"二类医疗器械经营备案要什么材料", registration, -1},
		{"二类械网络销售要备案吗", registration, -1},
		{"三类医疗器械注册费是多少钱", registration, -1},
		{"一类备案和二类械注册有啥不一样", registration, 1},
		{"第二、三类医疗器械注册要什么材料", registration, 1},
		{"我的产品属于哪一类医疗器械，注册证怎么办", registration, 1},
		{"同一类产品能共用一个注册证吗", registration, 1},
		{"第一类医疗器械备案要什么材料", registration, -1},
		{"护照过期了怎么办", registration, -1},
		{"化妆品生产许可多久能办下来", cosmetics, 1},
		{"化妆品经营许可证在哪办", cosmetics, -1},
		{"护照过期了怎么办", "", 0},
	}
	for _, tt := range tests {
		if got := search.MatterNamed(tt.question, tt.matter); got != tt.want {
			t.Errorf("MatterNamed(%q, %q) = %v, want %v", tt.question, tt.matter, got, tt.want)
		}
	}
}
