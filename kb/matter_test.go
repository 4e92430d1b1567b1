package kb_test

import (
	"testing"

	"xiaoshen/kb"
)

// An unanswered question goes to the department of the matter it names,
// and a question about another matter of the same products names none.
func TestMatterOf(t *testing.T) {
	tests := map[string]string{
		"二类械注册要交哪些材料":       "第二类医疗器械产品注册",
		"化妆品生产许可多久能办下来":     "化妆品生产许可",
		"二类医疗器械经营备案要什么材料":   "",
		"三类医疗器械注册费是多少钱":     "",
		"哪一类医疗器械要办注册证":      "第二类医疗器械产品注册",
		"医疗器械生产许可证丢了怎么补办":   "第二、三类医疗器械生产许可",
		"开药店要办药品经营许可证吗，药证呢": "",
		"开个化妆品店要办许可证吗":      "",
		"在商店里卖化妆品需要办许可证吗":   "",
		"化妆品备案要多少钱":         "",
		"护照过期了怎么办":          "",
	}
	for q, want := range tests {
		m, ok := kb.MatterOf(q)
		if got := m.Name; got != want || ok != (want != "") {
			t.Errorf("MatterOf(%q) = %q, %v; want %q", q, got, ok, want)
		}
	}
}

func TestBareMatter(t *testing.T) {
	cases := map[string]string{
		"二类械注册":      "第二类医疗器械产品注册",
		"二类械注册。":     "第二类医疗器械产品注册",
		"办理化妆品生产许可证": "化妆品生产许可",
		"医疗机构制剂注册":   "医疗机构制剂注册",
		"药厂":         "药品生产企业许可",
		"医疗器械生产许可相关": "第二、三类医疗器械生产许可",
		// A detail, another activity or another class is no bare matter.
		"二类械注册要多久":    "",
		"院内制剂备案":      "",
		"二类医疗器械经营许可":  "",
		"三类医疗器械注册":    "",
		"护照":          "",
		"化妆品生产许可证在哪办": "",
		// Registration is no activity of the cosmetics licence.
		"化妆品注册":   "",
		"化妆品产品注册": "",
		// The products or their standard alone name no matter.
		"化妆品":    "",
		"妆品":     "",
		"关于二类械":  "",
		"医疗机构制剂": "",
		"药品GMP":  "",
		"化妆品生产":  "化妆品生产许可",
		"医疗器械注册": "第二类医疗器械产品注册",
		"制药":     "药品生产企业许可",
		// 二类证 is as often a seller's filing certificate.
		"二类证办理": "",
	}
	for q, want := range cases {
		m, ok := kb.BareMatter(q)
		if ok != (want != "") || m.Name != want {
			t.Errorf("BareMatter(%q) = %q, %v; want %q", q, m.Name, ok, want)
		}
	}
}
