package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"xiaoshen/kb"
)

// parsed is everything a parse returned.
type parsed struct {
	recs  []*Record
	errs  []*RowError
	fatal error
}

// parse runs ParseReader over data and collects every record.
func parse(t *testing.T, name string, data []byte, opts Options) parsed {
	t.Helper()
	var p parsed
	p.errs, p.fatal = ParseReader(name, bytes.NewReader(data), opts, func(r *Record) error {
		p.recs = append(p.recs, r)
		return nil
	})
	return p
}

// mustParse fails the test unless data parses without any problem.
func mustParse(t *testing.T, name string, data []byte, opts Options) []*Record {
	t.Helper()
	p := parse(t, name, data, opts)
	if p.fatal != nil {
		t.Fatalf("parse %s: fatal error: %v", name, p.fatal)
	}
	for _, e := range p.errs {
		t.Errorf("parse %s: unexpected row error: %v", name, e)
	}
	if t.Failed() {
		t.FailNow()
	}
	return p.recs
}

// writeTemp writes data to a file in a fresh temporary directory.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// gbk encodes s as Excel in China saves a CSV file.
func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode GBK: %v", err)
	}
	return b
}

// gb18030 encodes s in GB18030.
func gb18030(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode GB18030: %v", err)
	}
	return b
}

// wantError fails unless some row error is at row, names field (when not
// empty) and says every fragment.
func wantError(t *testing.T, errs []*RowError, row int, field string, fragments ...string) {
	t.Helper()
	for _, e := range errs {
		if e.Row != row || (field != "" && e.Field != field) {
			continue
		}
		ok := true
		for _, f := range fragments {
			if !strings.Contains(e.Message, f) {
				ok = false
			}
		}
		if ok {
			return
		}
	}
	t.Errorf("no error at row %d field %q saying %q; got:", row, field, fragments)
	for _, e := range errs {
		t.Errorf("  %v", e)
	}
}

// wantFatal fails unless err is a *RowError naming file and saying every
// fragment.
func wantFatal(t *testing.T, err error, file string, fragments ...string) {
	t.Helper()
	re, ok := err.(*RowError)
	if !ok {
		t.Fatalf("want a fatal *RowError for %s, got %T %v", file, err, err)
	}
	if re.File != file {
		t.Errorf("fatal error names file %q, want %q", re.File, file)
	}
	for _, f := range fragments {
		if !strings.Contains(re.Message, f) {
			t.Errorf("fatal error %q does not say %q", re.Message, f)
		}
	}
}

func TestParseReaderRejectsUnknownExtension(t *testing.T) {
	p := parse(t, "entries.txt", []byte("标题,内容\n"), Options{})
	wantFatal(t, p.fatal, "entries.txt", "不支持的文件类型")
}

func TestParseReaderRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"unknown default column", Options{Column: "news"}, "默认栏目"},
		{"map to unknown field", Options{Column: kb.ColumnFAQ, Map: map[string]string{"备注": "remark"}}, "目标字段"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, "faq.csv", []byte("标题,内容,部门\n问,答,综合处\n"), tt.opts)
			wantFatal(t, p.fatal, "faq.csv", tt.want)
		})
	}
}

func TestParseFileNamesTheFile(t *testing.T) {
	path := writeTemp(t, "常见问题.csv", []byte("标题,内容,部门\n怎么办,这样办,综合处\n"))
	var recs []*Record
	errs, err := ParseFile(path, Options{Column: kb.ColumnFAQ}, func(r *Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil || len(errs) > 0 {
		t.Fatalf("ParseFile: %v %v", errs, err)
	}
	if len(recs) != 1 || recs[0].File != "常见问题.csv" || recs[0].Row != 2 {
		t.Fatalf("records = %+v", recs)
	}
	_, err = ParseFile(filepath.Join(t.TempDir(), "missing.csv"), Options{}, func(*Record) error { return nil })
	wantFatal(t, err, "missing.csv", "无法打开")
}

func TestCallbackErrorStopsParsing(t *testing.T) {
	data := []byte("标题,内容,部门\n一,答,综合处\n二,答,综合处\n")
	calls := 0
	stop := os.ErrClosed
	_, err := ParseReader("faq.csv", bytes.NewReader(data), Options{Column: kb.ColumnFAQ}, func(*Record) error {
		calls++
		return stop
	})
	if calls != 1 {
		t.Errorf("fn called %d times after failing, want 1", calls)
	}
	if err == nil || !strings.Contains(err.Error(), "faq.csv") || !errorsIs(err, stop) {
		t.Errorf("err = %v, want the callback's error wrapped with the file", err)
	}
}

func TestDuplicatesAcrossFilesOfOneUpload(t *testing.T) {
	u := NewUpload()
	opts := Options{Column: kb.ColumnFAQ, Department: "综合处"}
	noop := func(*Record) error { return nil }
	errs, err := u.ParseReader("a.csv", strings.NewReader("编号,标题,内容\nq1,怎么办,这样办\n"), opts, noop)
	if err != nil || len(errs) > 0 {
		t.Fatalf("first file: %v %v", errs, err)
	}
	errs, err = u.ParseReader("b.jsonl", strings.NewReader(`{"编号":"q1","标题":"怎么办","内容":"那样办"}`+"\n"), opts, noop)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, errs, 1, "标题", "文件 a.csv 第 2 行")
	wantError(t, errs, 1, "编号", "文件 a.csv 第 2 行")
	// The same title in another column is no duplicate.
	errs, _ = u.ParseReader("c.csv", strings.NewReader("标题,内容\n怎么办,这样办\n"), Options{Column: kb.ColumnWiki, Department: "综合处"}, noop)
	if len(errs) > 0 {
		t.Errorf("same title in another column: %v", errs)
	}
}
