package ingest

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"testing"

	"xiaoshen/kb"
)

// sampleEntries has an entry of every column with every field filled, and
// text that is easy to get wrong: line breaks, quotes, commas, leading
// zeros, list items with punctuation inside.
func sampleEntries(t *testing.T) []*kb.Entry {
	t.Helper()
	entries := []*kb.Entry{
		{ExternalID: "guide-001", Column: kb.ColumnGuide, Title: "第二类医疗器械注册", Content: "- 第一步：网上申报\n- 第二步：\"技术审评\"，60个工作日",
			Department: "器械注册处", Matter: "第二类医疗器械注册", Keywords: []string{"二类械", "注册"}, Similar: []string{"二类械注册怎么办，要多久？"},
			Fields: map[string]string{"applicants": "企业", "materials": "1. 申请表\n2. 证明性文件", "process": "受理→审评→决定", "time_limit": "60个工作日", "fees": "0", "basis": "《医疗器械监督管理条例》"}},
		{ExternalID: "007", Column: kb.ColumnFAQ, Title: "=1+1 是公式吗", Content: "不是。", Department: "综合处",
			Keywords: []string{"药品、器械"}, Similar: []string{"a|b；c", "第二种问法"}, Fields: map[string]string{}},
		{ExternalID: "wiki-1", Column: kb.ColumnWiki, Title: "什么是帮办", Content: "帮办是……", Department: "综合处", Fields: map[string]string{}},
		{ExternalID: "policy-1", Column: kb.ColumnPolicy, Title: "某管理办法", Content: "第一条\n\n第二条", Department: "法规处",
			Fields: map[string]string{"doc_number": "沪药监规〔2024〕3号", "issuer": "上海市药品监督管理局", "published_on": "2024-05-31",
				"effective_on": "2024-06-01", "expires_on": "2029-05-31", "interpretation": "wiki-1"}},
		{Column: kb.ColumnNotice, Title: "停电通知", Content: "周六停电。", Department: "综合处",
			Fields: map[string]string{"published_on": "2024-05-01", "expires_on": "2024-05-31"}},
		{ExternalID: "hotline-12345", Column: kb.ColumnHotline, Title: "12345市民服务热线", Department: "综合处",
			Fields: map[string]string{"phone": "12345", "hours": "全天24小时", "scope": "综合咨询"}},
		{ExternalID: "dept-1", Column: kb.ColumnDepartment, Title: "综合处", Department: "综合处", Content: "负责综合协调。",
			Fields: map[string]string{"address": "上海市某路1号", "phone": "021-12345678", "hours": "工作日9:00-17:00", "duties": "综合协调"}},
	}
	for _, e := range entries {
		e.Normalize()
		if errs := e.Validate(); len(errs) > 0 {
			t.Fatalf("sample entry %q is invalid: %v", e.Title, errs)
		}
	}
	return entries
}

func TestWritersRoundTrip(t *testing.T) {
	writers := []struct {
		name  string
		file  string
		write func(io.Writer, kb.Column, []*kb.Entry) error
	}{
		{"CSV", "export.csv", WriteCSV},
		{"XLSX", "export.xlsx", WriteXLSX},
		{"JSONL", "export.jsonl", WriteJSONL},
	}
	all := sampleEntries(t)
	for _, w := range writers {
		t.Run(w.name+" all columns", func(t *testing.T) {
			roundTrip(t, w.file, w.write, "", all)
		})
		for _, col := range kb.Columns {
			var some []*kb.Entry
			for _, e := range all {
				if e.Column == col {
					some = append(some, e)
				}
			}
			t.Run(w.name+" "+string(col), func(t *testing.T) {
				roundTrip(t, w.file, w.write, col, some)
			})
		}
	}
}

func roundTrip(t *testing.T, file string, write func(io.Writer, kb.Column, []*kb.Entry) error, col kb.Column, entries []*kb.Entry) {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf, col, entries); err != nil {
		t.Fatalf("write: %v", err)
	}
	// A maintainer uploads the export unchanged: nothing may differ.
	recs := mustParse(t, file, buf.Bytes(), Options{})
	if len(recs) != len(entries) {
		t.Fatalf("read back %d entries, wrote %d", len(recs), len(entries))
	}
	for i, r := range recs {
		if !r.Entry.SameContent(entries[i]) {
			t.Errorf("entry %d changed in the round trip:\n got %+v\nwant %+v", i, r.Entry, entries[i])
		}
	}
}

func TestWriterHeaders(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, kb.ColumnPolicy, nil); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	want := "\ufeff编号,栏目,标题,内容,部门,事项,关键词,相似问法,文号,发文机关,发布日期,实施日期,失效日期,解读\r\n"
	if got != want {
		t.Errorf("CSV header = %q, want %q", got, want)
	}
	buf.Reset()
	if err := WriteJSONL(&buf, "", sampleEntries(t)[5:6]); err != nil {
		t.Fatal(err)
	}
	want = `{"编号":"hotline-12345","栏目":"热线电话","标题":"12345市民服务热线","内容":"","部门":"综合处","事项":"","关键词":[],"相似问法":[],"电话":"12345","服务时间":"全天24小时","服务范围":"综合咨询"}` + "\n"
	if buf.String() != want {
		t.Errorf("JSONL line = %s, want %s", buf.String(), want)
	}
}

func TestWriterProblems(t *testing.T) {
	entries := sampleEntries(t)
	t.Run("entry of another column", func(t *testing.T) {
		err := WriteCSV(io.Discard, kb.ColumnFAQ, entries[:1])
		if kb.ErrorCode(err) != kb.EINVALID || !strings.Contains(kb.ErrorMessage(err), "不能导出") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("field the column does not have", func(t *testing.T) {
		e := *entries[1]
		e.Fields = map[string]string{"doc_number": "x"}
		err := WriteJSONL(io.Discard, "", []*kb.Entry{&e})
		if kb.ErrorCode(err) != kb.EINVALID {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cell too long for Excel", func(t *testing.T) {
		e := *entries[1]
		e.Content = strings.Repeat("a", excelCellLimit+1)
		err := WriteXLSX(io.Discard, "", []*kb.Entry{&e})
		if kb.ErrorCode(err) != kb.EINVALID || !strings.Contains(kb.ErrorMessage(err), "32767") {
			t.Errorf("err = %v", err)
		}
		if err := WriteCSV(io.Discard, "", []*kb.Entry{&e}); err != nil {
			t.Errorf("CSV has no such limit: %v", err)
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		if _, err := NewWriter("xls", io.Discard, ""); kb.ErrorCode(err) != kb.EINVALID {
			t.Errorf("err = %v", err)
		}
		for _, f := range []string{"csv", ".XLSX", "jsonl"} {
			w, err := NewWriter(f, io.Discard, kb.ColumnFAQ)
			if err != nil {
				t.Fatalf("NewWriter(%q): %v", f, err)
			}
			if err := w.Close(); err != nil {
				t.Errorf("close %s: %v", f, err)
			}
		}
	})
}

// No exported CSV cell may start the way a spreadsheet formula does: a
// question such as =HYPERLINK(…) typed by a citizen would otherwise run
// when a maintainer opens the export.
func TestCSVExportGuardsFormulas(t *testing.T) {
	entries := sampleEntries(t)
	entries[1].Similar = append(entries[1].Similar, "+86 开头的电话能打吗", "@所有人 通知")
	entries[1].Normalize()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, kb.ColumnFAQ, entries[1:2]); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), utf8BOM)))
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	guarded := 0
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("exported cell %q starts like a formula", cell)
			}
			if strings.HasPrefix(cell, "'=") || strings.HasPrefix(cell, "'+") || strings.HasPrefix(cell, "'@") {
				guarded++
			}
		}
	}
	if guarded == 0 {
		t.Error("no cell was guarded, yet the entry's title starts with =")
	}
	// Uploaded again, the guard is gone and the text is as written.
	recs := mustParse(t, "export.csv", buf.Bytes(), Options{})
	if len(recs) != 1 || !recs[0].Entry.SameContent(entries[1]) {
		t.Fatalf("round trip changed the entry: %+v", recs[0].Entry)
	}
}

// A maintainer's own apostrophes stay, unless one guards a formula start.
func TestCSVUploadDropsOnlyFormulaGuards(t *testing.T) {
	data := "栏目,标题,内容,部门\n常见问题,'=1+1 是公式吗,'不是'公式,综合处\n"
	recs := mustParse(t, "faq.csv", []byte(data), Options{})
	if len(recs) != 1 {
		t.Fatalf("read %d records, want 1", len(recs))
	}
	if e := recs[0].Entry; e.Title != "=1+1 是公式吗" || e.Content != "'不是'公式" {
		t.Errorf("title %q, content %q; want the guard dropped from the title only", e.Title, e.Content)
	}
}
