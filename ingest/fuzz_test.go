package ingest

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"testing"

	"xiaoshen/kb"
)

// checkParse parses data and fails on what must never happen whatever the
// input: a panic, a record that does not validate, or a problem that does
// not name the file or say what is wrong.
func checkParse(t *testing.T, name string, data []byte, opts Options) {
	t.Helper()
	errs, err := ParseReader(name, bytes.NewReader(data), opts, func(r *Record) error {
		if r.Entry == nil || r.File != name {
			t.Fatalf("bad record %+v", r)
		}
		if problems := r.Entry.Validate(); len(problems) > 0 {
			t.Fatalf("record at row %d does not validate: %v", r.Row, problems)
		}
		return nil
	})
	for _, e := range errs {
		if e.File != name || e.Message == "" || e.Row < 0 {
			t.Fatalf("bad row error %#v", e)
		}
	}
	if err != nil {
		var re *RowError
		if !errors.As(err, &re) || re.File != name || re.Message == "" {
			t.Fatalf("bad fatal error %#v", err)
		}
	}
}

var fuzzOptions = Options{Column: kb.ColumnFAQ, Department: "综合处", MaxCellBytes: 4096}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(faqCSV))
	f.Add(gbk(f, faqCSV))
	f.Add([]byte("\xef\xbb\xbf栏目,标题,内容,部门,实施日期\npolicy,某办法,正文,法规处,2024/5/31\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, "fuzz.csv", data, fuzzOptions)
	})
}

// withSheet returns the workbook xlsx with its first sheet's XML replaced,
// so that the fuzzer can reach the row reader past the zip checksums.
func withSheet(t testing.TB, xlsx, sheet []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			w.Write(sheet)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(w, rc)
		rc.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzXLSX feeds whole files, and sheet XML inside a valid workbook.
func FuzzXLSX(f *testing.F) {
	workbook := mustXLSX(f, sheetRows{name: "Sheet1", rows: map[int][]any{
		1: {"标题", "内容", "部门", "实施日期", "栏目"},
		2: {"某办法", "正文", "法规处", xlsxCell{value: 45443, numFmt: 14}, "policy"},
		3: {"问", "答", "综合处", "", "faq"},
	}})
	f.Add(workbook, false)
	f.Add([]byte(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+
		`<row r="1"><c r="A1" t="inlineStr"><is><t>标题</t></is></c><c r="B1" t="inlineStr"><is><t>内容</t></is></c><c r="C1" t="inlineStr"><is><t>失效日期</t></is></c><c r="D1" t="inlineStr"><is><t>栏目</t></is></c></row>`+
		`<row r="3"><c r="A3" t="s"><v>0</v></c><c r="B3"><v>1.5</v></c><c r="C3" s="1"><v>45443</v></c><c r="D3" t="inlineStr"><is><t>notice</t></is></c></row>`+
		`</sheetData></worksheet>`), true)
	f.Fuzz(func(t *testing.T, data []byte, asSheet bool) {
		if asSheet {
			data = withSheet(t, workbook, data)
		}
		checkParse(t, "fuzz.xlsx", data, fuzzOptions)
	})
}

func FuzzMarkdown(f *testing.F) {
	f.Add([]byte(policyMarkdown))
	f.Add([]byte("---\ntitle: 问\nsimilar: a，b\nkeywords: [x, y]\n---\n答"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, "fuzz.md", data, fuzzOptions)
		if rec, err := ParseMarkdown("fuzz.md", data, kb.ColumnFAQ); err == nil {
			if problems := rec.Entry.Validate(); len(problems) > 0 {
				t.Fatalf("ParseMarkdown record does not validate: %v", problems)
			}
		}
	})
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`[{"标题": "问", "内容": "答", "相似问法": ["a", "b"], "编号": 1}]`), false)
	f.Add([]byte(`{"title": "问", "content": "答", "keywords": "a,b"}`+"\n"+`{"标题": null}`), true)
	f.Fuzz(func(t *testing.T, data []byte, lines bool) {
		name := "fuzz.json"
		if lines {
			name = "fuzz.jsonl"
		}
		checkParse(t, name, data, fuzzOptions)
	})
}
