package kb

import "strings"

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
		Class:     []string{"二类", "二三类"}, OtherClasses: []string{"一类", "三类"}},
	{Name: "化妆品生产许可", Department: "化妆品监管处", Keywords: []string{"化妆品生产许可", "化妆品", "妆字号", "妆品"},
		Elsewhere: []string{"经营许可", "经营备案", "网络销售"}},
}

// MatterOf returns the matter a question names by its keywords, if any.
func MatterOf(question string) (Matter, bool) {
	q := strings.ToLower(question)
	for _, m := range Matters {
		for _, k := range m.Keywords {
			if strings.Contains(q, k) {
				return m, true
			}
		}
	}
	return Matter{}, false
}
