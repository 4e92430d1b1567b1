package ingest

import (
	"testing"

	"xiaoshen/kb"
)

func TestHTML(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		title   string
		content string
	}{
		{
			name: "main with chrome around it",
			data: []byte(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>网页标题_上海市药品监督管理局</title>
<style>p{color:red}</style><script>var x = "脚本";</script></head>
<body><header><a href="/">首页</a> 机构概况</header>
<nav><ul><li><a href="/a">政务公开</a></li><li><a href="/b">办事服务</a></li></ul></nav>
<main><h1>化妆品生产许可
  怎么办理</h1>
<p>企业通过“一网通办”
   提交申请。</p>
<p>所需材料：<br>1. 申请书<br>2. 营业执照</p>
<ul><li>受理</li><li>审查</li></ul>
<aside>相关链接</aside>
<table><tr><th>事项</th><th>时限</th></tr><tr><td>核发</td><td>20个工作日</td></tr></table>
</main>
<footer>版权所有 上海市药品监督管理局</footer></body></html>`),
			title:   "化妆品生产许可怎么办理",
			content: "企业通过“一网通办”提交申请。\n\n所需材料：\n1. 申请书\n2. 营业执照\n\n- 受理\n- 审查\n\n事项 | 时限\n核发 | 20个工作日",
		},
		{
			name: "site name in a header h1",
			data: []byte(`<html><body><header><h1>上海市药品监督管理局</h1></header>
<main><h1>医疗器械经营备案</h1><p>第二类医疗器械经营实行备案管理。</p></main></body></html>`),
			title:   "医疗器械经营备案",
			content: "第二类医疗器械经营实行备案管理。",
		},
		{
			name: "article",
			data: []byte(`<html><body><div class="menu"><a href="#">菜单一</a></div>
<article><header><h1>某某通知</h1><span>发布日期：2024-05-31</span></header><p>第一段。</p><p>第二段。</p></article>
<article><p>短</p></article></body></html>`),
			title:   "某某通知",
			content: "第一段。\n\n第二段。",
		},
		{
			name: "largest text block, title from <title>, GBK by meta",
			data: gbk(t, `<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>药品经营许可证延续</title></head><body>
<div id="top"><a href="/">首页</a><a href="/x">导航很长很长很长很长很长很长很长很长的链接</a></div>
<div id="left"><p>旁边一句。</p></div>
<div id="zoom"><p>药品经营许可证有效期届满需要继续经营的，应当在有效期届满前6个月至2个月期间申请延续。</p><p>逾期未申请的，不予延续。</p></div>
</body></html>`),
			title:   "药品经营许可证延续",
			content: "药品经营许可证有效期届满需要继续经营的，应当在有效期届满前6个月至2个月期间申请延续。\n\n逾期未申请的，不予延续。",
		},
		{
			name:    "GBK without meta",
			data:    gbk(t, `<html><body><h1>标题</h1><div><p>没有声明编码的网页。</p></div></body></html>`),
			title:   "标题",
			content: "没有声明编码的网页。",
		},
		{
			name:    "hidden text and layout tables",
			data:    []byte(`<html><body><table><tr><td><div><h1>标题</h1><p>正文一。</p><p hidden>隐藏</p><p>正文二。</p></div></td></tr></table></body></html>`),
			title:   "标题",
			content: "正文一。\n\n正文二。",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := mustParse(t, "page.html", tt.data, Options{Column: kb.ColumnFAQ, Department: "综合处"})
			e := recs[0].Entry
			if e.Title != tt.title {
				t.Errorf("title = %q, want %q", e.Title, tt.title)
			}
			if e.Content != tt.content {
				t.Errorf("content =\n%s\nwant\n%s", e.Content, tt.content)
			}
			if e.Column != kb.ColumnFAQ || e.Department != "综合处" {
				t.Errorf("column %q department %q", e.Column, e.Department)
			}
		})
	}
}

func TestHTMLProblems(t *testing.T) {
	page := []byte(`<html><body><h1>标题</h1><p>正文</p></body></html>`)
	t.Run("column required", func(t *testing.T) {
		p := parse(t, "page.htm", page, Options{Department: "综合处"})
		wantFatal(t, p.fatal, "page.htm", "指定栏目")
	})
	t.Run("empty", func(t *testing.T) {
		p := parse(t, "page.html", []byte("  \n"), Options{Column: kb.ColumnFAQ, Department: "综合处"})
		wantFatal(t, p.fatal, "page.html", "文件是空的")
	})
	t.Run("no text", func(t *testing.T) {
		p := parse(t, "page.html", []byte("<html><body><nav>菜单</nav></body></html>"), Options{Column: kb.ColumnFAQ, Department: "综合处"})
		wantError(t, p.errs, 0, "标题", "标题不能为空")
		wantError(t, p.errs, 0, "内容", "内容不能为空")
	})
	t.Run("undecodable", func(t *testing.T) {
		p := parse(t, "page.html", []byte("<html><body>\xff\xfe\xff\x80</body></html>"), Options{Column: kb.ColumnFAQ, Department: "综合处"})
		wantFatal(t, p.fatal, "page.html", "编码")
	})
}
