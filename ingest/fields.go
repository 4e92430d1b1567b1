package ingest

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/text/width"

	"xiaoshen/kb"
)

// fieldKind is what a header (or JSON key) stands for.
type fieldKind int

const (
	fieldUnknown fieldKind = iota
	fieldIgnore            // --map 表头=- : a column the maintainer chose to skip
	fieldExternalID
	fieldColumn
	fieldTitle
	fieldContent
	fieldDepartment
	fieldMatter
	fieldKeywords
	fieldSimilar
	fieldColumnField // a column-specific field, by code
)

// field is the meaning of one header.
type field struct {
	kind fieldKind
	code string // the field code of a fieldColumnField
	// label is set when the header named a column field by its Chinese
	// label; 服务时间 and 办公时间 are two labels of one code.
	label string
}

// key is the name Entry.Validate uses for the field.
func (f field) key() string {
	switch f.kind {
	case fieldExternalID:
		return "external_id"
	case fieldColumn:
		return "column"
	case fieldTitle:
		return "title"
	case fieldContent:
		return "content"
	case fieldDepartment:
		return "department"
	case fieldMatter:
		return "matter"
	case fieldKeywords:
		return "keywords"
	case fieldSimilar:
		return "similar"
	case fieldColumnField:
		return f.code
	}
	return ""
}

// coreFields are the fields every column has, with the header names
// maintainers use for them; the first name is the one exports write.
var coreFields = []struct {
	kind  fieldKind
	names []string
}{
	{fieldExternalID, []string{"编号", "id", "external_id"}},
	{fieldColumn, []string{"栏目", "column"}},
	{fieldTitle, []string{"标题", "问题", "用户问题", "title"}},
	{fieldContent, []string{"内容", "答案", "答复口径", "正文内容", "正文", "content", "answer"}},
	{fieldDepartment, []string{"部门", "责任部门", "处理单位", "department"}},
	{fieldMatter, []string{"事项", "matter"}},
	{fieldKeywords, []string{"关键词", "关键字", "keywords"}},
	{fieldSimilar, []string{"相似问法", "相似问题", "similar", "similar_questions"}},
}

// knownFields maps every folded header name to its field.
var knownFields = func() map[string]field {
	m := map[string]field{}
	for _, cf := range coreFields {
		for _, n := range cf.names {
			m[foldHeader(n)] = field{kind: cf.kind}
		}
	}
	for _, col := range kb.Columns {
		for _, spec := range col.Fields() {
			m[foldHeader(spec.Code)] = field{kind: fieldColumnField, code: spec.Code}
			m[foldHeader(spec.Label)] = field{kind: fieldColumnField, code: spec.Code, label: spec.Label}
		}
	}
	return m
}()

// foldHeader makes header spellings comparable: trimmed, full-width
// letters and punctuation folded to their ASCII forms, lower case, and
// inner spaces or hyphens written as "_".
func foldHeader(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "\ufeff")
	s = strings.ToLower(width.Fold.String(s))
	s = strings.ReplaceAll(s, "-", "_")
	return strings.Join(strings.Fields(s), "_")
}

// checkMap reports a --map whose target is not a known field.
func checkMap(m map[string]string) error {
	for from, to := range m {
		if foldHeader(from) == "" {
			return fmt.Errorf("--map %s=%s：表头不能为空", from, to)
		}
		if strings.TrimSpace(to) == "-" {
			continue
		}
		if _, ok := knownFields[foldHeader(to)]; !ok {
			return fmt.Errorf("--map %s=%s：目标字段 %q 未知，应为 title、content、department、similar、keywords、matter、id、column 或栏目字段（如 实施日期）", from, to, to)
		}
	}
	return nil
}

// resolveHeader returns what a header means, --map first.
func resolveHeader(h string, m map[string]string) (field, bool) {
	folded := foldHeader(h)
	for from, to := range m {
		if foldHeader(from) == folded {
			if strings.TrimSpace(to) == "-" {
				return field{kind: fieldIgnore}, true
			}
			f, ok := knownFields[foldHeader(to)]
			return f, ok
		}
	}
	f, ok := knownFields[folded]
	return f, ok
}

// fieldName is the Chinese name of a field (by the key Entry.Validate
// uses) for messages about a field the file did not name itself.
func fieldName(key string, col kb.Column) string {
	for _, cf := range coreFields {
		if (field{kind: cf.kind}).key() == key {
			return cf.names[0]
		}
	}
	if spec, ok := col.FieldSpec(key); ok {
		return spec.Label
	}
	for _, c := range kb.Columns {
		if spec, ok := c.FieldSpec(key); ok {
			return spec.Label
		}
	}
	return key
}

// splitItems splits a cell that holds several similar questions or
// keywords. A cell with line breaks holds one item per line (that is how
// exports write it, and it keeps items that contain punctuation whole);
// otherwise items are separated by ；;|、 and, for keywords, also by ，,.
func splitItems(s string, commas bool) []string {
	var parts []string
	if strings.Contains(s, "\n") {
		parts = strings.Split(s, "\n")
	} else {
		parts = strings.FieldsFunc(s, func(r rune) bool {
			switch r {
			case '；', ';', '|', '、':
				return true
			case '，', ',':
				return commas
			}
			return false
		})
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cleanText writes every line break as "\n".
func cleanText(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// rowName says where a row is, in the unit of the file's format.
func rowName(file string, row int) string {
	switch {
	case row <= 0:
		return "文件 " + file
	case strings.EqualFold(filepath.Ext(file), ".json"):
		return fmt.Sprintf("第 %d 项", row)
	default:
		return fmt.Sprintf("第 %d 行", row)
	}
}

// finish normalises and validates an entry read at row of file, checks it
// against the rest of the upload and returns every problem. names maps a
// field's key to the header the user wrote for it; skip lists keys whose
// problems were already reported.
func (u *Upload) finish(file string, row int, e *kb.Entry, names map[string]string, skip map[string]bool) []*RowError {
	e.Normalize()
	var errs []*RowError
	name := func(key string) string {
		if n, ok := names[key]; ok && n != "" {
			return n
		}
		return fieldName(key, e.Column)
	}
	for _, fe := range e.Validate() {
		if skip[fe.Field] {
			continue
		}
		errs = append(errs, &RowError{File: file, Row: row, Field: name(fe.Field), Message: fe.Message})
	}
	here := place{file: file, row: row}
	if e.Title != "" && e.Column.Valid() {
		key := titleKey{column: e.Column, title: e.Title}
		if first, ok := u.titles[key]; ok {
			errs = append(errs, &RowError{File: file, Row: row, Field: name("title"),
				Message: fmt.Sprintf("标题“%s”与%s重复：同一栏目中标题不能重复", e.Title, first.describe(file))})
		} else {
			u.titles[key] = here
		}
	}
	if e.ExternalID != "" {
		if first, ok := u.ids[e.ExternalID]; ok {
			errs = append(errs, &RowError{File: file, Row: row, Field: name("external_id"),
				Message: fmt.Sprintf("编号“%s”与%s重复", e.ExternalID, first.describe(file))})
		} else {
			u.ids[e.ExternalID] = here
		}
	}
	return errs
}

// describe names p for a message about a row of file.
func (p place) describe(file string) string {
	if p.file == file {
		return rowName(p.file, p.row)
	}
	if p.row <= 0 {
		return "文件 " + p.file
	}
	return "文件 " + p.file + " " + rowName(p.file, p.row)
}
