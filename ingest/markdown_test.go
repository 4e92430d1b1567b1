package ingest

import (
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"xiaoshen/corpus"
	"xiaoshen/kb"
)

const policyMarkdown = `---
id: policy-1
title: 某管理办法
department: 法规处
keywords: [办法, 管理]
fields:
  文号: 沪药监规〔2024〕3号
  实施日期: 2024年6月1日
  interpretation: wiki-1
---
## 第一条

为了规范管理，制定本办法。
`

func TestMarkdownThroughParseReader(t *testing.T) {
	recs := mustParse(t, "policy-1.md", []byte(policyMarkdown), Options{Column: kb.ColumnPolicy})
	if len(recs) != 1 {
		t.Fatalf("got %d records", len(recs))
	}
	r := recs[0]
	e := r.Entry
	if e.ExternalID != "policy-1" || e.Title != "某管理办法" || e.Content != "## 第一条\n\n为了规范管理，制定本办法。" ||
		e.Fields[kb.FieldDocNumber] != "沪药监规〔2024〕3号" || e.Fields[kb.FieldEffectiveOn] != "2024-06-01" || r.Interpretation != "wiki-1" {
		t.Errorf("record = %+v, entry = %+v", r, e)
	}

	tests := []struct {
		name      string
		data      string
		opts      Options
		row       int
		field     string
		fragments []string
	}{
		{"no front matter", "# 标题\n正文", Options{Column: kb.ColumnFAQ}, 1, "", []string{"YAML 头部"}},
		{"unknown key", "---\ntitle: 问\nremark: x\n---\n答", Options{Column: kb.ColumnFAQ, Department: "综合处"}, 3, "remark", []string{"未知的键“remark”", "标题（title）", "相似问法（similar）", "README"}},
		{"unknown Chinese key lists the column's fields", "---\n栏目: 政策文件\n标题: 某办法\n部门: 法规处\n备注: 内部\n---\n正文", Options{}, 5, "备注",
			[]string{"未知的键“备注”", "以及栏目“政策文件”的字段 文号、", "实施日期"}},
		{"content in the head", "---\n标题: 问\n内容: 答\n---\n", Options{Column: kb.ColumnFAQ, Department: "综合处"}, 3, "内容", []string{"正文写在"}},
		{"one field twice", "---\ntitle: 问\n标题: 问\n---\n答", Options{Column: kb.ColumnFAQ, Department: "综合处"}, 3, "标题", []string{"第 2 行的“title”是同一字段"}},
		{"one field at the top and under fields", "---\n标题: 某办法\n部门: 法规处\n实施日期: 2024-06-01\nfields:\n  effective_on: 2024-07-01\n---\n正文", Options{Column: kb.ColumnPolicy}, 6, "effective_on",
			[]string{"第 4 行的“实施日期”是同一字段"}},
		{"one field twice under fields", "---\n标题: 某办法\n部门: 法规处\nfields:\n  实施日期: 2024-06-01\n  effective_on: 2024-07-01\n---\n正文", Options{Column: kb.ColumnPolicy}, 6, "effective_on",
			[]string{"第 5 行的“实施日期”是同一字段"}},
		{"another column's field", "---\n标题: 某办法\n部门: 法规处\n电话: \"12345\"\n---\n正文", Options{Column: kb.ColumnPolicy}, 4, "电话", []string{"没有“电话”字段"}},
		{"bad column", "---\n栏目: 杂项\n标题: 问\n---\n答", Options{Department: "综合处"}, 2, "栏目", []string{"杂项"}},
		{"YAML syntax", "---\n标题: [问\n---\n答", Options{Column: kb.ColumnFAQ, Department: "综合处"}, 2, "", []string{"YAML 头部格式有误：请检查这一行及下一行的冒号、缩进、引号和括号（did not find expected"}},
		{"no column", "---\ntitle: 问\n---\n答", Options{}, 1, "栏目", []string{"未指定栏目：在 YAML 头部写“栏目: 常见问题”"}},
		{"bad date", "---\ntitle: 某办法\ndepartment: 法规处\nfields:\n  实施日期: 明年\n---\n正文", Options{Column: kb.ColumnPolicy}, 5, "实施日期", []string{"日期 \"明年\" 无法识别"}},
		{"a quote left open", "---\n标题: \"问\n部门: 综合处\n---\n答", Options{Column: kb.ColumnFAQ}, 1, "", []string{"有引号或括号没有闭合"}},
		{"a problem found later is at its key's line", "---\n栏目: 常见问题\n部门: 综合处\n标题: " + strings.Repeat("问", 200) + "\n---\n答", Options{}, 4, "标题", []string{"标题"}},
		{"default department", "---\ntitle: 问\n---\n", Options{Column: kb.ColumnFAQ, Department: "综合处"}, 1, "", []string{"内容不能为空"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, "entry.md", []byte(tt.data), tt.opts)
			if p.fatal != nil {
				t.Fatalf("fatal: %v", p.fatal)
			}
			wantError(t, p.errs, tt.row, tt.field, tt.fragments...)
			if len(p.recs) > 0 {
				t.Errorf("got a record from a bad file")
			}
		})
	}
	t.Run("GBK", func(t *testing.T) {
		p := parse(t, "entry.md", gbk(t, policyMarkdown), Options{})
		wantFatal(t, p.fatal, "entry.md", "UTF-8")
	})
}

// TestMarkdownChineseKeys: the head takes the names a table header takes,
// so a maintainer who writes 标题 and 发布日期 gets the same entry as one
// who writes title and fields.
func TestMarkdownChineseKeys(t *testing.T) {
	const chinese = `---
编号: policy-1
栏目: 政策文件
标题: 某管理办法
部门: 法规处
关键词: 办法，管理
文号: 沪药监规〔2024〕3号
实施日期: 2024年6月1日
发布日期: 2024-05-20
解读: wiki-1
---
## 第一条

为了规范管理，制定本办法。
`
	english := strings.Replace(policyMarkdown, "fields:\n", "column: policy\nfields:\n  发布日期: 2024-05-20\n", 1)
	want := mustParse(t, "policy-1.md", []byte(english), Options{})[0]
	got := mustParse(t, "policy-1.md", []byte(chinese), Options{})[0]
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Chinese keys:\n got %+v\n%+v\nwant %+v\n%+v", got, got.Entry, want, want.Entry)
	}
	if got.Entry.Fields[kb.FieldPublishedOn] != "2024-05-20" {
		t.Errorf("发布日期 = %q", got.Entry.Fields[kb.FieldPublishedOn])
	}
}

func TestParseMarkdownFSStillSeedsTheCorpus(t *testing.T) {
	recs, errs := ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		t.Fatalf("embedded corpus: %v", errs)
	}
	if len(recs) < 50 {
		t.Fatalf("only %d entries in the embedded corpus", len(recs))
	}
	// The folder gives the column when the front matter does not.
	fsys := fstest.MapFS{"hotline/h.md": {Data: []byte("---\ntitle: 热线\ndepartment: 综合处\nfields:\n  phone: \"12345\"\n---\n")}}
	recs, errs = ParseMarkdownFS(fsys, ".")
	if len(errs) > 0 || len(recs) != 1 || recs[0].Entry.Column != kb.ColumnHotline {
		t.Fatalf("recs %v errs %v", recs, errs)
	}
}
