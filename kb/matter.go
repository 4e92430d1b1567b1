package kb

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Matter is a government-service matter (事项) with its owning department and
// the words citizens use for it.
type Matter struct {
	Name       string
	Department string
	Keywords   []string
	// Elsewhere are words that name another matter of the same products,
	// one without online help here: a question about 二类医疗器械经营备案
	// names the devices but not their registration.
	Elsewhere []string
	// Class and OtherClasses are, for a matter of one class of products,
	// the words of that class and of the others: 三类医疗器械注册 is the
	// national regulator's, not this one's, unless 二类 is named as well.
	Class, OtherClasses []string
}

// Matters lists the five matters that get online help, most specific
// keywords first.
var Matters = []Matter{
	{Name: "医疗机构制剂注册", Department: "药品注册处", Keywords: []string{"医疗机构制剂", "院内制剂", "医院制剂", "制剂注册", "传统中药制剂", "制剂批准文号", "制剂"}},
	{Name: "药品生产企业许可", Department: "药品监管处", Keywords: []string{"药品生产许可", "药证", "药品生产企业", "药厂", "制药", "药品gmp"},
		Elsewhere: []string{"药品经营", "经营许可", "零售", "药店", "批发"}},
	{Name: "第二、三类医疗器械生产许可", Department: "器械监管处", Keywords: []string{"医疗器械生产许可", "器械生产许可", "械生产", "医疗器械生产", "器械生产"},
		Elsewhere: []string{"经营许可", "经营备案", "网络销售"}},
	{Name: "第二类医疗器械产品注册", Department: "器械注册处", Keywords: []string{"第二类医疗器械", "二类医疗器械", "二类械", "二类器械", "医疗器械注册", "器械注册", "械注册", "注册证", "械字号"},
		Elsewhere: []string{"经营许可", "经营备案", "网络销售", "生产许可"},
		// Not 二类证: sellers call their 二类医疗器械经营备案凭证 so.
		// Bare 一类 would be in 哪一类 and 同一类; 二、三类 names 二类 too.
		Class: []string{"二类", "二三类", "二、三类", "二/三类"},
		OtherClasses: []string{"第一类", "一类医疗器械", "一类器械", "一类械", "一类备案",
			"第三类", "三类医疗器械", "三类器械", "三类械", "三类注册"}},
	{Name: "化妆品生产许可", Department: "化妆品监管处", Keywords: []string{"化妆品生产许可", "化妆品", "妆字号", "妆品"},
		// 化妆品备案 is the filing of a product, not the licence of its maker.
		Elsewhere: []string{"经营许可", "经营备案", "网络销售", "化妆品备案", "产品备案", "化妆品店", "开店", "门店", "商店", "零售", "卖化妆品", "销售化妆品"}},
}

// Names tells whether a lower-cased question names the matter: by its name
// or one of its words, and neither another matter of the same products
// nor, for one class of products, only another class.
func (m Matter) Names(question string) bool {
	if containsAny(question, m.Elsewhere) || namesClass(question, m.OtherClasses) && !namesClass(question, m.Class) {
		return false
	}
	return strings.Contains(question, strings.ToLower(m.Name)) || containsAny(question, m.Keywords)
}

// namesClass tells whether a question names one of the classes: 一类医疗器械
// in 哪一类医疗器械 or 同一类 is a word of asking, not the class.
func namesClass(question string, classes []string) bool {
	for _, c := range classes {
		for at := 0; ; {
			i := strings.Index(question[at:], c)
			if i < 0 {
				break
			}
			i += at
			if prev, _ := utf8.DecodeLastRuneInString(question[:i]); !strings.ContainsRune("哪这那同每某任", prev) {
				return true
			}
			at = i + len(c)
		}
	}
	return false
}

// containsAny tells whether s holds one of words.
func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// unlicensedActivities are the words of activities that none of the
// matters here covers: the distribution and retail of the products.
var unlicensedActivities = []string{"经营许可", "经营备案", "网络销售", "药品经营", "零售", "药店", "批发", "化妆品店", "开店", "门店", "商店", "卖化妆品", "销售化妆品"}

// asksUnlicensedActivity tells whether a question is about one of the
// unlicensedActivities.
func asksUnlicensedActivity(question string) bool {
	return containsAny(strings.ToLower(question), unlicensedActivities)
}

// MatterOf returns the matter a question names, if any.
func MatterOf(question string) (Matter, bool) {
	q := strings.ToLower(question)
	for _, m := range Matters {
		if m.Names(q) {
			return m, true
		}
	}
	return Matter{}, false
}

// matterBeside returns the one matter a question names when the words of
// other matters beside it (Elsewhere) keep MatterOf from naming it:
// 二类医疗器械注册时要不要先办生产许可 asks about registration, and whether it
// needs a production licence first. Routing uses it, the matcher does not:
// such a question is not about the matter alone. Two matters named, or
// none, return false, and so does an Elsewhere word that names another
// matter here in part (生产许可 beside 二类医疗器械注册: the device production
// licence is another department's): 综合处 then sends it on.
func matterBeside(question string) (Matter, bool) {
	q := strings.ToLower(question)
	var found []Matter
	for _, m := range Matters {
		if namesClass(q, m.OtherClasses) && !namesClass(q, m.Class) {
			continue
		}
		if strings.Contains(q, strings.ToLower(m.Name)) || containsAny(q, m.Keywords) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return Matter{}, false
	}
	for _, w := range found[0].Elsewhere {
		if !strings.Contains(q, w) {
			continue
		}
		for _, o := range Matters {
			if o.Name != found[0].Name && strings.Contains(strings.ToLower(o.Name), w) {
				return Matter{}, false
			}
		}
	}
	return found[0], true
}

// topicWords are the words that may stand beside a matter's own in a
// question that names only the matter: 办理二类械注册, 化妆品生产许可证申请.
var topicWords = []string{"办事指南", "办事指引", "指南", "指引", "办理", "申请", "申报", "相关", "事项", "业务",
	"许可证", "证", "产品", "请问", "我想了解", "了解", "咨询", "一下", "关于", "的"}

// activityWords are the words of the activities the matters license,
// left once the matter's own words are taken out (二类械 | 注册). A matter
// stands for those its name holds: 化妆品注册 is the registration of a
// product, not the 化妆品生产许可 of its maker.
var activityWords = []string{"注册", "许可", "生产"}

// productWords name what a matter is about, the products or the standard
// their making meets (药品gmp), and not the matter itself: alone (化妆品,
// 关于二类械, 药品GMP) they may ask about selling or filing the products or
// about the standard, and the matcher's answer stands.
var productWords = []string{"第二类医疗器械", "二类医疗器械", "二类械", "二类器械",
	"医疗机构制剂", "院内制剂", "医院制剂", "传统中药制剂", "制剂", "化妆品", "妆品", "药品gmp"}

// BareMatter returns the matter a question names when it names nothing
// else: 二类械注册, 医疗机构制剂注册, 办理化妆品生产许可证, 药厂. Such a question
// asks about the matter as a whole, and its guide (办事指引) answers it,
// not the entry on one detail of it that happens to read closest
// (二类械注册 had been answered with 二类械注册要不要做临床).
func BareMatter(question string) (Matter, bool) {
	q := strings.ToLower(question)
	m, ok := MatterOf(q)
	if !ok {
		return Matter{}, false
	}
	ws := bareWords[m.Name]
	named := false // by one of the matter's own words, not only its products'
	for _, w := range ws.all {
		if !strings.Contains(q, w) {
			continue
		}
		named = named || slices.Contains(ws.own, w) && !slices.Contains(productWords, w)
		q = strings.ReplaceAll(q, w, " ")
	}
	if !named {
		return Matter{}, false
	}
	for _, r := range q {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return Matter{}, false
		}
	}
	return m, true
}

// matterWords are the words BareMatter takes out of a question naming a
// matter: the matter's own (its name, keywords and the activities its name
// holds), and all of them with topicWords, longest first so that 许可证
// goes before 证.
type matterWords struct{ own, all []string }

// bareWords holds each matter's words, by name, made once: BareMatter runs
// on every question.
var bareWords = func() map[string]matterWords {
	out := map[string]matterWords{}
	for _, m := range Matters {
		own := append([]string{strings.ToLower(m.Name)}, m.Keywords...)
		for _, w := range activityWords {
			if strings.Contains(m.Name, w) {
				own = append(own, w)
			}
		}
		all := append(slices.Clip(own), topicWords...)
		slices.SortStableFunc(all, func(a, b string) int { return len(b) - len(a) })
		out[m.Name] = matterWords{own: own, all: all}
	}
	return out
}()

// preferGuide answers a question that names only a matter with the
// matter's guide, at full confidence, unless the question is one of an
// entry's own wordings (药品生产许可证 is the wiki entry's title).
func (s *Service) preferGuide(ctx context.Context, question string, live []Candidate) ([]Candidate, error) {
	if len(live) > 0 && live[0].Confidence >= 1 {
		return live, nil
	}
	m, ok := BareMatter(question)
	if !ok {
		return live, nil
	}
	guides, _, err := s.Store.FindEntries(ctx, EntryFilter{Column: ColumnGuide, Matter: m.Name, Limit: 2})
	if err != nil || len(guides) != 1 {
		return live, err
	}
	g := guides[0]
	return putFirst(Candidate{EntryID: g.ID, Column: g.Column, Title: g.Title, Department: g.Department, Matter: g.Matter,
		MatchedQuestion: m.Name, Confidence: 1}, live), nil
}

// putFirst returns c followed by the candidates of live other than c's
// entry, in their order.
func putFirst(c Candidate, live []Candidate) []Candidate {
	out := make([]Candidate, 1, len(live)+1)
	out[0] = c
	for _, other := range live {
		if other.EntryID != c.EntryID {
			out = append(out, other)
		}
	}
	return out
}
