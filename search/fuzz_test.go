package search

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func mustLoadSegmenter(t testing.TB) *Segmenter {
	t.Helper()
	dir, err := ResolveDictDir("")
	if err != nil {
		t.Fatal(err)
	}
	seg, err := LoadSegmenter(dir)
	if err != nil {
		t.Fatal(err)
	}
	return seg
}

// checkTokens fails on what must never happen whatever the text: a token
// whose offsets fall outside the text, in the middle of a character, or
// slice a part of the text that does not fold to the token's term; or a
// term without a letter or digit.
func checkTokens(t *testing.T, seg *Segmenter, text string) {
	t.Helper()
	for _, mode := range []Mode{ModePrecise, ModeSearch} {
		for _, tok := range seg.Tokens(text, mode) {
			if tok.Start < 0 || tok.End > len(text) || tok.Start >= tok.End {
				t.Fatalf("mode %d: token %+v has offsets outside %q (%d bytes)", mode, tok, text, len(text))
			}
			if !boundary(text, tok.Start) || !boundary(text, tok.End) {
				t.Fatalf("mode %d: token %+v cuts a character of %q", mode, tok, text)
			}
			if folded, _ := fold(text[tok.Start:tok.End]); folded != tok.Term {
				t.Fatalf("mode %d: token %+v slices %q, which folds to %q", mode, tok, text[tok.Start:tok.End], folded)
			}
			if !hasWordRune(tok.Term) || !utf8.ValidString(tok.Term) {
				t.Fatalf("mode %d: term %q is not a word", mode, tok.Term)
			}
		}
	}
}

// boundary reports whether offset i starts a character of text (or ends
// it); a stray byte of invalid UTF-8 counts as a character.
func boundary(text string, i int) bool {
	if i == 0 || i == len(text) {
		return true
	}
	for j := range text {
		if j == i {
			return true
		}
		if j > i {
			return false
		}
	}
	return false
}

func FuzzTokens(f *testing.F) {
	seg := mustLoadSegmenter(f)
	for _, s := range []string{
		"二类械注册要交哪些材料？",
		"医疗器械注册证ＧＭＰ证书１２３４５热线",
		"化妆品生产许可证OEM委托生产，怎么办？",
		"药品\x00生产\t许可\u3000证",
		"İSTANBUL ǅ ﬁ Ⅻ ①②",
		"\xe4\xb8\xad\xe6\x96",
		strings.Repeat("啊", 50),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkTokens(t, seg, text)
	})
}
