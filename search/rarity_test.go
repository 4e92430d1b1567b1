package search_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/search"
)

func TestRarityWeighsSubjectsAboveCommonWords(t *testing.T) {
	dir, err := search.ResolveDictDir("")
	if err != nil {
		t.Fatal(err)
	}
	weight, err := search.LoadRarity(filepath.Join(dir, "jieba.dict.utf8"))
	if err != nil {
		t.Fatal(err)
	}
	// Each pair: a word common in any text, then a subject word.
	for _, pair := range [][2]string{{"方法", "肺气肿"}, {"哪些", "胸膜炎"}, {"怎么", "化妆品"}, {"材料", "许可证"}} {
		common, subject := weight(pair[0]), weight(pair[1])
		if !(common < subject) {
			t.Errorf("rarity %s = %.3f, %s = %.3f: the subject should be rarer", pair[0], common, pair[1], subject)
		}
	}
	for _, w := range []string{"治疗", "肺气肿", "第二类医疗器械", "不在词典里的词"} {
		if r := weight(w); r <= 0 || r > 1 {
			t.Errorf("rarity %s = %.3f, want in (0, 1]", w, r)
		}
	}
	// Words that frame a question name nothing, however rare they are in
	// general text: 怎么办 is rarer there than 肺炎's common neighbours.
	for _, w := range []string{"的", "怎么办", "为什么", "经常", "需要", "应该", "可以", "怎么弄", "什么时候"} {
		if r := weight(w); r != 0 {
			t.Errorf("rarity of the framing word %s = %.3f, want 0", w, r)
		}
	}
	// Domain terms of the embedded user dictionary are not in the general
	// dictionary: they are specific.
	if r := weight("第二类医疗器械"); r != 1 {
		t.Errorf("rarity of a domain term = %.3f, want 1", r)
	}
}

func TestRarityRejectsABadDictionary(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		// Lines gojieba would abort the process on, reported instead.
		{"blank line", "方法 18045 n\n\n肺气肿 48 n\n", "line 2"},
		{"doubled space", "方法 18045 n\n肺气肿  48 n\n", "line 2"},
		{"no tag", "方法 18045\n", "line 1"},
		{"frequency not a number", "方法 18045 n\n肺气肿 很多 n\n", "line 2"},
		{"no frequencies", "方法 0 n\n", "no word frequencies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".utf8")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := search.LoadRarity(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("LoadRarity = %v, want an error naming %s and %q", err, path, tt.want)
			}
		})
	}
	if _, err := search.LoadRarity(filepath.Join(dir, "missing.utf8")); err == nil {
		t.Fatal("LoadRarity of a missing file succeeded")
	}
}

// A candidate that swaps the question's subject for another leaves a rarer
// word unmatched than one that words the same subject differently.
func TestRarityFeaturesSeeASwappedSubject(t *testing.T) {
	seg := testkb.MustSegmenter(t)
	kbTexts := []string{"治疗胸膜炎的方法有哪些", "请问肺气肿要怎么治愈", "肺气肿有什么症状", "胸膜炎饮食需要注意什么"}
	fz := search.NewFeaturizer(seg, kbTexts)
	names := search.FeatureNames()
	at := func(name string) int {
		i := slices.Index(names, name)
		if i < 0 {
			t.Fatalf("no feature %s", name)
		}
		return i
	}
	question := "肺气肿的治疗方法有哪些"
	swapped := fz.Features(question, "治疗胸膜炎的方法有哪些")
	same := fz.Features(question, "请问肺气肿要怎么治愈")
	unmatched, coverage := at("rarity_unmatched_query_max"), at("rarity_coverage_query")
	if !(swapped[unmatched] > same[unmatched]) {
		t.Errorf("rarest unmatched word: swapped subject %.3f, same subject %.3f; want the swap higher", swapped[unmatched], same[unmatched])
	}
	if swapped[coverage] <= 0 || swapped[coverage] >= 1 || same[coverage] <= 0 || same[coverage] >= 1 {
		t.Errorf("rarity coverage %.3f and %.3f, want both strictly between 0 and 1", swapped[coverage], same[coverage])
	}
}

// BenchmarkLoadRarity reads the rarity table, as every start does (beside
// gojieba's own load of the same file).
func BenchmarkLoadRarity(b *testing.B) {
	dir, err := search.ResolveDictDir("")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := search.LoadRarity(filepath.Join(dir, "jieba.dict.utf8")); err != nil {
			b.Fatal(err)
		}
	}
}
