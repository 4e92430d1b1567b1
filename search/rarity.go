package search

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// wordRarity weighs words by how rare they are in general Chinese, from
// the word frequencies of gojieba's main dictionary (the file the
// segmenter loads anyway). It complements the KB's own idf: in a KB about
// lung diseases 肺气肿 is in many questions and its idf is modest, yet it
// names the subject, while 方法 or 哪些 are common everywhere. Of two
// candidates that each leave one word of the question unmatched, the one
// that leaves out the subject is the worse answer.
//
// A weight is ln(total/(freq+3)) over its largest value, so it lies in
// (0, 1]. Words the dictionary does not hold, domain terms from the
// embedded user dictionary among them, weigh 1: they are specific. Words
// that only frame a question (functionTag, frameWords, interrogatives) weigh 0.
type wordRarity struct {
	weights map[string]float32
}

// rarityMinFreq is the least frequency kept in the table: rarer words
// would weigh 0.88 or more and are counted as 1, which keeps the table to
// a quarter of the dictionary (80k words).
const rarityMinFreq = 20

// loadRarity reads a gojieba dictionary file: lines of "word freq tag",
// separated by single spaces. It checks every line as gojieba would:
// gojieba aborts the whole process on a line without exactly three fields
// (a blank line, a doubled space), so the segmenter reads the file here
// first and reports the file and line instead.
func loadRarity(path string) (*wordRarity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("search: gojieba dictionary: %w", err)
	}
	defer f.Close()
	// The map holds frequencies until the total is known, then weights.
	r := &wordRarity{weights: make(map[string]float32, 1<<17)}
	total := 0.0
	var function []string
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		// gojieba splits at every space and ignores one trailing space.
		text := bytes.TrimSuffix(sc.Bytes(), []byte(" "))
		word, rest, _ := bytes.Cut(text, []byte(" "))
		field, tag, _ := bytes.Cut(rest, []byte(" "))
		if len(text) == 0 || bytes.Count(text, []byte(" ")) != 2 {
			return nil, fmt.Errorf("search: gojieba dictionary %s line %d: want three fields \"word frequency tag\" separated by single spaces, got %q", path, line, sc.Bytes())
		}
		freq, ok := parseFreq(field)
		if !ok || len(word) == 0 {
			return nil, fmt.Errorf("search: gojieba dictionary %s line %d: want \"word frequency tag\" with a number as frequency, got %q", path, line, sc.Bytes())
		}
		total += freq
		if functionTag(tag) {
			function = append(function, string(word))
		}
		if freq >= rarityMinFreq {
			if prev := r.weights[string(word)]; float32(freq) > prev {
				r.weights[string(word)] = float32(freq)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("search: gojieba dictionary %s: %w", path, err)
	}
	if total == 0 {
		return nil, fmt.Errorf("search: gojieba dictionary %s holds no word frequencies", path)
	}
	top := math.Log(total / 3)
	for word, freq := range r.weights {
		r.weights[word] = float32(math.Log(total/(float64(freq)+3)) / top)
		if asks(word) {
			r.weights[word] = 0
		}
	}
	for _, w := range function {
		r.weights[w] = 0
	}
	for _, w := range frameWords {
		r.weights[w] = 0
	}
	return r, nil
}

// functionTag tells whether a dictionary part-of-speech tag is one of
// words that frame a question rather than name what it is about:
// pronouns (什么, 如何, 为什么), adverbs (经常, 一直), conjunctions,
// prepositions, particles, interjections and onomatopoeia. Such words
// weigh 0, however rare: 怎么办 is rare in general text, yet it names
// nothing. A switch rather than a map: it is asked for each of the
// dictionary's 350k lines at start, where a map lookup cost as much as
// the rest of the new work.
func functionTag(tag []byte) bool {
	switch string(tag) {
	case "r", "rr", "rz", "rg", "d", "dg", "c", "p", "y", "u", "ud", "uj", "ul", "uv", "uz", "ug", "e", "o":
		return true
	}
	return false
}

// frameWords weigh 0 too: modal verbs and set phrases of asking, which the
// dictionary tags as verbs or idioms (需要, 应该, 好不好); those that hold
// an interrogative (怎么办) are interrogatives' to catch.
var frameWords = []string{"好不好", "是不是", "有没有",
	"需要", "应该", "应当", "能", "会", "要", "能够", "可能", "必须", "可以"}

// interrogatives make any word that holds one a framing word, whether the
// dictionary has it (什么样, 怎么回事) or the segmenter made it up from
// characters it does not know (怎么弄, 什么时候, which would otherwise weigh
// 1 as unknown words do).
var interrogatives = []string{"什么", "怎么", "怎样", "如何", "为何", "啥", "咋", "哪"}

// asks tells whether word holds an interrogative. The table's words are
// checked once, at load; the others on each lookup.
func asks(word string) bool {
	if !strings.ContainsAny(word, "什怎如为啥咋哪") { // their first characters, most words fail here
		return false
	}
	for _, q := range interrogatives {
		if strings.Contains(word, q) {
			return true
		}
	}
	return false
}

// parseFreq reads a non-negative decimal frequency without allocating
// for the common case of an integer.
func parseFreq(b []byte) (float64, bool) {
	n := 0.0
	for _, c := range b {
		if c < '0' || c > '9' {
			f, err := strconv.ParseFloat(string(b), 64)
			return f, err == nil && f >= 0
		}
		n = n*10 + float64(c-'0')
	}
	return n, true
}

// weight returns the rarity of word in [0, 1].
func (r *wordRarity) weight(word string) float64 {
	if w, ok := r.weights[word]; ok {
		return float64(w)
	}
	if asks(word) {
		return 0
	}
	return 1
}
