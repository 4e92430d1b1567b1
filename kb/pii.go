package kb

import "strings"

// The placeholders that stand in for masked items. Each names the kind of
// item in brackets, so a reviewer still sees that the citizen gave, say, a
// phone number, and a question grouped with others still reads naturally.
const (
	maskIDCard   = "[身份证号]"
	maskMobile   = "[手机号]"
	maskLandline = "[电话]"
	maskEmail    = "[邮箱]"
	maskBankCard = "[银行卡号]"
)

// maskRemover blanks every placeholder.
var maskRemover = strings.NewReplacer(maskIDCard, " ", maskMobile, " ", maskLandline, " ", maskEmail, " ", maskBankCard, " ")

// WithoutMasks blanks the placeholders MaskPII wrote, for matching: that a
// citizen gave a phone number says nothing of what they ask, and the
// placeholder's words (手机号, 身份证号) would otherwise count as words of
// the question, pulling it towards entries about phone numbers and lowering
// the confidence of the right one.
func WithoutMasks(s string) string { return maskRemover.Replace(s) }

// MaskReport counts the items MaskPIIReport replaced, by kind, so that logs
// can record that personal data was hidden without repeating any of it.
type MaskReport struct {
	IDCards   int `json:"id_cards"`
	Mobiles   int `json:"mobiles"`
	Landlines int `json:"landlines"`
	Emails    int `json:"emails"`
	BankCards int `json:"bank_cards"`
}

// Total returns the number of masked items of every kind.
func (r MaskReport) Total() int {
	return r.IDCards + r.Mobiles + r.Landlines + r.Emails + r.BankCards
}

// MaskPII hides the personal data a citizen may type into a question before
// the question is stored, logged or grouped.
//
// It replaces, each with a bracketed placeholder naming the kind:
//   - mainland ID-card numbers, 18 characters with a valid MOD 11-2 check
//     character and a real birth date, run together or written 6-8-4, or 15
//     digits with a real birth date → [身份证号];
//   - mobile numbers 1[3-9] plus 9 digits, optionally after +86, 86 or 0086
//     and optionally written 3-4-4 with spaces or dashes → [手机号];
//   - landlines with an area code (010, 02x or 0 plus three digits) and a
//     7- or 8-digit number, written with a dash, a space, in brackets or run
//     together, and an optional extension → [电话];
//   - e-mail addresses → [邮箱];
//   - bank-card numbers of 16 to 19 digits that pass the Luhn check, run
//     together or grouped in fours → [银行卡号].
//
// A digit run counts only as a whole: a run glued to a further ASCII letter
// or digit is never masked in part, so licence codes, document numbers,
// dates and longer numbers pass through. Chinese characters next to a number
// do not glue to it, since citizens write "手机13812345678". Full-width
// digits, letters and punctuation are recognised as their ASCII forms; text
// outside a masked item is returned unchanged.
func MaskPII(s string) string {
	masked, _ := MaskPIIReport(s)
	return masked
}

// MaskPIIReport is MaskPII that also counts what it masked.
func MaskPIIReport(s string) (string, MaskReport) {
	var report MaskReport
	if !mayHoldPII(s) {
		return s, report
	}
	// Questions are short: keep the folded text on the stack.
	var textBuf [160]rune
	var offsetBuf [161]int
	text, offsets := textBuf[:0], offsetBuf[:0]
	hasAt := false
	for i, r := range s {
		r = foldWidth(r)
		hasAt = hasAt || r == '@'
		text = append(text, r)
		offsets = append(offsets, i)
	}
	offsets = append(offsets, len(s))

	sc := piiScanner{text: text}
	var emailBuf [4]piiSpan
	emails := emailBuf[:0]
	if hasAt {
		emails = sc.findEmails(emails)
	}

	var b strings.Builder
	written := 0 // runes of s already copied to b
	mask := func(start, end int, kind piiKind) {
		if b.Len() == 0 {
			b.Grow(len(s) + 16)
		}
		b.WriteString(s[offsets[written]:offsets[start]])
		b.WriteString(kind.placeholder())
		written = end
		report.add(kind)
	}
	for i, next := 0, 0; i < len(text); {
		sc.limit = len(text)
		if next < len(emails) {
			if i == emails[next].start {
				mask(i, emails[next].end, kindEmail)
				i, sc.floor = emails[next].end, emails[next].end
				next++
				continue
			}
			// Numbers are matched as if the text ended where the next
			// address begins, as it will once the address is masked.
			sc.limit = emails[next].start
		}
		if r := text[i]; !isDigit(r) && r != '+' && r != '(' {
			i++
			continue
		}
		end, kind := sc.matchAt(i)
		switch {
		case kind != kindNone:
			mask(i, end, kind)
			i = end
		case end > i:
			i = end
		default:
			i++
		}
	}
	if written == 0 {
		return s, report
	}
	b.WriteString(s[offsets[written]:])
	return b.String(), report
}

// mayHoldPII reports whether s has an ASCII or full-width digit or at sign,
// without which none of the masked kinds can occur.
func mayHoldPII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' || c == '@' {
			return true
		}
		// U+FF10..U+FF19 (０-９) are EF BC 90..99 in UTF-8 and U+FF20 (＠)
		// is EF BC A0; the full-width colon and question mark lie between.
		if c == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && (0x90 <= s[i+2] && s[i+2] <= 0x99 || s[i+2] == 0xA0) {
			return true
		}
	}
	return false
}

// foldWidth maps full-width ASCII forms, the ideographic space and the
// various dashes to plain ASCII so that "１３８－１２３４－５６７８" is seen
// as a mobile number.
func foldWidth(r rune) rune {
	switch {
	case 0xFF01 <= r && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	case 0x2010 <= r && r <= 0x2015, r == 0x2212:
		return '-'
	}
	return r
}

type piiKind uint8

const (
	kindNone piiKind = iota
	kindIDCard
	kindMobile
	kindLandline
	kindEmail
	kindBankCard
)

func (k piiKind) placeholder() string {
	switch k {
	case kindIDCard:
		return maskIDCard
	case kindMobile:
		return maskMobile
	case kindLandline:
		return maskLandline
	case kindEmail:
		return maskEmail
	case kindBankCard:
		return maskBankCard
	}
	return ""
}

func (r *MaskReport) add(k piiKind) {
	switch k {
	case kindIDCard:
		r.IDCards++
	case kindMobile:
		r.Mobiles++
	case kindLandline:
		r.Landlines++
	case kindEmail:
		r.Emails++
	case kindBankCard:
		r.BankCards++
	}
}

// piiSpan is a masked item as rune indexes [start, end) of the folded text.
type piiSpan struct {
	start, end int
}

// piiScanner matches items in folded text. Positions outside [floor, limit)
// read as 0, which keeps numbers from reaching into e-mail addresses, and
// makes a number next to an address match the same before and after the
// address is masked.
type piiScanner struct {
	text         []rune
	floor, limit int
}

// maxToken bounds the digit runs worth measuring: nothing masked has a run
// of 20 digits, so longer runs need not be counted to the end.
const maxToken = 20

func (sc *piiScanner) at(p int) rune {
	if p < sc.floor || p >= sc.limit {
		return 0
	}
	return sc.text[p]
}

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

func isLetter(r rune) bool { return 'a' <= r|0x20 && r|0x20 <= 'z' }

func isAlnum(r rune) bool { return isDigit(r) || isLetter(r) }

// digits counts the digits at p, stopping at maxToken.
func (sc *piiScanner) digits(p int) int {
	n := 0
	for n < maxToken && isDigit(sc.at(p+n)) {
		n++
	}
	return n
}

// token returns the length of the digit run at p if it is a whole token,
// not followed by a letter or digit, and 0 otherwise.
func (sc *piiScanner) token(p int) int {
	n := sc.digits(p)
	if n == maxToken || isAlnum(sc.at(p+n)) {
		return 0
	}
	return n
}

// matchAt returns the end and kind of the longest item starting at p. A
// kindNone result with end > p means the text up to end is a number that
// must be passed over whole.
func (sc *piiScanner) matchAt(p int) (int, piiKind) {
	switch r := sc.text[p]; {
	case r == '+':
		if end := sc.matchMobile(p); end > p {
			return end, kindMobile
		}
	case r == '(':
		if end := sc.matchLandline(p); end > p {
			return end, kindLandline
		}
	case isDigit(r) && !isAlnum(sc.at(p-1)):
		groups, _, chainEnd := sc.groupChain(p)
		if groups > 4 {
			// Twenty or more digits grouped in fours, like a drug
			// traceability code: no part of it is a card number.
			return chainEnd, kindNone
		}
		best, kind := p, kindNone
		if end := sc.matchIDCard(p); end > best {
			best, kind = end, kindIDCard
		}
		if end := sc.matchBankCard(p); end > best {
			best, kind = end, kindBankCard
		}
		if end := sc.matchMobile(p); end > best {
			best, kind = end, kindMobile
		}
		if end := sc.matchLandline(p); end > best {
			best, kind = end, kindLandline
		}
		return best, kind
	}
	return p, kindNone
}

// idWeights are the ISO 7064 MOD 11-2 weights of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum modulo 11 to the check character.
const idCheckChars = "10X98765432"

// matchIDCard matches an 18-character ID number with a valid check
// character and birth date, run together or written 6-8-4 with spaces or
// dashes, or a 15-digit one with a valid birth date.
func (sc *piiScanner) matchIDCard(p int) int {
	switch n := sc.digits(p); {
	case sc.idTail(p+14) && n >= 17:
		if validID18(sc.text[p : p+18]) {
			return p + 18
		}
	case n == 15 && !isAlnum(sc.at(p+15)):
		// Old numbers carry no check digit; demand a province code
		// (first digit 1-8) as well as a real date.
		if '1' <= sc.text[p] && sc.text[p] <= '8' &&
			realDate(1900+number(sc.text[p+6:p+8]), number(sc.text[p+8:p+10]), number(sc.text[p+10:p+12])) {
			return p + 15
		}
	case n == 6:
		sep := sc.at(p + 6)
		if (sep != ' ' && sep != '-') || sc.token(p+7) != 8 || sc.at(p+15) != sep || !sc.idTail(p+16) {
			return -1
		}
		var id [18]rune
		copy(id[:6], sc.text[p:p+6])
		copy(id[6:14], sc.text[p+7:p+15])
		copy(id[14:], sc.text[p+16:p+20])
		if validID18(id[:]) {
			return p + 20
		}
	}
	return -1
}

// idTail reports whether the text at p is the last four characters of an
// 18-character ID number: three digits and a digit or X, ending a token.
func (sc *piiScanner) idTail(p int) bool {
	if !isDigit(sc.at(p)) || !isDigit(sc.at(p+1)) || !isDigit(sc.at(p+2)) || isAlnum(sc.at(p+4)) {
		return false
	}
	last := sc.at(p + 3)
	return isDigit(last) || last|0x20 == 'x'
}

// validID18 reports whether the 18 characters have a valid check character
// and birth date.
func validID18(id []rune) bool {
	sum := 0
	for i, w := range idWeights {
		sum += int(id[i]-'0') * w
	}
	if check := rune(idCheckChars[sum%11]); id[17] != check && !(check == 'X' && id[17] == 'x') {
		return false
	}
	return realDate(number(id[6:10]), number(id[10:12]), number(id[12:14]))
}

// number parses a run of ASCII digits.
func number(digits []rune) int {
	v := 0
	for _, d := range digits {
		v = v*10 + int(d-'0')
	}
	return v
}

// realDate reports whether the date exists and falls in 1900..2100.
func realDate(year, month, day int) bool {
	if year < 1900 || year > 2100 || month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// groupChain counts the whole 4-digit tokens at p joined by one repeated
// separator, a space or a dash, and returns the separator and where the
// chain ends.
func (sc *piiScanner) groupChain(p int) (groups int, sep rune, end int) {
	if sc.token(p) != 4 {
		return 0, 0, p
	}
	groups, sep, end = 1, sc.at(p+4), p+4
	if sep != ' ' && sep != '-' {
		return 1, 0, end
	}
	for sc.at(end) == sep && sc.token(end+1) == 4 {
		groups++
		end += 5
	}
	return groups, sep, end
}

// matchBankCard matches 16 to 19 digits that pass the Luhn check, either
// run together or grouped in fours with a final group of one to three.
func (sc *piiScanner) matchBankCard(p int) int {
	var buf [maxToken]rune
	if n := sc.token(p); n >= 16 && n <= 19 {
		if luhnValid(sc.text[p : p+n]) {
			return p + n
		}
		return -1
	}
	groups, sep, end := sc.groupChain(p)
	if groups != 4 {
		return -1
	}
	card := buf[:0]
	for i := p; i < end; i++ {
		if r := sc.text[i]; r != sep {
			card = append(card, r)
		}
	}
	// A short last group belongs to the card only if the longer number
	// passes the check and the group does not begin a mobile number
	// written 3-4-4; otherwise it is taken as separate text.
	if sc.at(end) == sep {
		k := sc.token(end + 1)
		startsMobile := k == 3 && sc.matchMobile(end+1) > 0
		if k >= 1 && k <= 3 && !startsMobile && luhnValid(append(card, sc.text[end+1:end+1+k]...)) {
			return end + 1 + k
		}
	}
	if luhnValid(card) {
		return end
	}
	return -1
}

// luhnValid reports whether the digits pass the Luhn check.
func luhnValid(digits []rune) bool {
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// matchMobile matches a mobile number with an optional +86, 86 or 0086
// prefix, run together or written 3-4-4.
func (sc *piiScanner) matchMobile(p int) int {
	q := p
	if sc.at(q) == '+' {
		q++
	}
	n := sc.token(q)
	switch {
	case n == 13 && sc.hasPrefix(q, "86"), n == 15 && sc.hasPrefix(q, "0086"):
		if body := q + n - 11; sc.mobilePrefix(body) {
			return q + n
		}
		return -1
	case n == 2 && sc.hasPrefix(q, "86"), n == 4 && sc.hasPrefix(q, "0086"):
		q += n
		if r := sc.at(q); r == ' ' || r == '-' {
			q++
		}
	case q > p:
		return -1 // a plus sign not followed by a country code
	}
	switch n := sc.token(q); {
	case n == 11 && sc.mobilePrefix(q):
		return q + 11
	case n == 3 && sc.mobilePrefix(q):
		sep := sc.at(q + 3)
		if (sep == ' ' || sep == '-') && sc.token(q+4) == 4 && sc.at(q+8) == sep && sc.token(q+9) == 4 {
			return q + 13
		}
	}
	return -1
}

func (sc *piiScanner) mobilePrefix(p int) bool {
	return sc.at(p) == '1' && '3' <= sc.at(p+1) && sc.at(p+1) <= '9'
}

func (sc *piiScanner) hasPrefix(p int, prefix string) bool {
	for i := 0; i < len(prefix); i++ {
		if sc.at(p+i) != rune(prefix[i]) {
			return false
		}
	}
	return true
}

// matchLandline matches an area code and a 7- or 8-digit number written
// 021-12345678, 021 12345678, (021)12345678, 021-1234-5678 or 02112345678,
// with an optional extension.
func (sc *piiScanner) matchLandline(p int) int {
	if sc.at(p) == '(' {
		n := sc.token(p + 1)
		q := p + 1 + n
		if !sc.areaCode(p+1, n) || sc.at(q) != ')' {
			return -1
		}
		q++
		if r := sc.at(q); r == ' ' || r == '-' {
			q++
		}
		return sc.extension(sc.localNumber(q))
	}
	n := sc.token(p)
	if sc.areaCode(p, n) {
		q := p + n
		if r := sc.at(q); r != ' ' && r != '-' {
			return -1
		}
		return sc.extension(sc.localNumber(q + 1))
	}
	for _, area := range [2]int{3, 4} {
		if local := n - area; (local == 7 || local == 8) && sc.areaCode(p, area) {
			return sc.extension(p + n)
		}
	}
	return -1
}

// localNumber returns the end of a 7- or 8-digit local number at p, also
// written 4-4 with a space or dash, or -1.
func (sc *piiScanner) localNumber(p int) int {
	switch m := sc.token(p); {
	case m == 7 || m == 8:
		return p + m
	case m == 4:
		if sep := sc.at(p + 4); (sep == ' ' || sep == '-') && sc.token(p+5) == 4 {
			return p + 9
		}
	}
	return -1
}

// areaCode reports whether the n characters at p are a mainland area code:
// 010, 020-029, or 0 followed by three digits starting 3-9.
func (sc *piiScanner) areaCode(p, n int) bool {
	if sc.at(p) != '0' {
		return false
	}
	switch n {
	case 3:
		return sc.at(p+1) == '2' && isDigit(sc.at(p+2)) || sc.at(p+1) == '1' && sc.at(p+2) == '0'
	case 4:
		return '3' <= sc.at(p+1) && sc.at(p+1) <= '9' && isDigit(sc.at(p+2)) && isDigit(sc.at(p+3))
	}
	return false
}

// extension extends a landline ending at p over an extension of up to five
// digits after "-", "#" or "转".
func (sc *piiScanner) extension(p int) int {
	if p < 0 {
		return p
	}
	if r := sc.at(p); r == '-' || r == '#' || r == '转' {
		if k := sc.token(p + 1); k >= 1 && k <= 5 {
			return p + 1 + k
		}
	}
	return p
}

// findEmails appends the e-mail addresses in the text to spans, in order.
func (sc *piiScanner) findEmails(spans []piiSpan) []piiSpan {
	sc.limit = len(sc.text)
	prevEnd := 0
	for at := 0; at < len(sc.text); at++ {
		if sc.text[at] != '@' {
			continue
		}
		start := at
		for start > prevEnd && isEmailLocal(sc.text[start-1]) {
			start--
		}
		if start == at {
			continue
		}
		if end := sc.domainEnd(at + 1); end > 0 {
			spans = append(spans, piiSpan{start, end})
			prevEnd, at = end, end-1
		}
	}
	return spans
}

func isEmailLocal(r rune) bool {
	return isAlnum(r) || r == '.' || r == '_' || r == '%' || r == '+' || r == '-'
}

// domainEnd returns the end of the longest domain at p with at least two
// labels and an alphabetic top-level label of two or more letters, or -1.
func (sc *piiScanner) domainEnd(p int) int {
	end, labels := -1, 0
	for {
		start, alpha := p, true
		for r := sc.at(p); isAlnum(r) || r == '-'; r = sc.at(p) {
			alpha = alpha && isLetter(r)
			p++
		}
		if p == start {
			return end
		}
		labels++
		if labels >= 2 && alpha && p-start >= 2 {
			end = p
		}
		if sc.at(p) != '.' {
			return end
		}
		p++
	}
}
