package ingest

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"xiaoshen/kb"
)

const wordNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"`

// para is a Word paragraph with an optional style; runs are split on "|"
// to check that a paragraph's runs are joined.
func para(style, text string) string {
	var b strings.Builder
	b.WriteString("<w:p>")
	if style != "" {
		b.WriteString(`<w:pPr><w:pStyle w:val="` + style + `"/><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr>`)
	}
	for _, run := range strings.Split(text, "|") {
		b.WriteString(`<w:r><w:t xml:space="preserve">` + run + `</w:t></w:r>`)
	}
	b.WriteString("</w:p>")
	return b.String()
}

// table is a Word table; each row's cells are split on "|".
func table(rows ...string) string {
	var b strings.Builder
	b.WriteString("<w:tbl><w:tblPr/>")
	for _, row := range rows {
		b.WriteString("<w:tr>")
		for _, c := range strings.Split(row, "|") {
			b.WriteString("<w:tc><w:tcPr/>" + para("", c) + "</w:tc>")
		}
		b.WriteString("</w:tr>")
	}
	b.WriteString("</w:tbl>")
	return b.String()
}

// mustDOCX zips a minimal Word document; styles may be empty.
func mustDOCX(t testing.TB, body, styles string) []byte {
	t.Helper()
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"word/document.xml":   `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wordNS + `><w:body>` + body + `<w:sectPr/></w:body></w:document>`,
	}
	if styles != "" {
		files["word/styles.xml"] = `<?xml version="1.0" encoding="UTF-8"?><w:styles ` + wordNS + `>` + styles + `</w:styles>`
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// chineseWordStyles are styles as Chinese Word names them: numeric or
// pinyin ids, English built-in names.
const chineseWordStyles = `<w:style w:type="paragraph" w:styleId="a"><w:name w:val="Normal"/></w:style>` +
	`<w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/><w:basedOn w:val="a"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="a3"><w:name w:val="Title"/><w:basedOn w:val="a"/></w:style>` +
	`<w:style w:type="paragraph" w:styleId="10"><w:name w:val="公文标题"/><w:basedOn w:val="1"/></w:style>`

func TestDOCX(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		styles    string
		opts      Options
		title     string
		docNumber string
		content   string
		// effectiveOn is the 实施日期 read from the body's 本…自…起施行.
		effectiveOn string
	}{
		{
			name: "Title style, 〔〕 doc number, table, tracked changes",
			body: para("", "上海市药品监督管理局文件") + para("", "沪药监规〔2024〕3号") +
				para("a3", "关于印发《某|管理办法》的通知") +
				para("", "各区市场监管局：") +
				`<w:p><w:r><w:t>为了规范管理，</w:t></w:r><w:del><w:r><w:delText>删去的字</w:delText></w:r></w:del><w:ins><w:r><w:t>制定本办法。</w:t></w:r></w:ins></w:p>` +
				`<w:p><w:r><w:t>第一行</w:t><w:br/><w:t>第二行</w:t><w:tab/><w:t>后面</w:t></w:r></w:p>` +
				`<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:t>文本框</w:t></mc:Choice><mc:Fallback><w:t>文本框</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>` +
				table("事项|时限", "延续|20个工作日", "变更|10个工作日") +
				para("", "") + para("", "　　本办法自2024年6月1日起施行。"),
			styles:    chineseWordStyles,
			opts:      Options{Department: "法规处"},
			title:     "关于印发《某管理办法》的通知",
			docNumber: "沪药监规〔2024〕3号",
			content: "上海市药品监督管理局文件\n\n各区市场监管局：\n\n为了规范管理，制定本办法。\n\n第一行\n第二行 后面\n\n文本框\n\n" +
				"事项 | 时限\n延续 | 20个工作日\n变更 | 10个工作日\n\n本办法自2024年6月1日起施行。",
			effectiveOn: "2024-06-01",
		},
		{
			name:      "heading style by its name, [] doc number after the title",
			body:      para("", "") + para("1", "某某通知") + para("", "[2024]12号") + para("", "正文。"),
			styles:    chineseWordStyles,
			opts:      Options{Department: "法规处"},
			title:     "某某通知",
			docNumber: "〔2024〕12号", // as Entry.Normalize writes it
			content:   "正文。",
		},
		{
			name:    "custom style based on a heading",
			body:    para("", "说明文字") + para("10", "某某规定") + para("", "正文。"),
			styles:  chineseWordStyles,
			opts:    Options{Department: "法规处"},
			title:   "某某规定",
			content: "说明文字\n\n正文。",
		},
		{
			name:      "no styles: the first paragraph that is not a doc number",
			body:      para("", "国家药品监督管理局令第 12 号") + para("", "药品注册管理办法") + para("", "第一条 为规范药品注册行为，制定本办法。"),
			opts:      Options{Department: "法规处"},
			title:     "药品注册管理办法",
			docNumber: "国家药品监督管理局令第12号",
			content:   "第一条 为规范药品注册行为，制定本办法。",
		},
		{
			name:      "doc number in the title",
			body:      para("Title", "国家药监局关于发布某指导原则的公告（2024年第12号）") + para("", "现予发布。"),
			opts:      Options{Department: "法规处"},
			title:     "国家药监局关于发布某指导原则的公告（2024年第12号）",
			docNumber: "2024年第12号",
			content:   "现予发布。",
		},
		{
			name:    "a long title in two Title paragraphs",
			body:    para("a3", "关于进一步加强医疗器械") + para("a3", "注册管理工作的通知") + para("", "正文。"),
			styles:  chineseWordStyles,
			opts:    Options{Department: "法规处"},
			title:   "关于进一步加强医疗器械注册管理工作的通知",
			content: "正文。",
		},
		{
			name: "the document's own 施行 clause, not a law it cites",
			body: para("Title", "上海市儿童化妆品生产质量监督管理若干规定") + para("", "沪药监化〔2031〕3号") +
				para("", "《化妆品监督管理条例》自2021年1月1日起施行以来，……") +
				para("", "二、本规定自 2031年6月1日 起施行，有效期至2036年5月31日。") + para("", "上海市药品监督管理局") + para("", "2031年5月1日"),
			opts:      Options{Department: "化妆品监管处"},
			title:     "上海市儿童化妆品生产质量监督管理若干规定",
			docNumber: "沪药监化〔2031〕3号",
			content: "《化妆品监督管理条例》自2021年1月1日起施行以来，……\n\n二、本规定自 2031年6月1日 起施行，有效期至2036年5月31日。\n\n" +
				"上海市药品监督管理局\n\n2031年5月1日",
			effectiveOn: "2031-06-01",
		},
		{
			name:    "施行 from its issue: no date to read",
			body:    para("Title", "某某通知") + para("", "本通知自印发之日起施行。"),
			opts:    Options{Department: "法规处"},
			title:   "某某通知",
			content: "本通知自印发之日起施行。",
		},
		{
			name:    "a notice has no doc number field",
			body:    para("Heading1", "停电通知") + para("", "沪药监〔2024〕1号") + para("", "周六停电。"),
			opts:    Options{Column: kb.ColumnNotice, Department: "综合处"},
			title:   "停电通知",
			content: "周六停电。",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := mustParse(t, "policy.docx", mustDOCX(t, tt.body, tt.styles), tt.opts)
			e := recs[0].Entry
			wantColumn := tt.opts.Column
			if wantColumn == "" {
				wantColumn = kb.ColumnPolicy
			}
			if e.Column != wantColumn {
				t.Errorf("column = %q, want %q", e.Column, wantColumn)
			}
			if e.Title != tt.title {
				t.Errorf("title = %q, want %q", e.Title, tt.title)
			}
			if got := e.Fields[kb.FieldDocNumber]; got != tt.docNumber {
				t.Errorf("doc number = %q, want %q", got, tt.docNumber)
			}
			if e.Content != tt.content {
				t.Errorf("content =\n%s\nwant\n%s", e.Content, tt.content)
			}
			e.Normalize()
			if got := e.Fields[kb.FieldEffectiveOn]; got != tt.effectiveOn {
				t.Errorf("effective_on = %q, want %q", got, tt.effectiveOn)
			}
		})
	}
}

func TestDOCXProblems(t *testing.T) {
	good := mustDOCX(t, para("Title", "标题")+para("", "正文"), "")
	var noDocument bytes.Buffer
	zw := zip.NewWriter(&noDocument)
	w, _ := zw.Create("word/other.xml")
	w.Write([]byte("<x/>"))
	zw.Close()
	tests := []struct {
		name      string
		data      []byte
		fragments []string
	}{
		{"truncated", good[:len(good)-30], []string{"已损坏或不完整"}},
		{"not a zip", []byte("标题\n正文"), []string{"不是 DOCX 文件"}},
		{"old doc", append([]byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, make([]byte, 100)...), []string{".doc"}},
		{"no document part", noDocument.Bytes(), []string{"word/document.xml"}},
		{"broken XML", mustDOCX(t, "<w:p><w:r><w:t>标题</w:r></w:p>", ""), []string{"无法读取正文"}},
		{"empty", nil, []string{"文件是空的"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, "policy.docx", tt.data, Options{Department: "法规处"})
			wantFatal(t, p.fatal, "policy.docx", tt.fragments...)
		})
	}
	t.Run("no text", func(t *testing.T) {
		p := parse(t, "policy.docx", mustDOCX(t, para("", ""), ""), Options{Department: "法规处"})
		wantError(t, p.errs, 0, "标题", "标题不能为空")
	})
	t.Run("no department", func(t *testing.T) {
		p := parse(t, "policy.docx", good, Options{})
		wantError(t, p.errs, 0, "部门", "责任部门不能为空")
	})
}
