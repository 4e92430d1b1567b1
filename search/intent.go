package search

import (
	"slices"
	"sort"

	"xiaoshen/kb"
)

// intentWords maps the canonical form of a word (after synonyms) to the
// intent it signals: what the question asks about, as opposed to what it is
// about. Two questions on the same matter with different intents (怎么办理
// and 收费吗) are different questions.
var intentWords = map[string]string{
	"材料": "materials", "费用": "fees", "多久": "time", "流程": "process", "条件": "conditions",
	"有效期": "validity", "延续": "renewal", "变更": "change", "注销": "cancel", "补发": "reissue",
	"哪里": "where", "进度": "progress", "区别": "difference", "电话": "contact",
	"原因": "cause", "治疗": "treatment", "副作用": "side_effects", "意思": "definition",
	"症状": "symptom", "药": "medication", "传染": "contagion", "注意": "precaution", "饮食": "diet",
	"有用": "efficacy", "严重": "severity", "预防": "prevention", "检查": "examination", "用量": "dosage",
	"负责人": "person", "条款": "article", "邮箱": "mail",
}

// Signature returns the canonical terms of a question, weighted by idf,
// and the intents it asks about, for grouping similar questions.
func (idx *Index) Signature(question string) kb.QuestionSignature {
	idx.mu.RLock()
	stats := idx.stats
	idx.mu.RUnlock()
	a := idx.analyzeCached(kb.WithoutMasks(question), stats)
	return kb.QuestionSignature{Terms: a.terms, Intents: a.intents}
}

// WordingKey returns the question as the matcher compares wordings:
// filler words and punctuation dropped, synonyms folded. A question whose
// key equals one of an entry's wordings' is an exact match for the entry.
// It costs a precise cut, not an analysis.
func (idx *Index) WordingKey(question string) string {
	return string(canonicalRunes(idx.seg.Synonyms(), idx.terms(kb.WithoutMasks(question), ModePrecise)))
}

// intentsOf lists the intents of canonical terms, sorted and unique.
func intentsOf(terms weightedTerms) []string {
	seen := map[string]bool{}
	var out []string
	for t := range terms {
		if in, ok := intentWords[t]; ok && !seen[in] {
			seen[in] = true
			out = append(out, in)
		}
	}
	// "注销要办什么手续" asks how to cancel: next to an action (延续, 变更,
	// 注销, 补发) the generic 流程 is that action's procedure, not a
	// question about the licence's own process.
	if seen["process"] && (seen["renewal"] || seen["change"] || seen["cancel"] || seen["reissue"]) {
		out = slices.DeleteFunc(out, func(s string) bool { return s == "process" })
	}
	sort.Strings(out)
	return out
}
