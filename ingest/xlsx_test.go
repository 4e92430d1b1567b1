package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"xiaoshen/kb"
)

// xlsxCell is a cell value with an optional number format: a built-in
// format id, or a custom format code.
type xlsxCell struct {
	value  any
	numFmt int
	custom string
}

// sheetRows are the rows of one sheet, cell values by column.
type sheetRows struct {
	name   string
	rows   map[int][]any // row number → values; a value may be an xlsxCell
	merges []string      // merged ranges, such as "A1:C1"
}

// mustXLSX builds a workbook in memory.
func mustXLSX(t testing.TB, sheets ...sheetRows) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for _, m := range s.merges {
			from, to, _ := strings.Cut(m, ":")
			if err := f.MergeCell(s.name, from, to); err != nil {
				t.Fatal(err)
			}
		}
		for row, values := range s.rows {
			for col, v := range values {
				if v == nil { // no cell: a merged range's other cells have none
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(col+1, row)
				c, ok := v.(xlsxCell)
				if !ok {
					c = xlsxCell{value: v}
				}
				if err := f.SetCellValue(s.name, cell, c.value); err != nil {
					t.Fatal(err)
				}
				if c.numFmt != 0 || c.custom != "" {
					style := &excelize.Style{NumFmt: c.numFmt}
					if c.custom != "" {
						style.CustomNumFmt = &c.custom
					}
					id, err := f.NewStyle(style)
					if err != nil {
						t.Fatal(err)
					}
					if err := f.SetCellStyle(s.name, cell, cell, id); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXHappyPath(t *testing.T) {
	data := mustXLSX(t, sheetRows{name: "常见问题", rows: map[int][]any{
		1: {"编号", "标题", "答复口径", "责任部门", "相似问法", "关键词", "事项"},
		2: {1001, "化妆品生产许可证怎么办理", "第一步：注册。\n第二步：提交。", "化妆品监管处", "化妆品许可怎么申请\n化妆品生产许可去哪办", "化妆品、生产许可", "化妆品生产许可"},
		3: {"faq-2", "二类医疗器械注册要多久", "60个工作日。", "器械注册处", "", "", ""},
	}})
	recs := mustParse(t, "faq.xlsx", data, Options{Column: kb.ColumnFAQ})
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	e := recs[0].Entry
	if e.ExternalID != "1001" || e.Title != "化妆品生产许可证怎么办理" || e.Content != "第一步：注册。\n第二步：提交。" ||
		e.Department != "化妆品监管处" || e.Matter != "化妆品生产许可" || len(e.Similar) != 2 || len(e.Keywords) != 2 {
		t.Errorf("entry = %+v", e)
	}
	if recs[0].Row != 2 || recs[1].Row != 3 {
		t.Errorf("rows = %d, %d", recs[0].Row, recs[1].Row)
	}
}

func TestXLSXDates(t *testing.T) {
	serial := 45443.0 // 2024-05-31
	tests := []struct {
		name string
		cell any
		want string
	}{
		{"short date format", xlsxCell{value: serial, numFmt: 14}, "2024-05-31"},
		{"Chinese long date format", xlsxCell{value: serial, numFmt: 31}, "2024-05-31"},
		{"month and day only", xlsxCell{value: serial, custom: `m"月"d"日"`}, "2024-05-31"},
		{"English format", xlsxCell{value: serial, numFmt: 15}, "2024-05-31"},
		{"date and time", xlsxCell{value: serial + 0.75, numFmt: 22}, "2024-05-31"},
		{"general number", serial, "2024-05-31"},
		{"time.Time value", time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC), "2024-05-31"},
		{"text date", "2024/5/31", "2024-05-31"},
		{"Chinese text date", "2024年5月31日", "2024-05-31"},
		{"eight-digit number", 20240531, "2024-05-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := mustXLSX(t, sheetRows{name: "Sheet1", rows: map[int][]any{
				1: {"标题", "内容", "部门", "实施日期", "文号"},
				2: {"某办法", "正文", "法规处", tt.cell, "沪药监规〔2024〕3号"},
			}})
			recs := mustParse(t, "policy.xlsx", data, Options{Column: kb.ColumnPolicy})
			if got := recs[0].Entry.Fields[kb.FieldEffectiveOn]; got != tt.want {
				t.Errorf("实施日期 = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("1904 date system", func(t *testing.T) {
		f := excelize.NewFile()
		date1904 := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &date1904}); err != nil {
			t.Fatal(err)
		}
		for i, v := range []any{"标题", "内容", "部门", "实施日期"} {
			cell, _ := excelize.CoordinatesToCellName(i+1, 1)
			f.SetCellValue("Sheet1", cell, v)
		}
		f.SetSheetRow("Sheet1", "A2", &[]any{"某办法", "正文", "法规处", serial - 1462})
		var buf bytes.Buffer
		f.WriteTo(&buf)
		recs := mustParse(t, "policy.xlsx", buf.Bytes(), Options{Column: kb.ColumnPolicy})
		if got := recs[0].Entry.Fields[kb.FieldEffectiveOn]; got != "2024-05-31" {
			t.Errorf("实施日期 = %q", got)
		}
	})
	t.Run("bad date names row and field", func(t *testing.T) {
		data := mustXLSX(t, sheetRows{name: "Sheet1", rows: map[int][]any{
			1: {"标题", "内容", "部门", "实施日期"},
			2: {"甲办法", "正文", "法规处", "2024-05-31"},
			3: {"乙办法", "正文", "法规处", "下个月一号"},
		}})
		p := parse(t, "policy.xlsx", data, Options{Column: kb.ColumnPolicy})
		wantError(t, p.errs, 3, "实施日期", "实施日期", "下个月一号")
		if len(p.errs) != 1 || !strings.HasPrefix(p.errs[0].Error(), "policy.xlsx:3 [实施日期]: ") {
			t.Errorf("errors = %v", p.errs)
		}
		if len(p.recs) != 1 {
			t.Errorf("got %d records, want 1", len(p.recs))
		}
	})
}

func TestXLSXSheetsAndRows(t *testing.T) {
	data := mustXLSX(t,
		sheetRows{name: "说明", rows: map[int][]any{1: {"这是填写说明"}}},
		sheetRows{name: "热线", rows: map[int][]any{
			1: {"标题", "电话", "服务时间", "部门"},
			2: {"12345市民服务热线", 12345, "全天24小时", "综合处"},
			5: {"药品投诉举报", "021-12345678", "工作日", "综合处"},
		}},
	)
	t.Run("named sheet, gaps keep their row numbers", func(t *testing.T) {
		recs := mustParse(t, "hotline.xlsx", data, Options{Column: kb.ColumnHotline, Sheet: "热线"})
		if len(recs) != 2 || recs[1].Row != 5 {
			t.Fatalf("records = %d, second row %d", len(recs), recs[len(recs)-1].Row)
		}
		if got := recs[0].Entry.Fields[kb.FieldPhone]; got != "12345" {
			t.Errorf("phone = %q", got)
		}
	})
	t.Run("first sheet by default, which points to the others", func(t *testing.T) {
		p := parse(t, "hotline.xlsx", data, Options{Column: kb.ColumnHotline})
		wantError(t, p.errs, 1, "这是填写说明", "第 1 行只有一个单元格“这是填写说明”", "不是表头")
		wantError(t, p.errs, 0, "", "读取的是第一个工作表“说明”", "--sheet 热线")
	})
	t.Run("an empty first sheet points to the others", func(t *testing.T) {
		data := mustXLSX(t, sheetRows{name: "Sheet1", rows: map[int][]any{}}, sheetRows{name: "热线", rows: map[int][]any{1: {"标题", "电话"}}})
		p := parse(t, "hotline.xlsx", data, Options{Column: kb.ColumnHotline})
		wantFatal(t, p.fatal, "hotline.xlsx", "“Sheet1”是空的", "--sheet 热线")
	})
	t.Run("missing sheet", func(t *testing.T) {
		p := parse(t, "hotline.xlsx", data, Options{Column: kb.ColumnHotline, Sheet: "Sheet9"})
		wantFatal(t, p.fatal, "hotline.xlsx", "Sheet9", "说明、热线")
	})
}

func TestXLSXFileProblems(t *testing.T) {
	good := mustXLSX(t, sheetRows{name: "Sheet1", rows: map[int][]any{1: {"标题", "内容", "部门"}, 2: {"问", "答", "综合处"}}})
	empty := mustXLSX(t, sheetRows{name: "Sheet1", rows: map[int][]any{}})
	tests := []struct {
		name      string
		data      []byte
		fragments []string
	}{
		{"truncated", good[:len(good)/2], []string{"已损坏或不完整"}},
		{"truncated to its start", good[:100], []string{"已损坏或不完整"}},
		{"not a zip", []byte("标题,内容\n问,答\n"), []string{"不是 XLSX 文件"}},
		{"old xls or encrypted", append([]byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}, make([]byte, 600)...), []string{".xls"}},
		{"empty file", nil, []string{"文件是空的"}},
		{"empty sheet", empty, []string{"是空的"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, "upload.xlsx", tt.data, Options{Column: kb.ColumnFAQ})
			wantFatal(t, p.fatal, "upload.xlsx", tt.fragments...)
			if p.fatal != nil && !bytes.Contains([]byte(p.fatal.Error()), []byte("upload.xlsx")) {
				t.Errorf("error text %q does not name the file", p.fatal.Error())
			}
		})
	}
	t.Run("unknown header", func(t *testing.T) {
		data := mustXLSX(t, sheetRows{name: "Sheet1", rows: map[int][]any{1: {"标题", "内容", "部门", "备注"}, 2: {"问", "答", "综合处", "x"}}})
		p := parse(t, "faq.xlsx", data, Options{Column: kb.ColumnFAQ})
		if p.fatal != nil || len(p.recs) > 0 {
			t.Fatalf("fatal %v, %d records", p.fatal, len(p.recs))
		}
		wantError(t, p.errs, 1, "备注", "未知表头")
	})
}

// TestXLSXHeaderAsOfficesWriteIt covers the headers of spreadsheets as
// offices lay them out: a title merged across the table above the header,
// and a header of two rows. The error says what to change, not to --map a
// title.
func TestXLSXHeaderAsOfficesWriteIt(t *testing.T) {
	t.Run("a title row above the header", func(t *testing.T) {
		data := mustXLSX(t, sheetRows{name: "政策文件", merges: []string{"A1:D1"}, rows: map[int][]any{
			1: {"2031年法规处政策文件清单"},
			2: {"标题", "内容", "部门", "文号"},
			3: {"某规定", "正文", "法规处", "沪药监规〔2031〕7号"},
		}})
		p := parse(t, "政策.xlsx", data, Options{Column: kb.ColumnPolicy})
		if len(p.errs) != 1 || p.fatal != nil || len(p.recs) != 0 {
			t.Fatalf("want one error, got fatal %v, errors %v, %d records", p.fatal, p.errs, len(p.recs))
		}
		wantError(t, p.errs, 1, "2031年法规处政策文件清单", "不是表头", "请删除这一行")
		if strings.Contains(p.errs[0].Message, "--map") {
			t.Errorf("a title row is no header to map: %s", p.errs[0].Message)
		}
	})
	t.Run("a header of two rows", func(t *testing.T) {
		data := mustXLSX(t, sheetRows{name: "政策文件", merges: []string{"A1:A2", "B1:B2", "C1:C2", "D1:E1"}, rows: map[int][]any{
			1: {"标题", "内容", "部门", "日期"},
			2: {nil, nil, nil, "发布日期", "实施日期"},
			3: {"某规定", "正文", "法规处", "2031-01-10", "2031-03-01"},
		}})
		p := parse(t, "政策.xlsx", data, Options{Column: kb.ColumnPolicy})
		if p.fatal != nil || len(p.recs) != 0 || len(p.errs) == 0 {
			t.Fatalf("fatal %v, errors %v, %d records", p.fatal, p.errs, len(p.recs))
		}
		if first := p.errs[0]; first.Row != 1 || !strings.Contains(first.Message, "合并单元格") || !strings.Contains(first.Message, "D1:E1") {
			t.Errorf("first error does not explain the merged header: %v", first)
		}
		wantError(t, p.errs, 1, "日期", "未知表头")
	})
	t.Run("a title row in CSV", func(t *testing.T) {
		p := parse(t, "问答.csv", []byte("2031年常见问题清单,,\n标题,内容,部门\n问,答,法规处\n"), Options{Column: kb.ColumnFAQ})
		wantError(t, p.errs, 1, "2031年常见问题清单", "不是表头")
	})
	t.Run("a one-column file is still read as a header", func(t *testing.T) {
		p := parse(t, "问答.csv", []byte("标题;内容;部门\n问;答;法规处\n"), Options{Column: kb.ColumnFAQ})
		wantError(t, p.errs, 1, "标题;内容;部门", "未知表头")
	})
}

func TestCapReader(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		limit    int64
		tooLarge bool
	}{
		{"under", 9, 10, false},
		{"at", 10, 10, false},
		{"over", 11, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := io.ReadAll(&capReader{r: bytes.NewReader(make([]byte, tt.size)), n: tt.limit})
			if got := errors.Is(err, errTooLarge); got != tt.tooLarge {
				t.Errorf("too large = %v (err %v), want %v", got, err, tt.tooLarge)
			}
		})
	}
}
