package kb

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A question may name a document by its number rather than its title:
// 739号令, 国务院令第739号, 沪药监〔2021〕12号, 2021年第47号. The number
// identifies the document, so a question that cites it and that the
// matcher cannot place is answered with the one entry carrying it.

// numeral is a number in Arabic or Chinese numerals (第三十一号).
const numeral = `([0-9]+|[〇零一二两三四五六七八九十百千]+)`

var (
	// decreePattern finds a decree number: 令第739号, 令739号, 739号令,
	// 第739号令, with the character before 令 that tells the issuer's kind
	// (国务院令, 总局令, 主席令, 卫生部令) where there is one.
	decreePattern = regexp.MustCompile(`(?:(\p{Han})\s*)?令\s*第?\s*` + numeral + `\s*号|` + numeral + `\s*号\s*令`)
	// yearNumberPattern finds a document number of a year: 〔2021〕12号,
	// [2021]12号, (2021)第12号, 2021年第47号, 2021年47号 (a date has its 月:
	// 2021年7月7号).
	yearNumberPattern = regexp.MustCompile(`[〔\[［(（【]\s*((?:19|20)[0-9]{2})\s*[〕\]］)）】]\s*第?\s*([0-9]+)\s*号|((?:19|20)[0-9]{2})\s*年\s*第?\s*([0-9]+)\s*号`)
)

// Citations returns the document numbers text cites, as keys that compare
// equal however they are written: 令:739 for 739号令, 令:739:院 for
// 国务院令第739号 (the issuer's last character kept, as decrees of
// different issuers share numbers), 号:2021:12 for 〔2021〕12号 and
// 2021年第12号. SameDocument compares them.
func Citations(text string) []string {
	text = strings.Map(foldDigit, text)
	var keys []string
	for _, m := range decreePattern.FindAllStringSubmatch(text, -1) {
		issuer, n := m[1], m[2]
		if n == "" {
			n = m[3]
		}
		if v, ok := parseNumeral(n); ok {
			key := "令:" + strconv.Itoa(v)
			if issuer != "" {
				key += ":" + issuer
			}
			keys = append(keys, key)
		}
	}
	for _, m := range yearNumberPattern.FindAllStringSubmatch(text, -1) {
		year, n := m[1], m[2]
		if year == "" {
			year, n = m[3], m[4]
		}
		if v, ok := parseNumeral(n); ok {
			keys = append(keys, "号:"+year+":"+strconv.Itoa(v))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// SameDocument tells whether two citation keys may name one document: the
// same number, and the same issuer where both name one. 47号令 may be
// 总局令第47号, but 国务院令第47号 is not.
func SameDocument(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+":") || strings.HasPrefix(b, a+":")
}

// foldDigit turns full-width digits into ASCII ones.
func foldDigit(r rune) rune {
	if r >= '０' && r <= '９' {
		return r - '０' + '0'
	}
	return r
}

// parseNumeral reads a number in Arabic numerals or in Chinese numerals up
// to the thousands (三十一, 七百三十九, 一〇五).
func parseNumeral(s string) (int, bool) {
	if v, err := strconv.Atoi(s); err == nil {
		return v, v > 0
	}
	digits := map[rune]int{'〇': 0, '零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	units := map[rune]int{'十': 10, '百': 100, '千': 1000}
	total, digit, seenUnit := 0, -1, false
	plain := 0 // digit by digit, as in 一〇五
	for _, r := range s {
		if d, ok := digits[r]; ok {
			if digit >= 0 && !seenUnit {
				plain = plain*10 + digit
			}
			digit = d
			continue
		}
		u := units[r]
		seenUnit = true
		if digit < 0 {
			digit = 1 // 十一 is 11
		}
		total += digit * u
		digit = -1
	}
	if !seenUnit {
		plain = plain*10 + max(digit, 0)
		return plain, plain > 0
	}
	if digit > 0 {
		total += digit
	}
	return total, total > 0
}

// Citations returns the document numbers the entry carries: its 文号, and
// any cited in its title or keywords. A number cited without its issuer
// (the keyword 47号令) is left out when the entry names the issuer of that
// number (总局令第47号): it would let 国务院令第47号 name the entry.
func (e *Entry) Citations() []string {
	keys := Citations(e.Fields[FieldDocNumber])
	keys = append(keys, Citations(e.Title)...)
	for _, k := range e.Keywords {
		keys = append(keys, Citations(k)...)
	}
	slices.Sort(keys)
	all := slices.Compact(keys)
	return slices.DeleteFunc(slices.Clone(all), func(k string) bool {
		return slices.ContainsFunc(all, func(other string) bool { return strings.HasPrefix(other, k+":") })
	})
}

// SearchKeywords returns the words the full-text search finds the entry
// by besides its questions: its keywords and the numbers its 文号 holds,
// in one written form (739号令, 〔2021〕12号) rather than in full: the
// issuer's name in 国家市场监督管理总局令第47号 would make every question
// about the 总局 look like one about this document.
func (e *Entry) SearchKeywords() []string {
	keys := Citations(e.Fields[FieldDocNumber])
	if len(keys) == 0 {
		return e.Keywords
	}
	return append(slices.Clip(e.Keywords), citationWords(keys)...)
}

// citationWords writes citation keys in the form SearchKeywords indexes
// them by: 739号令, 〔2021〕12号.
func citationWords(keys []string) []string {
	var words []string
	for _, k := range keys {
		parts := strings.Split(k, ":")
		switch parts[0] {
		case "令":
			words = append(words, parts[1]+"号令")
		case "号":
			words = append(words, "〔"+parts[1]+"〕"+parts[2]+"号")
		}
	}
	return words
}

// preferCited puts first, with full confidence, the one candidate that
// carries a document number the question cites, when the matcher itself
// is not sure enough to answer: 739号令 alone shares no words with the
// regulation's questions, yet names it. A question the matcher answers
// keeps its answer (739号令规定二类械注册要交什么材料 asks about the
// materials), and a number that two candidates carry decides nothing.
// Nor does a number asked about a provision or a signatory (739号令哪一条规定了
// 注册人制度): a document's entry says what it is about and whether it is in
// force, not what each article says.
func (s *Service) preferCited(ctx context.Context, question string, live []Candidate, now time.Time) ([]Candidate, error) {
	if len(live) > 0 && live[0].Confidence >= s.Threshold || containsAny(question, provisionWords) {
		return live, nil
	}
	c, ok, err := s.cited(ctx, question, live, now)
	if err != nil || !ok {
		return live, err
	}
	return putFirst(c, live), nil
}

// cited returns the one entry, of the candidates or else found by its
// number, that carries a document number the question cites; ok is false
// when the question cites none or its numbers are carried by no entry or
// by several.
func (s *Service) cited(ctx context.Context, question string, live []Candidate, now time.Time) (c Candidate, ok bool, err error) {
	cited := Citations(question)
	if len(cited) == 0 {
		return Candidate{}, false, nil
	}
	c, n, err := s.citedCandidate(ctx, cited, live)
	if err != nil || n > 1 {
		return Candidate{}, false, err
	}
	if n == 0 {
		// A 文号 written in full (国家食品药品监督管理局令第20号) shares
		// words with so many entries that its own may not be among the
		// question's candidates: look for it by the number alone, in the
		// form the index holds it by.
		byNumber, err := s.Index.Match(ctx, strings.Join(citationWords(cited), " "), 8)
		if err != nil {
			return Candidate{}, false, err
		}
		if byNumber, err = s.live(ctx, byNumber, now); err != nil {
			return Candidate{}, false, err
		}
		if c, n, err = s.citedCandidate(ctx, cited, byNumber); err != nil || n != 1 {
			return Candidate{}, false, err
		}
	}
	return c, true, nil
}

// provisionWords ask about a document's articles or its signing rather
// than the document.
var provisionWords = []string{"第几条", "哪一条", "哪条", "哪几条", "多少条", "几条", "第几章", "哪一章", "几章",
	"条款", "条文", "原文", "全文", "签署", "签发"}

// citedCandidate returns, of cands, the one that carries a cited document
// number, at full confidence and matched by its 文号, and how many carry
// one.
func (s *Service) citedCandidate(ctx context.Context, cited []string, cands []Candidate) (Candidate, int, error) {
	ids := make([]int64, len(cands))
	for i, c := range cands {
		ids[i] = c.EntryID
	}
	entries, err := s.Store.FindEntriesByID(ctx, ids)
	if err != nil {
		return Candidate{}, 0, err
	}
	var found Candidate
	n := 0
	for _, c := range cands {
		if e := entries[c.EntryID]; e != nil && cites(e, cited) {
			found, n = c, n+1
			found.Confidence = 1
			if doc := e.Fields[FieldDocNumber]; doc != "" && !HasPlaceholder(doc) {
				found.MatchedQuestion = doc
			}
		}
	}
	return found, n, nil
}

// cites tells whether the entry carries one of the cited document numbers.
func cites(e *Entry, cited []string) bool {
	return slices.ContainsFunc(e.Citations(), func(k string) bool {
		return slices.ContainsFunc(cited, func(c string) bool { return SameDocument(k, c) })
	})
}
