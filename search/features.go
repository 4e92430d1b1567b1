package search

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// analyzed is a question prepared for pairwise comparison.
type analyzed struct {
	precise []string      // the terms cut precisely, without fillers, as the user wrote them
	keys    []string      // the canonical terms, sorted: sums in a fixed order are repeatable
	oov     []string      // canonical terms that no KB question uses, sorted
	norm    []rune        // folded letters and digits
	terms   weightedTerms // canonical terms → idf
	intents []string
	yesNo   bool // a yes-or-no question (…吗, 能不能…, 是否…)
	// bigrams are the distinct bigrams of norm, sorted (packed by
	// bigramOf, which sorts as the two-character strings would), with
	// their estimated idf in bigramWeights and its sum in bigramTotal.
	// Sorted slices rather than maps: an analysis is compared with twenty
	// others on every question and kept in the cache, so merging two short
	// lists is both faster and a fraction of the memory.
	bigrams       []uint64
	bigramWeights []float64
	bigramTotal   float64
	chars         []rune // distinct letters and digits of norm, sorted
	// charWeights holds the estimated idf of each of chars, and charTotal
	// their sum.
	charWeights []float64
	charTotal   float64
	// surface holds the bigrams of the text as written (fillers dropped,
	// synonyms not folded), sorted.
	surface []uint64
	maxIDF  float64
	// rarity holds the general-language rarity of each of keys (wordRarity).
	rarity []float64
	// subjects indexes the keys that may name the question's subject,
	// rarest first (see subjectUnmatched).
	subjects []uint16
}

// canonicalRunes is the letters and digits of words, each word in its
// canonical synonym: the form in which the matcher compares two wordings
// character by character, and in which two wordings that are the same
// question are equal.
func canonicalRunes(syn *Synonyms, words []string) []rune {
	var out []rune
	for _, t := range words {
		for _, r := range syn.Canonical(t) {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// bigramOf packs two characters into one sortable value.
func bigramOf(a, b rune) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// sortedUnique sorts s and drops repeats.
func sortedUnique[T cmp.Ordered](s []T) []T {
	slices.Sort(s)
	return slices.Clip(slices.Compact(s))
}

// analyze prepares text for comparison, with idf weights from stats.
func (idx *Index) analyze(text string, stats *termStats) *analyzed {
	return analyzeWith(idx.seg, text, stats)
}

func analyzeWith(seg *Segmenter, text string, stats *termStats) *analyzed {
	a := &analyzed{}
	// Surface features read the text with every word in its canonical
	// form, so that 药证 and 药品生产许可证 look alike character by character.
	syn := seg.Synonyms()
	precise, searchTerms := seg.BothTerms(text)
	for _, t := range precise {
		if !fillers[t] {
			a.precise = append(a.precise, t)
		}
	}
	var surface []rune
	for _, r := range strings.Join(a.precise, "") {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			surface = append(surface, r)
		}
	}
	for i := 0; i+1 < len(surface); i++ {
		a.surface = append(a.surface, bigramOf(surface[i], surface[i+1]))
	}
	a.surface = sortedUnique(a.surface)
	a.norm = canonicalRunes(syn, a.precise)
	a.chars = sortedUnique(slices.Clone(a.norm))
	a.charWeights = make([]float64, len(a.chars))
	for i, r := range a.chars {
		a.charWeights[i] = stats.bigrams.weight(charOf(r))
		a.charTotal += a.charWeights[i]
	}
	for i := 0; i+1 < len(a.norm); i++ {
		a.bigrams = append(a.bigrams, bigramOf(a.norm[i], a.norm[i+1]))
	}
	a.bigrams = sortedUnique(a.bigrams)
	a.bigramWeights = make([]float64, len(a.bigrams))
	for i, b := range a.bigrams {
		a.bigramWeights[i] = stats.bigrams.weight(b)
		a.bigramTotal += a.bigramWeights[i]
	}
	var terms []string
	for _, t := range searchTerms {
		if !fillers[t] {
			terms = append(terms, t)
		}
	}
	a.terms = weigh(seg.Synonyms(), terms, stats)
	for _, t := range terms {
		if stats.df[t] == 0 {
			a.oov = append(a.oov, syn.Canonical(t))
		}
	}
	a.oov = sortedUnique(a.oov)
	for t, w := range a.terms {
		a.maxIDF = math.Max(a.maxIDF, w)
		a.keys = append(a.keys, t)
	}
	sort.Strings(a.keys)
	a.rarity = make([]float64, len(a.keys))
	for i, t := range a.keys {
		a.rarity[i] = seg.rarity.weight(t)
		_, intent := intentWords[t]
		_, oov := slices.BinarySearch(a.oov, t)
		if !intent && !oov && i <= math.MaxUint16 {
			a.subjects = append(a.subjects, uint16(i))
		}
	}
	slices.SortStableFunc(a.subjects, func(i, j uint16) int { return cmp.Compare(a.rarity[j], a.rarity[i]) })
	a.intents = intentsOf(a.terms)
	if statesFinding(syn, precise) {
		a.intents = slices.DeleteFunc(a.intents, func(s string) bool { return s == "examination" })
	}
	a.yesNo = isYesNo(text)
	if a.yesNo && asksCurability(precise) {
		a.intents = sortedUnique(append(a.intents, "curability"))
	}
	return a
}

// statesFinding tells whether every word of examination in the precisely
// cut words (filler words kept) tells what an examination found rather
// than asks about one: 检查出有肺气肿该怎么治疗 and 确诊了新冠要吃什么药 ask about
// treatment, 肺气肿要做哪些检查 and 怎么确诊肺炎 about the examination.
func statesFinding(syn *Synonyms, words []string) bool {
	found := false
	for i, w := range words {
		if syn.Canonical(w) != "检查" {
			continue
		}
		found = true
		next, prev := "", ""
		if i+1 < len(words) {
			next = words[i+1]
		}
		if i > 0 {
			prev = syn.Canonical(words[i-1])
		}
		switch {
		case next == "出" || next == "出来" || next == "为" || next == "了":
		case (w == "查出" || w == "检出") && prev != "怎么" && prev != "可以":
		default:
			return false
		}
	}
	return found
}

// curingWords say that an illness gets cured, not how to treat it.
var curingWords = map[string]bool{
	"治好": true, "能治好": true, "好治": true, "治得好": true, "治不好": true, "治得了": true,
	"治愈": true, "根治": true, "痊愈": true,
}

// canCure are the words before 治 that ask whether it can be done (能治吗,
// 能不能治).
var canCure = map[string]bool{"能": true, "可以": true, "能够": true, "能不能": true, "能否": true, "可不可以": true, "可否": true}

// asksCurability tells whether the precisely cut words of a yes-or-no
// question, filler words kept, ask if an illness can be cured (肺气肿能治好吗,
// 变异性哮喘能根治么, 患哮喘几个月了能治吗) rather than how to treat it (怎么治疗)
// or what to do once it is cured (治愈后能喝酒吗, 治好了能喝酒吗). The synonyms
// fold both into 治疗, and a chatbot must not answer the one with the other.
func asksCurability(words []string) bool {
	for i, w := range words {
		cure := curingWords[w] || w == "治" && i > 0 && canCure[words[i-1]]
		if !cure || i+1 < len(words) && afterCure(words[i+1:]) {
			continue
		}
		return true
	}
	return false
}

// afterCure tells whether the words after a word of cure put the question
// after the cure: 后, 以后, 之后, or 了 with more to ask (治好了能喝酒吗, not
// 能治好了吗).
func afterCure(rest []string) bool {
	switch rest[0] {
	case "后", "以后", "之后":
		return true
	case "了":
		for _, w := range rest[1:] {
			if w != "吗" && w != "么" && w != "呢" && w != "吧" {
				return true
			}
		}
	}
	return false
}

// featureNames names the pairwise features, in order; the model file
// lists them so that a mismatch is caught at load.
var featureNames = []string{
	"term_dice", "coverage_query", "coverage_entry", "bigram_dice", "char_dice",
	"unmatched_query_max", "unmatched_entry_max", "intent_same", "intent_conflict",
	"intent_one_sided", "intent_partial", "length_ratio", "edit_similarity", "exact",
	"unmatched_query_sum", "unmatched_entry_sum",
	// Words of the question that no KB question uses at all (a subject the
	// KB does not know), and the largest unmatched word the KB does know.
	"unknown_query_share", "unmatched_known_max",
	// Whether the question names the candidate's matter (事项): +1 it does,
	// -1 it names none of its words, 0 the candidate has no matter. Set by
	// the matcher. "许可证多久能办下来" about some other licence must not
	// get the 化妆品生产许可 answer.
	"matter_named",
	// Idf-weighted character-bigram overlap on the synonym-normalised
	// text: the share of the question's bigram weight the entry question
	// holds, and the reverse. They see past the segmenter (气肿 in 肺气肿).
	"bigram_coverage_query", "bigram_coverage_entry",
	// Bigram overlap of the texts as written, synonyms not folded: of two
	// entries that read the same once synonyms are folded, the one in the
	// user's own words is likelier the one meant.
	"surface_bigram_dice",
	// The words' rarity in general Chinese (wordRarity) rather than in
	// the KB: the share of the question's rarity the entry question
	// matches, the reverse, and the rarest word each leaves unmatched. A
	// subject swapped for another (肺气肿 for 胸膜炎) costs more than a
	// common word.
	"rarity_coverage_query", "rarity_coverage_entry",
	"rarity_unmatched_query_max", "rarity_unmatched_entry_max",
	// Whether the question asks an intent the entry question does not, and
	// the reverse (both may hold intents, unlike intent_one_sided), and
	// whether one is a yes-or-no question and the other is not: 能喝酒吗
	// and 多长时间能喝酒 ask different things.
	"intent_query_extra", "intent_entry_extra", "yes_no_mismatch",
	// The rarest subject word (not an intent word) each side leaves
	// unmatched, in general-language rarity: a swapped subject.
	"subject_unmatched_query", "subject_unmatched_entry",
	// Idf-weighted character overlap on the synonym-normalised text: the
	// share of the question's character weight the entry question holds,
	// and the reverse. Characters see inside words that share no bigram
	// (医治 and 治疗, 药 and 药物), and unlike char_dice a shared rare
	// character counts for more than a common one. Ranking only (see
	// RankingOnly).
	"char_coverage_query", "char_coverage_entry",
	// For an entry whose title names a thing rather than asks a question
	// (a term, a hotline, a department, a document, a guide: every column
	// but the FAQ's), the share of the title's weight the question holds,
	// set by the matcher; 0 for FAQ entries and for similar questions.
	"title_named",
	// For a policy or a term, whose title is a proper name (properName),
	// whether the question says that name with a word of its own in place
	// of one of the name's (nameInterrupted), set by the matcher on every
	// text of the entry: then it names another document or term.
	"name_interrupted",
	// The general rarity of the rarest word of the question (no intent
	// word) that the entry holds nowhere, not in its wordings, keywords or
	// body, while some other entry does (questionIndex.subjectAbsent), set
	// by the matcher on every text of the entry. A paraphrase's extra
	// words are common ones (整个, 官方); a question about something else
	// names it (兽药, 北京).
	"subject_absent",
	// Retrieval context, set by the matcher: the full-text score relative
	// to the best one, and whether the candidate was the full-text top hit.
	"score_ratio", "score_first",
}

// rankingOnly names the features that order candidates but do not enter
// the match probability. The character coverage ordered the candidates
// better (Tianchi dev hit@1 0.904 → 0.913 cross-validated), but in the
// match model it raised the confidence of wrong answers that share rare
// characters with the question (核查, 临床评价): the corpus questions
// answered correctly at the threshold fell 0.375 → 0.320, against 0.351
// with the ranking alone.
var rankingOnly = map[string]bool{"char_coverage_query": true, "char_coverage_entry": true}

// RankingOnly tells whether feature i orders candidates only: fitting
// leaves it out of the match model, whose weight for it stays 0.
func RankingOnly(i int) bool { return rankingOnly[featureNames[i]] }

// Indexes of features read by name.
const (
	featureUnmatchedQueryMax = 5
	featureExact             = 13
	featureUnknownQuery      = 16
	featureUnmatchedKnownMax = 17
	featureMatterNamed       = 18
	featureTitleNamed        = 33
	featureNameInterrupted   = 34
	featureSubjectAbsent     = 35
)

// pairFeatures describes how well entry question d answers user question q.
func pairFeatures(q, d *analyzed) []float64 {
	f := make([]float64, len(featureNames))
	var qTotal, dTotal, sharedQ, sharedD float64
	for _, t := range q.keys {
		qTotal += q.terms[t]
	}
	for _, t := range d.keys {
		dTotal += d.terms[t]
	}
	var unmatchedQ, unmatchedD, unmatchedQSum, unmatchedDSum, unknownQ, unmatchedKnown float64
	// The same sums over general-language rarity.
	var rareQ, rareD, rareSharedQ, rareSharedD, rareUnmatchedQ, rareUnmatchedD float64
	for i, t := range q.keys {
		wq, rq := q.terms[t], q.rarity[i]
		rareQ += rq
		if wd, ok := d.terms[t]; ok {
			sharedQ += wq
			sharedD += wd
			rareSharedQ += rq
			continue
		}
		// The best partial credit over all words containing, or contained
		// in, t: taking the first one found would depend on map order.
		credit := 0.0
		for u, wd := range d.terms {
			if _, exact := q.terms[u]; !exact && (strings.Contains(u, t) || strings.Contains(t, u)) {
				credit = math.Max(credit, 0.5*math.Min(wq, wd))
			}
		}
		sharedQ += credit
		sharedD += credit
		if credit > 0 {
			rareSharedQ += 0.5 * rq
			continue
		}
		unmatchedQ = math.Max(unmatchedQ, wq)
		unmatchedQSum += wq
		rareUnmatchedQ = math.Max(rareUnmatchedQ, rq)
		if _, unknown := slices.BinarySearch(q.oov, t); unknown {
			unknownQ += wq
		} else {
			unmatchedKnown = math.Max(unmatchedKnown, wq)
		}
	}
	for i, t := range d.keys {
		wd, rd := d.terms[t], d.rarity[i]
		rareD += rd
		if _, ok := q.terms[t]; ok {
			rareSharedD += rd
		} else {
			matched := false
			for u := range q.terms {
				if _, exact := d.terms[u]; !exact && (strings.Contains(u, t) || strings.Contains(t, u)) {
					matched = true
					break
				}
			}
			if matched {
				rareSharedD += 0.5 * rd
			} else {
				rareUnmatchedD = math.Max(rareUnmatchedD, rd)
				unmatchedD = math.Max(unmatchedD, wd)
				unmatchedDSum += wd
			}
		}
	}
	if qTotal+dTotal > 0 {
		f[0] = math.Min(1, (sharedQ+sharedD)/(qTotal+dTotal))
	}
	if qTotal > 0 {
		f[1] = math.Min(1, sharedQ/qTotal)
	}
	if dTotal > 0 {
		f[2] = math.Min(1, sharedD/dTotal)
	}
	f[3] = dice(q.bigrams, d.bigrams)
	f[4] = dice(q.chars, d.chars)
	if q.maxIDF > 0 {
		f[5] = unmatchedQ / q.maxIDF
	}
	if d.maxIDF > 0 {
		f[6] = unmatchedD / d.maxIDF
	}
	shared := 0
	for _, x := range q.intents {
		for _, y := range d.intents {
			if x == y {
				shared++
			}
		}
	}
	switch {
	case len(q.intents) == 0 && len(d.intents) == 0:
	case len(q.intents) == 0 || len(d.intents) == 0:
		f[9] = 1
	case shared == len(q.intents) && shared == len(d.intents):
		f[7] = 1
	case shared == 0:
		f[8] = 1
	default:
		f[10] = 1
	}
	lq, ld := float64(len(q.norm)), float64(len(d.norm))
	if lq > 0 && ld > 0 {
		f[11] = math.Min(lq, ld) / math.Max(lq, ld)
		f[12] = 1 - float64(levenshtein(q.norm, d.norm))/math.Max(lq, ld)
	}
	if string(q.norm) == string(d.norm) {
		f[13] = 1
	}
	// In units of each side's own rarest word: an unmatched rare word
	// weighs more than several common ones, and the figure does not grow
	// with the KB, whose idfs all grow with its size (in idf units, a
	// 50,000-entry KB read every question as further from every entry, and
	// the confidence came out 0.13 higher for the same answers).
	if q.maxIDF > 0 {
		f[14] = unmatchedQSum / q.maxIDF
	}
	if d.maxIDF > 0 {
		f[15] = unmatchedDSum / d.maxIDF
	}
	if qTotal > 0 {
		f[16] = unknownQ / qTotal
	}
	if q.maxIDF > 0 {
		f[17] = unmatchedKnown / q.maxIDF
	}
	sharedBigrams := sharedWeight(q.bigrams, q.bigramWeights, d.bigrams)
	if q.bigramTotal > 0 {
		f[19] = sharedBigrams / q.bigramTotal
	}
	if d.bigramTotal > 0 {
		f[20] = sharedBigrams / d.bigramTotal
	}
	f[21] = dice(q.surface, d.surface)
	if rareQ > 0 {
		f[22] = rareSharedQ / rareQ
	}
	if rareD > 0 {
		f[23] = rareSharedD / rareD
	}
	f[24], f[25] = rareUnmatchedQ, rareUnmatchedD
	for _, x := range q.intents {
		if !slices.Contains(d.intents, x) {
			f[26] = 1
		}
	}
	for _, x := range d.intents {
		if !slices.Contains(q.intents, x) {
			f[27] = 1
		}
	}
	if q.yesNo != d.yesNo {
		f[28] = 1
	}
	f[29], f[30] = subjectUnmatched(q, d), subjectUnmatched(d, q)
	sharedChars := sharedWeight(q.chars, q.charWeights, d.chars)
	if q.charTotal > 0 {
		f[31] = sharedChars / q.charTotal
	}
	if d.charTotal > 0 {
		f[32] = sharedChars / d.charTotal
	}
	return f
}

// dice is the Dice coefficient of two sets given as sorted slices without
// repeats.
func dice[T cmp.Ordered](a, b []T) float64 {
	if len(a)+len(b) == 0 {
		return 0
	}
	n, _ := overlap(a, nil, b)
	return 2 * float64(n) / float64(len(a)+len(b))
}

// sharedWeight sums the weights of the items of a (sorted, without
// repeats, weights[i] for a[i]) that b (sorted) holds too.
func sharedWeight[T cmp.Ordered](a []T, weights []float64, b []T) float64 {
	_, sum := overlap(a, weights, b)
	return sum
}

// overlap merges a and b (sorted, without repeats): how many items both
// hold, and the sum of weights[i] over those items a[i] (0 when weights is
// nil).
func overlap[T cmp.Ordered](a []T, weights []float64, b []T) (n int, sum float64) {
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			if weights != nil {
				sum += weights[i]
			}
			i++
			j++
		}
	}
	return n, sum
}

// levenshtein is the edit distance between two rune slices.
func levenshtein(a, b []rune) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Featurizer computes pair features for fitting the model, with document
// frequencies taken from a KB's question texts as the index would.
type Featurizer struct {
	seg   *Segmenter
	stats *termStats
	cache map[string]*analyzed
}

// NewFeaturizer counts document frequencies over kbTexts (one per entry).
func NewFeaturizer(seg *Segmenter, kbTexts []string) *Featurizer {
	df := map[string]int{}
	for _, text := range kbTexts {
		seen := map[string]bool{}
		for _, t := range seg.Terms(text, ModeSearch) {
			if !seen[t] {
				seen[t] = true
				df[t]++
			}
		}
	}
	return &Featurizer{seg: seg, stats: newTermStats(len(kbTexts), df), cache: map[string]*analyzed{}}
}

func (fz *Featurizer) analyzed(text string) *analyzed {
	if a, ok := fz.cache[text]; ok {
		return a
	}
	a := analyzeWith(fz.seg, text, fz.stats)
	fz.cache[text] = a
	return a
}

// Features returns the pair features of user question q and entry question d.
func (fz *Featurizer) Features(q, d string) []float64 {
	return pairFeatures(fz.analyzed(q), fz.analyzed(d))
}

// FeatureNames lists the model's features in order.
func FeatureNames() []string { return append([]string(nil), featureNames...) }

// yesNoMarkers make a question a yes-or-no one wherever they stand. The
// synonyms fold those of them that ask whether something is needed into
// 需要, so the form is read here or not at all.
var yesNoMarkers = []string{"是否", "能否", "可否", "是不是", "能不能", "会不会", "可不可以", "有没有", "要不要", "好不好", "用不用", "需不需要", "需要不需要", "行不行", "对不对", "算不算"}

// isYesNo tells whether text asks a yes-or-no question: it ends with 吗
// (or 么, 嘛) before any punctuation, or holds an A-not-A form.
func isYesNo(text string) bool {
	trimmed := strings.TrimRightFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, end := range []string{"吗", "么", "嘛"} {
		if strings.HasSuffix(trimmed, end) && !strings.HasSuffix(trimmed, "什么") && !strings.HasSuffix(trimmed, "怎么") {
			return true
		}
	}
	for _, m := range yesNoMarkers {
		if strings.Contains(text, m) {
			return true
		}
	}
	return false
}

// subjectUnmatched is the general rarity of the rarest subject word of a
// that b lacks: neither the word nor one holding it or held in it. A
// subject word signals no intent and is known to the KB (a word no entry
// uses tells no candidate from another, and the segmenter's odd pieces
// such as 怎样治 would otherwise be the rarest): 肺炎 in 肺炎需要怎样治, not 治疗.
// 肺炎饮食方面要注意什么 asked of 胸膜炎饮食需要注意什么 leaves 肺炎 unmatched, however
// alike the rest reads.
func subjectUnmatched(a, b *analyzed) float64 {
	for _, i := range a.subjects {
		t := a.keys[i]
		if _, ok := b.terms[t]; ok {
			continue
		}
		partial := false
		for _, u := range b.keys {
			if strings.Contains(u, t) || strings.Contains(t, u) {
				partial = true
				break
			}
		}
		if !partial {
			return a.rarity[i]
		}
	}
	return 0
}
