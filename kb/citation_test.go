package kb_test

import (
	"slices"
	"testing"

	"xiaoshen/kb"
)

func TestCitations(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"739号令", []string{"令:739"}},
		{"国务院令第739号", []string{"令:739:院"}},
		{"国务院 令 第739号", []string{"令:739:院"}},
		{"国务院第739号令", []string{"令:739"}},
		{"第７３９号令是什么", []string{"令:739"}},
		{"中华人民共和国主席令第三十一号", []string{"令:31:席"}},
		{"卫生部令第3号和总局令第47号", []string{"令:3:部", "令:47:局"}},
		{"令第一〇五号", []string{"令:105"}},
		{"令第一百零五号", []string{"令:105"}},
		{"沪药监〔2021〕12号", []string{"号:2021:12"}},
		{"国家药监局公告2021年第12号", []string{"号:2021:12"}},
		{"2031年7号文件讲了啥", []string{"号:2031:7"}},
		{"2021年7月7号发布的", nil},
		{"[2022]第3号", []string{"号:2022:3"}},
		// No number, or numbers that cite nothing.
		{"医疗器械监督管理条例", nil},
		{"命令下达了", nil},
		{"二类械注册要20个工作日", nil},
		{"【待维护人员填写：帮办工作方案文号】", nil},
	}
	for _, c := range cases {
		if got := kb.Citations(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Citations(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestEntryCitations(t *testing.T) {
	e := &kb.Entry{Title: "医疗器械监督管理条例", Keywords: []string{"739号令"},
		Fields: map[string]string{kb.FieldDocNumber: "国务院令第739号"}}
	// The keyword's 739号令 is the 文号's, whose issuer it leaves out.
	if got := e.Citations(); !slices.Equal(got, []string{"令:739:院"}) {
		t.Errorf("Citations = %q", got)
	}
	if got := e.SearchKeywords(); !slices.Equal(got, []string{"739号令", "739号令"}) {
		t.Errorf("SearchKeywords = %q", got)
	}
	e.Fields[kb.FieldDocNumber] = "沪药监规〔2031〕7号"
	if got := e.SearchKeywords(); !slices.Equal(got, []string{"739号令", "〔2031〕7号"}) {
		t.Errorf("SearchKeywords = %q", got)
	}
	e.Fields[kb.FieldDocNumber] = "【待维护人员填写：文号】"
	if got := e.SearchKeywords(); !slices.Equal(got, []string{"739号令"}) {
		t.Errorf("a placeholder 文号 is searched: %q", got)
	}
}

func TestSameDocument(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"739号令", "国务院令第739号", true},
		{"国务院令第739号", "中华人民共和国国务院令第739号", true},
		{"总局令第47号", "国家市场监督管理总局令第47号", true},
		{"国务院令第47号", "国家市场监督管理总局令第47号", false},
		{"主席令第28号", "国家市场监督管理总局令第28号", false},
		{"47号令", "470号令", false},
		{"〔2021〕12号", "2021年第12号", true},
		{"〔2021〕12号", "〔2021〕120号", false},
		{"〔2021〕12号", "12号令", false},
	}
	for _, c := range cases {
		a, b := kb.Citations(c.a), kb.Citations(c.b)
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("%s, %s: citations %q, %q", c.a, c.b, a, b)
		}
		if got := kb.SameDocument(a[0], b[0]); got != c.want {
			t.Errorf("SameDocument(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
