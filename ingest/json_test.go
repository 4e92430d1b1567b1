package ingest

import (
	"fmt"
	"strings"
	"testing"

	"xiaoshen/kb"
)

func TestJSONHappyPath(t *testing.T) {
	tests := []struct {
		name string
		file string
		data string
	}{
		{"array", "faq.json", `[
  {"编号": "q1", "标题": "化妆品生产许可证怎么办理", "答案": "通过一网通办提交。", "部门": "化妆品监管处",
   "相似问法": ["化妆品许可怎么申请", "化妆品生产许可去哪办"], "关键词": "化妆品，生产许可"},
  {"id": 2, "title": "二类医疗器械注册要多久", "content": "60个工作日。", "department": "器械注册处", "similar": null, "keywords": ["二类械", 2]}
]`},
		{"array with BOM", "faq.json", "\ufeff" + `[{"编号": "q1", "标题": "化妆品生产许可证怎么办理", "答案": "通过一网通办提交。", "部门": "化妆品监管处", "相似问法": "化妆品许可怎么申请|化妆品生产许可去哪办", "关键词": ["化妆品", "生产许可"]},
{"id": 2, "title": "二类医疗器械注册要多久", "content": "60个工作日。", "department": "器械注册处", "keywords": "二类械,2"}]`},
		{"lines", "faq.jsonl", `{"编号": "q1", "标题": "化妆品生产许可证怎么办理", "答案": "通过一网通办提交。", "部门": "化妆品监管处", "相似问法": ["化妆品许可怎么申请", "化妆品生产许可去哪办"], "关键词": ["化妆品", "生产许可"]}

{"id": 2, "title": "二类医疗器械注册要多久", "content": "60个工作日。", "department": "器械注册处", "keywords": ["二类械", "2"]}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := mustParse(t, tt.file, []byte(tt.data), Options{Column: kb.ColumnFAQ})
			if len(recs) != 2 {
				t.Fatalf("got %d records", len(recs))
			}
			e := recs[0].Entry
			if e.ExternalID != "q1" || e.Title != "化妆品生产许可证怎么办理" || e.Content != "通过一网通办提交。" ||
				fmt.Sprint(e.Similar) != "[化妆品许可怎么申请 化妆品生产许可去哪办]" || fmt.Sprint(e.Keywords) != "[化妆品 生产许可]" {
				t.Errorf("first entry = %+v", e)
			}
			if e := recs[1].Entry; e.ExternalID != "2" || fmt.Sprint(e.Keywords) != "[二类械 2]" {
				t.Errorf("second entry = %+v", e)
			}
			wantRow := 2
			if tt.file == "faq.jsonl" {
				wantRow = 3 // the blank line counts
			}
			if recs[0].Row != 1 || recs[1].Row != wantRow {
				t.Errorf("rows = %d, %d; want 1, %d", recs[0].Row, recs[1].Row, wantRow)
			}
		})
	}
}

func TestJSONRowProblems(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		data      string
		row       int
		field     string
		fragments []string
	}{
		{"unknown key", "a.jsonl", `{"标题": "问", "内容": "答", "部门": "综合处", "备注": "x"}`, 1, "备注", []string{"未知字段“备注”"}},
		{"bad date", "a.jsonl", `{"标题": "问", "内容": "答", "部门": "综合处"}` + "\n" + `{"标题": "某办法", "内容": "答", "部门": "法规处", "栏目": "policy", "实施日期": "2024-02-30"}`, 2, "实施日期", []string{"实施日期"}},
		{"object value", "a.json", `[{"标题": {"x": 1}, "内容": "答", "部门": "综合处"}]`, 1, "标题", []string{"应为文本"}},
		{"array title", "a.json", `[{"标题": ["a", "b"], "内容": "答", "部门": "综合处"}]`, 1, "标题", []string{"不能是数组"}},
		{"nested array", "a.json", `[{"标题": "问", "内容": "答", "部门": "综合处", "关键词": [["a"]]}]`, 1, "关键词", []string{"数组中只能有文本或数字"}},
		{"not an object", "a.json", `[{"标题": "问", "内容": "答", "部门": "综合处"}, "问题"]`, 2, "", []string{"应为 JSON 对象"}},
		{"bad line", "a.jsonl", `{"标题": "问", "内容": "答", "部门": "综合处"}` + "\n" + `{"标题": "问二", `, 2, "", []string{"不是有效的 JSON"}},
		{"two objects on a line", "a.jsonl", `{"标题": "问", "内容": "答", "部门": "综合处"} {"标题": "问二"}`, 1, "", []string{"不是有效的 JSON"}},
		{"duplicate title", "a.json", `[{"标题": "问", "内容": "答", "部门": "综合处"}, {"标题": "问", "内容": "答二", "部门": "综合处"}]`, 2, "标题", []string{"与第 1 项重复"}},
		{"same field twice", "a.json", `[{"标题": "问", "title": "问二", "内容": "答", "部门": "综合处"}]`, 1, "", []string{"只能填写一个"}},
		{"big cell", "a.jsonl", `{"标题": "问", "内容": "` + strings.Repeat("药", 1<<20/3+1) + `", "部门": "综合处"}`, 1, "内容", []string{"超过上限"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, tt.file, []byte(tt.data), Options{Column: kb.ColumnFAQ})
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

func TestJSONFileProblems(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		data      []byte
		fragments []string
	}{
		{"empty", "a.json", nil, []string{"文件是空的"}},
		{"empty lines", "a.jsonl", []byte("\n\n"), []string{"文件是空的"}},
		{"an object, not an array", "a.json", []byte(`{"标题": "问"}`), []string{"对象数组"}},
		{"broken array", "a.json", []byte(`[{"标题": "问", "内容": "答", "部门": "综合处"}, {"标题": `), []string{"JSON"}},
		{"unterminated array", "a.json", []byte(`[{"标题": "问", "内容": "答", "部门": "综合处"}`), []string{"没有以 ] 结束"}},
		{"trailing data", "a.json", []byte(`[] []`), []string{"多余"}},
		{"GBK", "a.jsonl", gbk(t, `{"标题": "问", "内容": "答", "部门": "综合处"}`), []string{"不是 UTF-8 编码"}},
		{"UTF-16", "a.json", []byte{0xff, 0xfe, '[', 0, ']', 0}, []string{"UTF-16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parse(t, tt.file, tt.data, Options{Column: kb.ColumnFAQ})
			wantFatal(t, p.fatal, tt.file, tt.fragments...)
		})
	}
	t.Run("broken array keeps the items before", func(t *testing.T) {
		p := parse(t, "a.json", []byte(`[{"标题": "问", "内容": "答", "部门": "综合处"}, {"标题": `), Options{Column: kb.ColumnFAQ})
		if len(p.recs) != 1 {
			t.Errorf("got %d records before the break, want 1", len(p.recs))
		}
	})
	t.Run("empty array", func(t *testing.T) {
		p := parse(t, "a.json", []byte(`[]`), Options{Column: kb.ColumnFAQ})
		wantError(t, p.errs, 0, "", "空的")
	})
}
