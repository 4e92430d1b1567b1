package ingest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"xiaoshen/kb"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

const faqCSV = "标题,内容,部门,相似问法,关键词\n" +
	"化妆品生产许可证怎么办理,通过一网通办提交申请。,化妆品监管处,\"化妆品许可怎么申请\n化妆品生产许可去哪办\",化妆品，生产许可\n" +
	"二类医疗器械注册要多久,技术审评60个工作日。,器械注册处,二类械注册时限；二类器械注册多久,\"二类械,注册\"\n"

func TestCSVHappyPath(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		opts Options
	}{
		{"UTF-8", []byte(faqCSV), Options{Column: kb.ColumnFAQ}},
		{"UTF-8 with BOM", append([]byte("\xef\xbb\xbf"), faqCSV...), Options{Column: kb.ColumnFAQ}},
		{"GBK detected", gbk(t, faqCSV), Options{Column: kb.ColumnFAQ}},
		{"GBK requested", gbk(t, faqCSV), Options{Column: kb.ColumnFAQ, Encoding: "gbk"}},
		{"GB18030 detected", gb18030(t, faqCSV), Options{Column: kb.ColumnFAQ}},
		{"GB18030 requested", gb18030(t, faqCSV), Options{Column: kb.ColumnFAQ, Encoding: "GB18030"}},
		{"CRLF line ends", []byte(strings.ReplaceAll(faqCSV, "\n", "\r\n")), Options{Column: kb.ColumnFAQ}},
		{"column and English headers", []byte("column,title,answer,department,similar_questions,keywords\n" +
			"faq,化妆品生产许可证怎么办理,通过一网通办提交申请。,化妆品监管处,化妆品许可怎么申请|化妆品生产许可去哪办,\"化妆品,生产许可\"\n" +
			"常见问题,二类医疗器械注册要多久,技术审评60个工作日。,器械注册处,二类械注册时限、二类器械注册多久,二类械、注册\n"), Options{}},
		{"full-width and upper-case headers", []byte("ＴＩＴＬＥ, Content ,DEPARTMENT,Similar Questions,关键字\n" +
			"化妆品生产许可证怎么办理,通过一网通办提交申请。,化妆品监管处,化妆品许可怎么申请；化妆品生产许可去哪办,化妆品;生产许可\n" +
			"二类医疗器械注册要多久,技术审评60个工作日。,器械注册处,二类械注册时限;二类器械注册多久,二类械;注册\n"), Options{Column: kb.ColumnFAQ}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := mustParse(t, "faq.csv", tt.data, tt.opts)
			if len(recs) != 2 {
				t.Fatalf("got %d records, want 2", len(recs))
			}
			e := recs[0].Entry
			if recs[0].Row != 2 || recs[1].Row != 3 {
				t.Errorf("rows = %d, %d; want 2, 3", recs[0].Row, recs[1].Row)
			}
			if e.Column != kb.ColumnFAQ || e.Title != "化妆品生产许可证怎么办理" || e.Content != "通过一网通办提交申请。" || e.Department != "化妆品监管处" {
				t.Errorf("entry = %+v", e)
			}
			if got, want := fmt.Sprint(e.Similar), "[化妆品许可怎么申请 化妆品生产许可去哪办]"; got != want {
				t.Errorf("similar = %s, want %s", got, want)
			}
			if got, want := fmt.Sprint(e.Keywords), "[化妆品 生产许可]"; got != want {
				t.Errorf("keywords = %s, want %s", got, want)
			}
			if got, want := fmt.Sprint(recs[1].Entry.Keywords), "[二类械 注册]"; got != want {
				t.Errorf("second keywords = %s, want %s", got, want)
			}
		})
	}
}

func TestCSVColumnFieldsAndDefaults(t *testing.T) {
	data := "栏目,标题,正文,文号,发布日期,实施日期,失效日期,解读,电话,服务时间,办公时间\n" +
		"政策文件,某办法,正文,沪药监规〔2024〕3号,2024/5/31,2024年6月1日,,wiki-1,,,\n" +
		"热线电话,12345市民服务热线,,,,,,,12345,全天24小时,\n" +
		"部门信息,综合处,,,,,,,021-12345678,,工作日9:00-17:00\n"
	recs := mustParse(t, "mixed.csv", []byte(data), Options{Department: "综合处"})
	if len(recs) != 3 {
		t.Fatalf("got %d records", len(recs))
	}
	policy := recs[0]
	want := map[string]string{"doc_number": "沪药监规〔2024〕3号", "published_on": "2024-05-31", "effective_on": "2024-06-01", "interpretation": "wiki-1"}
	if fmt.Sprint(policy.Entry.Fields) != fmt.Sprint(want) {
		t.Errorf("policy fields = %v, want %v", policy.Entry.Fields, want)
	}
	if policy.Interpretation != "wiki-1" {
		t.Errorf("interpretation = %q", policy.Interpretation)
	}
	if got := recs[1].Entry.Fields; got["phone"] != "12345" || got["hours"] != "全天24小时" {
		t.Errorf("hotline fields = %v", got)
	}
	if got := recs[2].Entry.Fields; got["phone"] != "021-12345678" || got["hours"] != "工作日9:00-17:00" {
		t.Errorf("department fields = %v", got)
	}
	if recs[2].Entry.Department != "综合处" {
		t.Errorf("default department not applied: %q", recs[2].Entry.Department)
	}
}

func TestCSVMap(t *testing.T) {
	data := "问题描述,标准答复,备注,责任处室\n药品经营许可证过期了怎么办,请在有效期届满前6个月申请延续。,内部备注,药品监管处\n"
	opts := Options{Column: kb.ColumnFAQ, Map: map[string]string{"问题描述": "title", "标准答复": "答复口径", "备注": "-", "责任处室": "department"}}
	recs := mustParse(t, "faq.csv", []byte(data), opts)
	e := recs[0].Entry
	if e.Title != "药品经营许可证过期了怎么办" || e.Content != "请在有效期届满前6个月申请延续。" || e.Department != "药品监管处" {
		t.Errorf("entry = %+v", e)
	}
	// --map also overrides a header that has a meaning of its own.
	data = "标题,问题,内容,部门\n标准问法,另一种问法,答,综合处\n"
	recs = mustParse(t, "faq.csv", []byte(data), Options{Column: kb.ColumnFAQ, Map: map[string]string{"问题": "similar"}})
	if e := recs[0].Entry; e.Title != "标准问法" || fmt.Sprint(e.Similar) != "[另一种问法]" {
		t.Errorf("entry = %+v", e)
	}
}

func TestCSVHeaderProblems(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		opts      Options
		field     string
		fragments []string
	}{
		{"unknown header", "标题,内容,部门,备注\n问,答,综合处,x\n", Options{Column: kb.ColumnFAQ}, "备注", []string{"未知表头“备注”", "第 D 列", "--map"}},
		{"missing title", "内容,部门\n答,综合处\n", Options{Column: kb.ColumnFAQ}, "", []string{"缺少必需的列", "标题"}},
		{"missing content", "标题,部门\n问,综合处\n", Options{Column: kb.ColumnFAQ}, "", []string{"缺少必需的列", "内容"}},
		{"missing column and department", "标题,内容\n问,答\n", Options{}, "", []string{"栏目", "部门"}},
		{"repeated field", "标题,问题,内容,部门\n问,问,答,综合处\n", Options{Column: kb.ColumnFAQ}, "问题", []string{"与第 A 列“标题”是同一字段"}},
		{"code and label of one field", "标题,内容,电话,phone\n问,答,1,2\n", Options{Column: kb.ColumnHotline, Department: "综合处"}, "phone", []string{"同一字段"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, "faq.csv", []byte(tt.data), tt.opts)
			if p.fatal != nil {
				t.Fatalf("fatal: %v", p.fatal)
			}
			if len(p.recs) > 0 {
				t.Errorf("a file with a bad header produced %d records", len(p.recs))
			}
			if tt.name == "missing title" || tt.name == "missing content" {
				if len(p.errs) != 1 {
					t.Errorf("want one file-level error, got %v", p.errs)
				}
			}
			wantError(t, p.errs, 1, tt.field, tt.fragments...)
			for _, e := range p.errs {
				if e.File != "faq.csv" {
					t.Errorf("error names file %q", e.File)
				}
			}
		})
	}
	t.Run("hotline needs no content column", func(t *testing.T) {
		mustParse(t, "hotline.csv", []byte("标题,电话,部门\n12345市民服务热线,12345,综合处\n"), Options{Column: kb.ColumnHotline})
	})
}

func TestCSVRowProblems(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		opts      Options
		row       int
		field     string
		fragments []string
	}{
		{"bad date", "标题,内容,部门,实施日期\n某办法,正文,法规处,2024-13-45\n", Options{Column: kb.ColumnPolicy}, 2, "实施日期", []string{"实施日期", "2024-13-45", "不存在"}},
		{"bad date under an English header", "title,content,department,effective_on\n某办法,正文,法规处,下个月\n", Options{Column: kb.ColumnPolicy}, 2, "effective_on", []string{"实施日期"}},
		{"bad phone", "标题,电话,部门\n热线,12-34,综合处\n", Options{Column: kb.ColumnHotline}, 2, "电话", []string{"格式不正确"}},
		{"empty title", "标题,内容,部门\n,答,综合处\n", Options{Column: kb.ColumnFAQ}, 2, "标题", []string{"标题不能为空"}},
		{"empty content under a synonym", "问题,答复口径,部门\n问,,综合处\n", Options{Column: kb.ColumnFAQ}, 2, "答复口径", []string{"内容不能为空"}},
		{"no department", "标题,内容,部门\n问,答,\n", Options{Column: kb.ColumnFAQ}, 2, "部门", []string{"责任部门不能为空"}},
		{"title too long", "标题,内容,部门\n" + strings.Repeat("长", 129) + ",答,综合处\n", Options{Column: kb.ColumnFAQ}, 2, "标题", []string{"129"}},
		{"unknown column", "栏目,标题,内容,部门\n新闻,问,答,综合处\n", Options{}, 2, "栏目", []string{"未知栏目"}},
		{"no column", "栏目,标题,内容,部门\n,问,答,综合处\n", Options{}, 2, "栏目", []string{"未指定栏目"}},
		{"field of another column", "标题,内容,部门,文号\n问,答,综合处,沪药监〔2024〕1号\n", Options{Column: kb.ColumnFAQ}, 2, "文号", []string{"栏目“常见问题”没有“文号”字段"}},
		{"more cells than headers", "标题,内容,部门\n问,答,综合处,多余\n", Options{Column: kb.ColumnFAQ}, 2, "第 D 列", []string{"没有表头"}},
		{"duplicate title", "标题,内容,部门\n问,答,综合处\n别的,答,综合处\n问,另一个答,综合处\n", Options{Column: kb.ColumnFAQ}, 4, "标题", []string{"与第 2 行重复"}},
		{"duplicate id", "编号,标题,内容,部门\nq1,问,答,综合处\nq1,别的问,答,综合处\n", Options{Column: kb.ColumnFAQ}, 3, "编号", []string{"编号“q1”与第 2 行重复"}},
		{"unbalanced quote", "标题,内容,部门\n问,\"答,综合处\n", Options{Column: kb.ColumnFAQ}, 2, "", []string{"引号"}},
		{"row numbers count blank lines", "标题,内容,部门\n\n\n问,,综合处\n", Options{Column: kb.ColumnFAQ}, 4, "内容", []string{"内容不能为空"}},
		{"row numbers count multi-line cells", "标题,内容,部门\n问,\"第一行\n第二行\",综合处\n问二,,综合处\n", Options{Column: kb.ColumnFAQ}, 3, "内容", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, "rows.csv", []byte(tt.data), tt.opts)
			if p.fatal != nil {
				t.Fatalf("fatal: %v", p.fatal)
			}
			wantError(t, p.errs, tt.row, tt.field, tt.fragments...)
			for _, r := range p.recs {
				if r.Row == tt.row {
					t.Errorf("row %d was rejected but also produced a record", tt.row)
				}
			}
		})
	}
}

func TestCSVKeepsGoodRowsAroundBadOnes(t *testing.T) {
	data := "标题,内容,部门\n好一,答,综合处\n坏,,综合处\n好二,答,综合处\n"
	p := parse(t, "faq.csv", []byte(data), Options{Column: kb.ColumnFAQ})
	if p.fatal != nil || len(p.errs) != 1 || len(p.recs) != 2 {
		t.Fatalf("recs %d errs %v fatal %v", len(p.recs), p.errs, p.fatal)
	}
	if p.recs[0].Row != 2 || p.recs[1].Row != 4 {
		t.Errorf("rows = %d, %d", p.recs[0].Row, p.recs[1].Row)
	}
}

func TestCSVBigCell(t *testing.T) {
	big := strings.Repeat("药", 1<<20/3+1) // over 1 MB of UTF-8
	data := "标题,内容,部门\n问,答,综合处\n大,\"" + big + "\",综合处\n后,答,综合处\n"
	p := parse(t, "big.csv", []byte(data), Options{Column: kb.ColumnFAQ})
	if p.fatal != nil {
		t.Fatal(p.fatal)
	}
	wantError(t, p.errs, 3, "内容", "单元格有 349526 个字（1048578 字节），超过上限 65536 字节（约 21845 个汉字）")
	if len(p.errs) != 1 {
		t.Errorf("want only the size error, got %v", p.errs)
	}
	if len(p.recs) != 2 {
		t.Errorf("the rows around the big cell should parse, got %d records", len(p.recs))
	}
	t.Run("a larger limit admits it", func(t *testing.T) {
		mustParse(t, "big.csv", []byte(data), Options{Column: kb.ColumnFAQ, MaxCellBytes: 2 << 20})
	})
}

func TestCSVFileProblems(t *testing.T) {
	utf16 := []byte{0xff, 0xfe}
	for _, r := range "标题,内容\n问,答\n" {
		utf16 = append(utf16, byte(r), byte(r>>8))
	}
	tests := []struct {
		name      string
		data      []byte
		opts      Options
		fragments []string
	}{
		{"empty", nil, Options{}, []string{"文件是空的"}},
		{"only a BOM and blank lines", []byte("\xef\xbb\xbf\r\n\r\n"), Options{}, []string{"文件是空的"}},
		{"UTF-16", utf16, Options{}, []string{"UTF-16"}},
		{"binary", []byte("PK\x03\x04\x00\x00binary"), Options{}, []string{"不是文本文件"}},
		{"neither UTF-8 nor GB18030", []byte("标题,内容\n\xff\xff\xff,\x80\x80\n"), Options{}, []string{"无法识别文件编码"}},
		{"unknown requested encoding", []byte(faqCSV), Options{Encoding: "big5"}, []string{"不支持的编码"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, "bad.csv", tt.data, tt.opts)
			wantFatal(t, p.fatal, "bad.csv", tt.fragments...)
			if len(p.recs) > 0 {
				t.Errorf("got %d records from a bad file", len(p.recs))
			}
		})
	}
	t.Run("wrong encoding requested", func(t *testing.T) {
		// A GBK file read as UTF-8 names the row and says what is wrong.
		p := parse(t, "gbk.csv", gbk(t, faqCSV), Options{Column: kb.ColumnFAQ, Encoding: "utf-8"})
		wantFatal(t, p.fatal, "gbk.csv", "不是 UTF-8 编码")
	})
	t.Run("GBK after a UTF-8 start", func(t *testing.T) {
		// Detection looks at the first 64 KiB; later rows in another
		// encoding are row errors.
		var b strings.Builder
		b.WriteString("标题,内容,部门\n")
		rows := 0
		for b.Len() < sniffBytes+1000 {
			rows++
			fmt.Fprintf(&b, "问题%d,答复口径%d,综合处\n", rows, rows)
		}
		data := append([]byte(b.String()), gbk(t, "问二,答,综合处\n")...)
		p := parse(t, "mixed.csv", data, Options{Column: kb.ColumnFAQ})
		if p.fatal != nil {
			t.Fatal(p.fatal)
		}
		wantError(t, p.errs, rows+2, "第 A 列", "不是 UTF-8 编码")
		if len(p.recs) != rows {
			t.Errorf("got %d records, want %d", len(p.recs), rows)
		}
	})
	t.Run("header only", func(t *testing.T) {
		p := parse(t, "head.csv", []byte("标题,内容,部门\n"), Options{Column: kb.ColumnFAQ})
		wantError(t, p.errs, 0, "", "没有数据行")
	})
}
