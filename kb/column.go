package kb

import "strings"

// Column is one of the seven columns (栏目) of the knowledge base.
type Column string

// The seven columns, by stable code.
const (
	ColumnGuide      Column = "guide"
	ColumnFAQ        Column = "faq"
	ColumnWiki       Column = "wiki"
	ColumnPolicy     Column = "policy"
	ColumnNotice     Column = "notice"
	ColumnHotline    Column = "hotline"
	ColumnDepartment Column = "department"
)

// Columns lists the seven columns in display order.
var Columns = []Column{ColumnGuide, ColumnFAQ, ColumnWiki, ColumnPolicy, ColumnNotice, ColumnHotline, ColumnDepartment}

var columnNames = map[Column]string{
	ColumnGuide:      "网上办事指引",
	ColumnFAQ:        "常见问题",
	ColumnWiki:       "政务百科词条",
	ColumnPolicy:     "政策文件",
	ColumnNotice:     "通知公告",
	ColumnHotline:    "热线电话",
	ColumnDepartment: "部门信息",
}

// Name returns the column's Chinese name.
func (c Column) Name() string { return columnNames[c] }

// Valid reports whether c is one of the seven columns.
func (c Column) Valid() bool { _, ok := columnNames[c]; return ok }

// ParseColumn accepts a column's code or its Chinese name.
func ParseColumn(s string) (Column, error) {
	s = strings.TrimSpace(s)
	if c := Column(strings.ToLower(s)); c.Valid() {
		return c, nil
	}
	for c, name := range columnNames {
		if s == name {
			return c, nil
		}
	}
	return "", Errorf(EINVALID, "未知栏目 %q：应为 guide/faq/wiki/policy/notice/hotline/department 或其中文名", s)
}

// FieldKind says how a column-specific field is validated.
type FieldKind int

// Field kinds.
const (
	KindText FieldKind = iota
	KindDate
	KindPhone
	KindEntryRef
)

// FieldSpec describes one column-specific field.
type FieldSpec struct {
	Code  string
	Label string // Chinese label, as maintainers write it in headers
	Kind  FieldKind
}

// Field codes that the domain logic reads.
const (
	FieldEffectiveOn    = "effective_on"
	FieldExpiresOn      = "expires_on"
	FieldPublishedOn    = "published_on"
	FieldPhone          = "phone"
	FieldHours          = "hours"
	FieldInterpretation = "interpretation"
	FieldDocNumber      = "doc_number"
)

var columnFields = map[Column][]FieldSpec{
	ColumnPolicy: {
		{FieldDocNumber, "文号", KindText},
		{"issuer", "发文机关", KindText},
		{FieldPublishedOn, "发布日期", KindDate},
		{FieldEffectiveOn, "实施日期", KindDate},
		{FieldExpiresOn, "失效日期", KindDate},
		{FieldInterpretation, "解读", KindEntryRef},
	},
	ColumnNotice: {
		{FieldPublishedOn, "发布日期", KindDate},
		{FieldExpiresOn, "失效日期", KindDate},
	},
	ColumnHotline: {
		{FieldPhone, "电话", KindPhone},
		{FieldHours, "服务时间", KindText},
		{"scope", "服务范围", KindText},
	},
	ColumnDepartment: {
		{"address", "地址", KindText},
		{FieldPhone, "电话", KindPhone},
		{FieldHours, "办公时间", KindText},
		{"duties", "职责", KindText},
	},
	ColumnGuide: {
		{"applicants", "办理对象", KindText},
		{"materials", "申请材料", KindText},
		{"process", "办理流程", KindText},
		{"time_limit", "办理时限", KindText},
		{"fees", "收费", KindText},
		{"basis", "设定依据", KindText},
	},
}

// Fields returns the column-specific fields of c.
func (c Column) Fields() []FieldSpec { return columnFields[c] }

// FieldLabel is the Chinese name maintainers know a field by, from the
// code a RowProblem or FieldError names it with: 标题 for title, 实施日期
// for effective_on. An unknown code is returned as it is.
func FieldLabel(code string) string {
	switch code {
	case "external_id":
		return "编号"
	case "column":
		return "栏目"
	case "title":
		return "标题"
	case "content":
		return "内容"
	case "department":
		return "部门"
	case "matter":
		return "事项"
	case "keywords":
		return "关键词"
	case "similar", "similar_questions":
		return "相似问法"
	}
	for _, c := range Columns {
		if f, ok := c.FieldSpec(code); ok {
			return f.Label
		}
	}
	return code
}

// FieldSpec returns the spec of the column field with the given code or label.
func (c Column) FieldSpec(codeOrLabel string) (FieldSpec, bool) {
	for _, f := range columnFields[c] {
		if f.Code == codeOrLabel || f.Label == codeOrLabel {
			return f, true
		}
	}
	return FieldSpec{}, false
}
