package kb_test

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"xiaoshen/kb"
)

func TestParseColumn(t *testing.T) {
	tests := []struct {
		in   string
		want kb.Column
	}{
		{"faq", kb.ColumnFAQ}, {"FAQ", kb.ColumnFAQ}, {"常见问题", kb.ColumnFAQ}, {" 网上办事指引 ", kb.ColumnGuide},
		{"政务百科词条", kb.ColumnWiki}, {"policy", kb.ColumnPolicy}, {"通知公告", kb.ColumnNotice},
		{"热线电话", kb.ColumnHotline}, {"部门信息", kb.ColumnDepartment},
	}
	for _, tt := range tests {
		got, err := kb.ParseColumn(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseColumn(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := kb.ParseColumn("news"); kb.ErrorCode(err) != kb.EINVALID {
		t.Errorf("unknown column: err = %v", err)
	}
	if len(kb.Columns) != 7 {
		t.Fatalf("want exactly seven columns, have %d", len(kb.Columns))
	}
}

func TestEntryValidate(t *testing.T) {
	valid := func() *kb.Entry {
		return &kb.Entry{Column: kb.ColumnPolicy, Title: "某政策", Content: "正文", Department: "法规处",
			Fields: map[string]string{"实施日期": "2024/10/8", "失效日期": "2030年1月1日", "文号": "【待维护人员填写：文号】"}}
	}
	t.Run("labels and date forms are normalised", func(t *testing.T) {
		e := valid()
		e.Normalize()
		if errs := e.Validate(); len(errs) > 0 {
			t.Fatalf("unexpected errors: %v", errs)
		}
		if got := e.Fields[kb.FieldEffectiveOn]; got != "2024-10-08" {
			t.Errorf("effective_on = %q", got)
		}
	})
	tests := []struct {
		name   string
		mutate func(*kb.Entry)
		field  string
	}{
		{"empty title", func(e *kb.Entry) { e.Title = "  " }, "title"},
		{"title too long", func(e *kb.Entry) { e.Title = strings.Repeat("长", 129) }, "title"},
		{"no department", func(e *kb.Entry) { e.Department = "" }, "department"},
		{"no content", func(e *kb.Entry) { e.Content = "" }, "content"},
		{"bad date", func(e *kb.Entry) { e.Fields["实施日期"] = "下个月" }, "effective_on"},
		{"expiry before effect", func(e *kb.Entry) { e.Fields["失效日期"] = "2020-01-01" }, "expires_on"},
		{"expiry before publication", func(e *kb.Entry) {
			e.Column, e.Fields = kb.ColumnNotice, map[string]string{"发布日期": "2026-11-27", "失效日期": "2026-11-01"}
		}, "expires_on"},
		{"field of another column", func(e *kb.Entry) { e.Fields["电话"] = "12345" }, "电话"},
		{"bad phone", func(e *kb.Entry) {
			e.Column, e.Fields = kb.ColumnHotline, map[string]string{"phone": "call me"}
		}, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid()
			tt.mutate(e)
			e.Normalize()
			errs := e.Validate()
			if len(errs) == 0 {
				t.Fatal("want a validation error")
			}
			if errs[0].Field != tt.field {
				t.Errorf("field = %q (%s), want %q", errs[0].Field, errs[0].Message, tt.field)
			}
		})
	}
	t.Run("good phones", func(t *testing.T) {
		for _, p := range []string{"12345", "021-12345678", "13812345678", "400-123-4567", "【待维护人员填写：咨询电话】", "12345、021-12345678"} {
			e := &kb.Entry{Column: kb.ColumnHotline, Title: "热线", Department: "综合处", Fields: map[string]string{"phone": p}}
			e.Normalize()
			if errs := e.Validate(); len(errs) > 0 {
				t.Errorf("%q: %v", p, errs)
			}
		}
	})
}

func TestDocNumberIsWrittenInItsStandardForm(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"standard", "沪药监规〔2031〕7号", "沪药监规〔2031〕7号"},
		{"full-width parentheses", "沪药监规（2031）7号", "沪药监规〔2031〕7号"},
		{"square brackets", "沪药监规[2031]7号", "沪药监规〔2031〕7号"},
		{"full-width brackets and digits", "沪药监规［２０３１］１４号", "沪药监规〔2031〕14号"},
		{"spaces", " 沪药监规 〔2031〕 13 号 ", "沪药监规〔2031〕13号"},
		{"ideographic space", "沪药监规　〔2031〕7号", "沪药监规〔2031〕7号"},
		{"decree", "国家市场监督管理总局令 第53号", "国家市场监督管理总局令第53号"},
		{"announcement of a year", "2024年第12号", "2024年第12号"},
		{"announcement in parentheses", "（2024年第12号）", "（2024年第12号）"},
		{"placeholder left alone", "【待维护人员填写：文号 待定】", "【待维护人员填写：文号 待定】"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &kb.Entry{Column: kb.ColumnPolicy, Fields: map[string]string{"文号": tt.in}}
			e.Normalize()
			if got := e.Fields[kb.FieldDocNumber]; got != tt.want {
				t.Errorf("文号 %q became %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEntryExpired(t *testing.T) {
	e := &kb.Entry{Column: kb.ColumnNotice, Fields: map[string]string{kb.FieldExpiresOn: "2024-10-08"}}
	if e.Expired(time.Date(2024, 10, 8, 23, 0, 0, 0, kb.Shanghai)) {
		t.Error("an entry is still valid on its expiry day")
	}
	if !e.Expired(time.Date(2024, 10, 9, 0, 0, 1, 0, kb.Shanghai)) {
		t.Error("an entry is expired the day after its expiry date")
	}
	if (&kb.Entry{Column: kb.ColumnFAQ}).Expired(time.Now()) {
		t.Error("an entry without an expiry never expires")
	}
}

func TestCleanQuestion(t *testing.T) {
	tests := []struct {
		in, want string
		code     string
	}{
		{"  二类械\t注册 ", "二类械 注册", ""},
		{"护照\x00过期", "护照 过期", ""},
		{"bad \xff utf8", "bad utf8", ""},
		{"replaced \uFFFD character", "replaced character", ""},
		{"零\u200b宽\u200d空格\ufeff", "零宽空格", ""},
		{"\u202e反向\u202c文字", "反向文字", ""},
		{"换行\r\n与\u0085控制符\x1b[31m", "换行 与 控制符 [31m", ""},
		{"\u200b\ufeff", "", kb.EINVALID},
		{"", "", kb.EINVALID},
		{" \n ", "", kb.EINVALID},
		{strings.Repeat("问", kb.MaxQuestionLength+1), "", kb.EINVALID},
	}
	for _, tt := range tests {
		got, err := kb.CleanQuestion(tt.in)
		if kb.ErrorCode(err) != tt.code || got != tt.want {
			t.Errorf("CleanQuestion(%q) = %q, %v; want %q, code %q", tt.in, got, err, tt.want, tt.code)
		}
	}
}

func TestGroupKey(t *testing.T) {
	same := []string{"护照过期了怎么办？", "护照过期了怎么办", "请问护照过期了怎么办呢", "护照过期了 怎么办吗？", "ＡＢＣ护照过期了怎么办"}
	want := kb.GroupKey(same[0])
	for _, q := range same[1:4] {
		if got := kb.GroupKey(q); got != want {
			t.Errorf("GroupKey(%q) = %q, want %q", q, got, want)
		}
	}
	if kb.GroupKey(same[4]) != "abc"+want {
		t.Errorf("full-width letters must fold: %q", kb.GroupKey(same[4]))
	}
	if kb.GroupKey("护照过期了怎么办") == kb.GroupKey("护照过期了收费吗") {
		t.Error("different questions must not share a key")
	}
}

func FuzzCleanQuestion(f *testing.F) {
	for _, seed := range []string{"二类械注册要交哪些材料", "护照\x00过期", "bad \xff utf8", "零\u200b宽", "\u202e反向", " \t\r\n ", strings.Repeat("问", 201)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := kb.CleanQuestion(in)
		if err != nil {
			if kb.ErrorCode(err) != kb.EINVALID {
				t.Fatalf("CleanQuestion(%q): code %q", in, kb.ErrorCode(err))
			}
			return
		}
		if !utf8.ValidString(got) || got == "" || utf8.RuneCountInString(got) > kb.MaxQuestionLength {
			t.Fatalf("CleanQuestion(%q) = %q: invalid, empty or too long", in, got)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Fatalf("CleanQuestion(%q) = %q: untrimmed or double spaces", in, got)
		}
		for _, r := range got {
			if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("CleanQuestion(%q) = %q keeps %U", in, got, r)
			}
		}
		if again, err := kb.CleanQuestion(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q, %v", got, again, err)
		}
	})
}

// A detail still to be filled in reads as a neutral note to citizens, not
// as the note to maintainers it is.
func TestForCitizens(t *testing.T) {
	for in, want := range map[string]string{
		"首次注册：【待维护人员填写：收费标准】。":           "首次注册：（此项信息正在补充，请以受理部门告知为准）。",
		"收费：【待维护人员填写：收费情况，如不收费请注明“不收费”】": "收费：（此项信息正在补充，请以受理部门告知为准）",
		"电话【待维护人员填写】，地址【待维护人员填写：地址】":     "电话（此项信息正在补充，请以受理部门告知为准），地址（此项信息正在补充，请以受理部门告知为准）",
		"不收费。": "不收费。",
	} {
		if got := kb.ForCitizens(in); got != want {
			t.Errorf("ForCitizens(%q) = %q, want %q", in, got, want)
		}
		if kb.HasPlaceholder(in) != (in != want) {
			t.Errorf("HasPlaceholder(%q) = %v", in, kb.HasPlaceholder(in))
		}
	}
}

// Problems name fields as maintainers know them, whatever code the server
// uses for them.
func TestRowProblemNamesFieldsInChinese(t *testing.T) {
	for code, want := range map[string]string{"department": "部门", "effective_on": "实施日期", "similar_questions": "相似问法", "interpretation": "解读", "phone": "电话", "备注": "备注"} {
		p := kb.RowProblem{File: "policy.csv", Row: 3, Field: code, Message: "有误"}
		if got := p.String(); got != "policy.csv:3 ["+want+"]: 有误" {
			t.Errorf("%s: %q", code, got)
		}
	}
}
