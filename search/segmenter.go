// Package search wraps bleve and gojieba: Chinese segmentation, the index
// derived from the store, and matching user questions to entries.
package search

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/yanyiwu/gojieba"
)

//go:embed dict/user.dict.utf8
var userDict []byte

// The stub idf file: gojieba insists on loading an idf table, which only its
// keyword extractor uses. The default one is 6 MB and took most of the 2.2 s
// start; a one-line table keeps the start fast.
var (
	stubIDF       = []byte("的 1.0\n")
	stubStopWords = []byte("的\n") // gojieba asserts the stop-word list is not empty
)

// dictFiles are the gojieba files read from the dictionary folder.
var dictFiles = []string{"jieba.dict.utf8", "hmm_model.utf8"}

// DictEnv names the environment variable that points at the dictionary folder.
const DictEnv = "XIAOSHEN_DICT"

// ResolveDictDir finds the gojieba dictionary folder: the flag value, then
// $XIAOSHEN_DICT, then a "dict" folder next to the executable, then the
// folder inside the Go module cache (a development checkout).
func ResolveDictDir(flagValue string) (string, error) {
	var tried []string
	try := func(dir string) bool {
		if dir == "" {
			return false
		}
		tried = append(tried, dir)
		for _, f := range dictFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				return false
			}
		}
		return true
	}
	if flagValue != "" {
		if try(flagValue) {
			return flagValue, nil
		}
		return "", fmt.Errorf("search: dictionary folder %q lacks %s", flagValue, strings.Join(dictFiles, ", "))
	}
	if dir := os.Getenv(DictEnv); dir != "" {
		if try(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("search: $%s=%q lacks %s", DictEnv, dir, strings.Join(dictFiles, ", "))
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil && try(filepath.Join(filepath.Dir(exe), "dict")) {
			return filepath.Join(filepath.Dir(exe), "dict"), nil
		}
	}
	if try(gojieba.DICT_DIR) {
		return gojieba.DICT_DIR, nil
	}
	return "", fmt.Errorf("search: no gojieba dictionary found (tried %s); pass --dict or set $%s", strings.Join(tried, ", "), DictEnv)
}

// Segmenter cuts Chinese text into normalised terms. One instance serves the
// whole process; gojieba's cut is safe for concurrent use once loaded.
type Segmenter struct {
	jieba    *gojieba.Jieba
	synonyms *Synonyms
	rarity   *wordRarity
}

var (
	processSegmenter   *Segmenter
	processSegmenterMu sync.Mutex
)

// LoadSegmenter loads gojieba from dictDir together with the embedded domain
// dictionary and synonym table. Later calls return the same instance.
func LoadSegmenter(dictDir string) (*Segmenter, error) {
	processSegmenterMu.Lock()
	defer processSegmenterMu.Unlock()
	if processSegmenter != nil {
		return processSegmenter, nil
	}
	tmp, err := os.MkdirTemp("", "xiaoshen-dict-")
	if err != nil {
		return nil, fmt.Errorf("search: load segmenter: %w", err)
	}
	defer os.RemoveAll(tmp)
	paths := map[string][]byte{"user.dict.utf8": userDict, "idf.utf8": stubIDF, "stop_words.utf8": stubStopWords}
	for name, data := range paths {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o600); err != nil {
			return nil, fmt.Errorf("search: load segmenter: %w", err)
		}
	}
	for _, f := range dictFiles {
		if _, err := os.Stat(filepath.Join(dictDir, f)); err != nil {
			return nil, fmt.Errorf("search: load segmenter: %w", err)
		}
	}
	// Read (and check) the main dictionary and the HMM model before gojieba
	// does: gojieba aborts the process on a malformed line.
	rarity, err := loadRarity(filepath.Join(dictDir, "jieba.dict.utf8"))
	if err != nil {
		return nil, err
	}
	if err := checkHMMModel(filepath.Join(dictDir, "hmm_model.utf8")); err != nil {
		return nil, err
	}
	jieba := gojieba.NewJieba(
		filepath.Join(dictDir, "jieba.dict.utf8"),
		filepath.Join(dictDir, "hmm_model.utf8"),
		filepath.Join(tmp, "user.dict.utf8"),
		filepath.Join(tmp, "idf.utf8"),
		filepath.Join(tmp, "stop_words.utf8"),
	)
	syn, err := parseSynonyms(synonymTable)
	if err != nil {
		jieba.Free()
		return nil, err
	}
	// Every synonym is a dictionary word, so that a colloquial form such as
	// 二类械 is cut as one term and can be mapped.
	for _, w := range syn.Words() {
		if utf8.RuneCountInString(w) > 1 {
			jieba.AddWordEx(w, 20000, "n")
		}
	}
	processSegmenter = &Segmenter{jieba: jieba, synonyms: syn, rarity: rarity}
	return processSegmenter, nil
}

// errNoSegmenter is returned by the bleve tokenizer constructors when the
// process segmenter has not been loaded.
var errNoSegmenter = errors.New("search: segmenter not loaded; call LoadSegmenter first")

// Mode selects how text is cut.
type Mode int

// Cut modes: search mode adds the shorter words inside long ones (index
// time); precise mode cuts each span once (query time).
const (
	ModePrecise Mode = iota
	ModeSearch
)

// Token is a normalised term with its byte offsets in the original text.
type Token struct {
	Term       string
	Start, End int
}

// Tokens cuts text into normalised terms. Punctuation, symbols and spaces
// are dropped; case and full-width forms are folded; offsets refer to the
// original text.
func (s *Segmenter) Tokens(text string, mode Mode) []Token {
	folded, offsets := fold(text)
	if folded == "" {
		return nil
	}
	words := joinLatin(folded, s.jieba.Tokenize(folded, gojieba.DefaultMode, false))
	tokens := make([]Token, 0, len(words)*2)
	for _, w := range words {
		if !hasWordRune(w.Str) {
			continue
		}
		if mode == ModeSearch && utf8.RuneCountInString(w.Str) > 2 && !s.negatedWhole(w.Str) {
			tokens = s.appendParts(tokens, w, offsets)
		}
		tokens = append(tokens, Token{Term: w.Str, Start: offsets[w.Start], End: offsets[w.End]})
	}
	return tokens
}

// appendParts appends the dictionary words inside a long word, with their
// offsets: 医疗器械注册证 yields 医疗, 器械, 医疗器械, 注册, 注册证. gojieba's
// own search mode only adds parts of two and three characters.
func (s *Segmenter) appendParts(tokens []Token, w gojieba.Word, offsets []int) []Token {
	from := 0
	for _, part := range s.jieba.CutAll(w.Str) {
		if part == w.Str || utf8.RuneCountInString(part) < 2 || !hasWordRune(part) {
			continue
		}
		i := strings.Index(w.Str[from:], part)
		if i < 0 {
			i = strings.Index(w.Str, part)
			if i < 0 {
				continue
			}
		} else {
			i += from
		}
		// CutAll lists parts by start position, so later parts start at or
		// after this one.
		from = i
		start := w.Start + i
		tokens = append(tokens, Token{Term: part, Start: offsets[start], End: offsets[start+len(part)]})
	}
	return tokens
}

// BothTerms returns the terms of text cut precisely and in search mode, as
// Terms does, with one call into gojieba instead of two: search mode is the
// precise cut plus the words inside each long word.
func (s *Segmenter) BothTerms(text string) (precise, search []string) {
	folded, _ := fold(text)
	if folded == "" {
		return nil, nil
	}
	for _, w := range joinLatin(folded, s.jieba.Tokenize(folded, gojieba.DefaultMode, false)) {
		if !hasWordRune(w.Str) {
			continue
		}
		if utf8.RuneCountInString(w.Str) > 2 && !s.negatedWhole(w.Str) {
			for _, part := range s.jieba.CutAll(w.Str) {
				if part != w.Str && utf8.RuneCountInString(part) >= 2 && hasWordRune(part) && strings.Contains(w.Str, part) {
					search = append(search, part)
				}
			}
		}
		precise = append(precise, w.Str)
		search = append(search, w.Str)
	}
	return precise, search
}

// negatedWhole tells whether word is a word of the synonym table that
// holds a negation (要不要, 能不能, 不一样): it means what its group
// means, and its pieces would say the opposite (不要, 一样).
func (s *Segmenter) negatedWhole(word string) bool {
	_, known := s.synonyms.canonical[word]
	return known && strings.ContainsAny(word, "不没")
}

// joinLatin joins runs of adjacent words made only of ASCII letters and
// digits into one word: without its HMM, gojieba cuts a Latin word it does
// not know into letters (license → l / i / c / …) and a number into
// digits, and every English question would then match every other on
// single letters. Words of the dictionary such as gmp are runs too, so
// gmp2 stays one word.
func joinLatin(text string, words []gojieba.Word) []gojieba.Word {
	out := words[:0:0]
	for _, w := range words {
		if n := len(out); n > 0 && isLatin(w.Str) && isLatin(out[n-1].Str) && out[n-1].End == w.Start {
			out[n-1].End = w.End
			out[n-1].Str = text[out[n-1].Start:w.End]
			continue
		}
		out = append(out, w)
	}
	return out
}

// isLatin reports whether s is made only of ASCII letters and digits.
func isLatin(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Terms returns just the terms of Tokens.
func (s *Segmenter) Terms(text string, mode Mode) []string {
	tokens := s.Tokens(text, mode)
	terms := make([]string, len(tokens))
	for i, t := range tokens {
		terms[i] = t.Term
	}
	return terms
}

// Synonyms returns the query-time synonym table.
func (s *Segmenter) Synonyms() *Synonyms { return s.synonyms }

// fold lowercases text, folds full-width forms to half-width, turns control
// characters and NULs into spaces, and returns for every byte offset of the
// result (and one past the end) the offset in the original text.
func fold(text string) (string, []int) {
	var b strings.Builder
	b.Grow(len(text))
	offsets := make([]int, 0, len(text)+1)
	for i, r := range text {
		if r == utf8.RuneError {
			r = ' '
		}
		r = foldRune(r)
		n := b.Len()
		b.WriteRune(r)
		for j := n; j < b.Len(); j++ {
			offsets = append(offsets, i)
		}
	}
	offsets = append(offsets, len(text))
	folded := b.String()
	if typoFixer.hit(folded) {
		folded = typoFixer.r.Replace(folded)
	}
	return folded, offsets
}

// typos are misspellings that are no word at all and always mean a word
// of the domain: 化装品 (化装 is stage make-up) for 化妆品, 许可症 for 许可证,
// 器戒 for 器械.
// They are mended before cutting, in questions and entries alike, so the
// cut and the synonyms see the word meant. Each pair has the same length
// in bytes, so the offsets of the folded text stay those of the original.
var typos = [][2]string{
	{"化装品", "化妆品"},
	{"许可症", "许可证"},
	{"器戒", "器械"},
}

// typoFixer mends typos.
var typoFixer = newTypoMender(typos)

// typoMender replaces typos; hit is a cheap first look, as almost no text
// has one.
type typoMender struct {
	r     *strings.Replacer
	typos []string
}

func newTypoMender(typos [][2]string) *typoMender {
	m := &typoMender{}
	var pairs []string
	for _, t := range typos {
		if len(t[0]) != len(t[1]) {
			panic("search: typo " + t[0] + " and its mend differ in length")
		}
		pairs = append(pairs, t[0], t[1])
		m.typos = append(m.typos, t[0])
	}
	m.r = strings.NewReplacer(pairs...)
	return m
}

func (m *typoMender) hit(s string) bool {
	for _, t := range m.typos {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

func foldRune(r rune) rune {
	switch {
	case r == 0x3000:
		return ' '
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
	case unicode.IsControl(r):
		return ' '
	}
	return unicode.ToLower(r)
}

// hasWordRune reports whether a cut word holds a letter or digit, so that
// punctuation, symbols and whitespace are dropped.
func hasWordRune(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
