package search_test

import (
	"reflect"
	"testing"

	"github.com/blevesearch/bleve/v2/registry"

	"xiaoshen/internal/testkb"
	"xiaoshen/search"
)

func TestTokens(t *testing.T) {
	seg := testkb.MustSegmenter(t)
	tests := []struct {
		name string
		in   string
		mode search.Mode
		want []search.Token
	}{
		{"domain word stays whole", "二类械注册", search.ModePrecise, []search.Token{{"二类械", 0, 9}, {"注册", 9, 15}}},
		{"punctuation and spaces dropped", "材料？ 费用！", search.ModePrecise, []search.Token{{"材料", 0, 6}, {"费用", 10, 16}}},
		{"case folded", "GMP检查", search.ModePrecise, []search.Token{{"gmp", 0, 3}, {"检查", 3, 9}}},
		{"full-width folded with original offsets", "ＧＭＰ证书", search.ModePrecise, []search.Token{{"gmp", 0, 9}, {"证书", 9, 15}}},
		{"full-width digits", "１２３４５热线", search.ModePrecise, []search.Token{{"12345", 0, 15}, {"热线", 15, 21}}},
		{"search mode adds the parts of a long word", "医疗器械注册证", search.ModeSearch,
			[]search.Token{{"医疗", 0, 6}, {"医疗器械", 0, 12}, {"器械", 6, 12}, {"器械注册证", 6, 21}, {"械注册证", 9, 21},
				{"注册", 12, 18}, {"注册证", 12, 21}, {"医疗器械注册证", 0, 21}}},
		{"empty", "", search.ModePrecise, nil},
		{"only punctuation", "？！。，", search.ModePrecise, nil},
		{"control characters are spaces", "药品\x00生产", search.ModePrecise, []search.Token{{"药品", 0, 6}, {"生产", 7, 13}}},
		{"Latin words stay whole", "How much?", search.ModePrecise, []search.Token{{"how", 0, 3}, {"much", 4, 8}}},
		{"a Latin word beside Chinese, and a number", "化妆品License ２３价", search.ModePrecise,
			[]search.Token{{"化妆品", 0, 9}, {"license", 9, 16}, {"23", 17, 23}, {"价", 23, 26}}},
		{"a model number is one word", "ISO13485证书", search.ModeSearch, []search.Token{{"iso13485", 0, 8}, {"证书", 8, 14}}},
		{"typos mended, offsets of the original", "１化装品生产许可症", search.ModePrecise, []search.Token{{"1", 0, 3}, {"化妆品生产许可证", 3, 27}}},
		{"器戒 mended", "医疗器戒", search.ModePrecise, []search.Token{{"医疗器械", 0, 12}}},
		{"district and account words whole", "闵行法人账号", search.ModePrecise, []search.Token{{"闵行", 0, 6}, {"法人账号", 6, 18}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := seg.Tokens(tt.in, tt.mode)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Tokens(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for _, tok := range got {
				if tok.Start < 0 || tok.End > len(tt.in) || tok.Start >= tok.End {
					t.Errorf("token %v has offsets outside %q", tok, tt.in)
				}
			}
		})
	}
}

func TestSearchModeTokensSorted(t *testing.T) {
	seg := testkb.MustSegmenter(t)
	// Every search-mode token's offsets must slice the original text to a
	// string that folds to the term.
	in := "化妆品生产许可证ＯＥＭ委托生产，怎么办？"
	for _, tok := range seg.Tokens(in, search.ModeSearch) {
		if tok.End > len(in) {
			t.Fatalf("token %v past end", tok)
		}
		if seg.Terms(in[tok.Start:tok.End], search.ModePrecise) == nil {
			t.Errorf("token %v slices to %q", tok, in[tok.Start:tok.End])
		}
	}
}

func TestSynonyms(t *testing.T) {
	syn := testkb.MustSegmenter(t).Synonyms()
	for _, pair := range [][2]string{{"二类械", "第二类医疗器械"}, {"多长时间", "多久"}, {"资料", "材料"}, {"械字号", "医疗器械注册证"},
		{"hzp", "化妆品"}, {"ylqx", "医疗器械"}, {"二类证", "医疗器械注册证"}, {"补班", "调休"}} {
		if syn.Canonical(pair[0]) != syn.Canonical(pair[1]) {
			t.Errorf("%s and %s must be synonyms", pair[0], pair[1])
		}
	}
	if syn.Canonical("护照") != "护照" {
		t.Error("a word without synonyms is its own canonical form")
	}
}

func TestBleveTokenizerRegistered(t *testing.T) {
	testkb.MustSegmenter(t)
	cache := registry.NewCache()
	tok, err := cache.TokenizerNamed("xiaoshen_jieba_search")
	if err != nil {
		t.Fatal(err)
	}
	stream := tok.Tokenize([]byte("二类械注册"))
	if len(stream) == 0 || string(stream[0].Term) != "二类" && string(stream[0].Term) != "二类械" {
		t.Fatalf("stream = %v", stream)
	}
	for i, token := range stream {
		if token.Position != i+1 {
			t.Errorf("token %d position = %d", i, token.Position)
		}
	}
}

// TestBothTermsEqualsTwoCuts checks that cutting once for both modes gives
// exactly what cutting in each mode gives, on every corpus text and
// question.
func TestBothTermsEqualsTwoCuts(t *testing.T) {
	seg := testkb.MustSegmenter(t)
	var texts []string
	for _, e := range corpusEntries(t) {
		texts = append(texts, e.Questions()...)
		texts = append(texts, e.Content)
	}
	for _, q := range readQuestions(t) {
		texts = append(texts, q.Question)
	}
	texts = append(texts, "", "？！", "ＯＥＭ代加工化妆品生产许可证")
	for _, text := range texts {
		precise, inSearchMode := seg.BothTerms(text)
		if want := seg.Terms(text, search.ModePrecise); !reflect.DeepEqual(precise, want) && len(precise)+len(want) > 0 {
			t.Errorf("%.40q: precise %q, want %q", text, precise, want)
		}
		if want := seg.Terms(text, search.ModeSearch); !reflect.DeepEqual(inSearchMode, want) && len(inSearchMode)+len(want) > 0 {
			t.Errorf("%.40q: search mode %q, want %q", text, inSearchMode, want)
		}
	}
}
