package ingest

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"xiaoshen/kb"
)

// cell is one value of a row, under the header the user wrote.
type cell struct {
	header string
	field  field
	text   string
	items  []string // the strings of a JSON array
	array  bool
}

// rowBuilder turns rows of cells into records; tabular formats share it.
type rowBuilder struct {
	u    *Upload
	file string
	opts Options
}

// build makes the record of one row, or returns its problems. A row whose
// cells are all empty yields neither.
func (b *rowBuilder) build(row int, cells []cell) (*Record, []*RowError) {
	blank := true
	for _, c := range cells {
		if strings.TrimSpace(c.text) != "" || len(c.items) > 0 {
			blank = false
			break
		}
	}
	if blank {
		return nil, nil
	}
	var errs []*RowError
	names := map[string]string{}
	reported := map[string]bool{}
	fail := func(c cell, format string, args ...any) {
		errs = append(errs, &RowError{File: b.file, Row: row, Field: c.header, Message: fmt.Sprintf(format, args...)})
		reported[c.field.key()] = true
	}

	limit := b.opts.maxCellBytes()
	for i := range cells {
		c := &cells[i]
		size, chars := len(c.text), utf8.RuneCountInString(c.text)
		for _, it := range c.items {
			size, chars = size+len(it), chars+utf8.RuneCountInString(it)
		}
		if size > limit {
			// Maintainers count characters; the limit is in bytes, three to
			// a Chinese character.
			fail(*c, "单元格有 %d 个字（%d 字节），超过上限 %d 字节（约 %d 个汉字）", chars, size, limit, limit/3)
			c.text, c.items, c.field = "", nil, field{kind: fieldIgnore}
			continue
		}
		c.text = cleanText(c.text)
		for j := range c.items {
			c.items[j] = cleanText(c.items[j])
		}
	}

	e := &kb.Entry{Column: b.opts.Column, Fields: map[string]string{}}
	for _, c := range cells {
		if c.field.kind != fieldColumn {
			continue
		}
		names["column"] = c.header
		if v := strings.TrimSpace(c.text); v != "" {
			col, err := kb.ParseColumn(v)
			if err != nil {
				fail(c, "%s", kb.ErrorMessage(err))
				e.Column = ""
				continue
			}
			e.Column = col
		}
	}
	if e.Column == "" && !reported["column"] {
		errs = append(errs, &RowError{File: b.file, Row: row, Field: "栏目", Message: "未指定栏目：请填写“栏目”，或在上传时指定默认栏目"})
		reported["column"] = true
	}

	set := func(c cell, dst *string) {
		if strings.TrimSpace(*dst) != "" && strings.TrimSpace(c.text) != "" {
			fail(c, "“%s”与“%s”是同一字段，只能填写一个", c.header, names[c.field.key()])
			return
		}
		if strings.TrimSpace(c.text) != "" || names[c.field.key()] == "" {
			names[c.field.key()] = c.header
		}
		if strings.TrimSpace(c.text) != "" {
			*dst = c.text
		}
	}
	for _, c := range cells {
		if c.array {
			switch c.field.kind {
			case fieldKeywords, fieldSimilar, fieldContent, fieldColumnField, fieldIgnore:
				c.text = strings.Join(c.items, "\n")
			default:
				fail(c, "“%s”应为文本，不能是数组", c.header)
				continue
			}
		}
		switch c.field.kind {
		case fieldExternalID:
			set(c, &e.ExternalID)
		case fieldTitle:
			set(c, &e.Title)
		case fieldContent:
			set(c, &e.Content)
		case fieldDepartment:
			set(c, &e.Department)
		case fieldMatter:
			set(c, &e.Matter)
		case fieldKeywords:
			names["keywords"] = c.header
			if c.array {
				e.Keywords = append(e.Keywords, c.items...)
			} else {
				e.Keywords = append(e.Keywords, splitItems(c.text, true)...)
			}
		case fieldSimilar:
			names["similar"] = c.header
			if c.array {
				e.Similar = append(e.Similar, c.items...)
			} else {
				e.Similar = append(e.Similar, splitItems(c.text, false)...)
			}
		case fieldColumnField:
			if strings.TrimSpace(c.text) == "" || !e.Column.Valid() {
				continue
			}
			if _, ok := e.Column.FieldSpec(c.field.code); !ok {
				fail(c, "栏目“%s”没有“%s”字段", e.Column.Name(), c.header)
				continue
			}
			v := e.Fields[c.field.code]
			set(c, &v)
			e.Fields[c.field.code] = v
		}
	}
	if e.Department == "" {
		e.Department = b.opts.Department
	}
	errs = append(errs, b.u.finish(b.file, row, e, names, reported)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return &Record{File: b.file, Row: row, Entry: e, Interpretation: e.Fields[kb.FieldInterpretation]}, nil
}

// header is the resolved header row of a spreadsheet or CSV file.
type header struct {
	texts  []string
	fields []field
	known  []bool
	// dates marks the columns that hold dates, for Excel serial numbers.
	dates []bool
}

// columnName is a spreadsheet column's letter, A for the first.
func columnName(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprint(i + 1)
	}
	return name
}

// readHeader resolves the header row (the first row that is not blank,
// normally row 1) and reports unknown, repeated and missing headers. Any
// problem rejects the whole file.
func (b *rowBuilder) readHeader(row int, texts []string) (*header, []*RowError) {
	h := &header{texts: make([]string, len(texts)), fields: make([]field, len(texts)), known: make([]bool, len(texts)), dates: make([]bool, len(texts))}
	var errs []*RowError
	fail := func(i int, format string, args ...any) {
		errs = append(errs, &RowError{File: b.file, Row: row, Field: h.texts[i], Message: fmt.Sprintf(format, args...)})
	}
	type seenHeader struct {
		col   int
		label string
	}
	if i, ok := loneCell(texts); ok {
		if _, known := resolveHeader(texts[i], b.opts.Map); !known {
			// A title above the table (2031年政策文件清单, often merged
			// across its width) or a note: no --map can make it a header.
			t := strings.TrimSpace(strings.TrimPrefix(texts[i], "\ufeff"))
			return nil, []*RowError{{File: b.file, Row: row, Field: t, Message: fmt.Sprintf(
				"第 %d 行只有一个单元格“%s”（第 %s 列），不是表头：表头这一行要写明每一列的名称（如 编号、标题、内容）。如是表格的大标题或说明文字，请删除这一行，让表头成为第一行", row, t, columnName(i))}}
		}
	}
	seen := map[string][]seenHeader{}
	for i, t := range texts {
		t = strings.TrimSpace(strings.TrimPrefix(t, "\ufeff"))
		h.texts[i] = t
		if t == "" {
			continue
		}
		f, ok := resolveHeader(t, b.opts.Map)
		if !ok {
			fail(i, "未知表头“%s”（第 %s 列）：可用的表头有 标题、内容、部门、相似问法、关键词、事项、编号、栏目 和各栏目的字段（如 文号、实施日期、电话），也可以用 --map %s=字段 指定它的含义，或用 --map %s=- 忽略这一列",
				t, columnName(i), t, t)
			continue
		}
		h.fields[i], h.known[i] = f, true
		if f.kind == fieldIgnore {
			continue
		}
		if f.kind == fieldColumnField {
			for _, col := range kb.Columns {
				if spec, ok := col.FieldSpec(f.code); ok && spec.Kind == kb.KindDate {
					h.dates[i] = true
				}
			}
		}
		// Two headers may share a field only when they are different labels
		// of one code: 服务时间 (hotline) and 办公时间 (department) in a file
		// that mixes the two columns.
		dupOf := -1
		for _, s := range seen[f.key()] {
			if f.kind != fieldColumnField || s.label == "" || f.label == "" || s.label == f.label {
				dupOf = s.col
				break
			}
		}
		if dupOf >= 0 {
			fail(i, "表头“%s”（第 %s 列）与第 %s 列“%s”是同一字段", t, columnName(i), columnName(dupOf), h.texts[dupOf])
			continue
		}
		seen[f.key()] = append(seen[f.key()], seenHeader{col: i, label: f.label})
	}
	if len(errs) > 0 {
		return nil, errs
	}

	has := map[fieldKind]bool{}
	for i, f := range h.fields {
		if h.known[i] {
			has[f.kind] = true
		}
	}
	var missing []string
	if !has[fieldTitle] {
		missing = append(missing, "标题（或 问题、用户问题、title）")
	}
	if !has[fieldContent] && !has[fieldColumn] && b.opts.Column != kb.ColumnHotline && b.opts.Column != kb.ColumnDepartment {
		missing = append(missing, "内容（或 答案、答复口径、正文、content、answer）")
	}
	if !has[fieldColumn] && b.opts.Column == "" {
		missing = append(missing, "栏目（或在上传时指定默认栏目）")
	}
	if !has[fieldDepartment] && b.opts.Department == "" {
		missing = append(missing, "部门（或在上传时指定默认部门）")
	}
	if len(missing) > 0 {
		return nil, []*RowError{{File: b.file, Row: row, Message: "表头缺少必需的列：" + strings.Join(missing, "、")}}
	}
	return h, nil
}

// take builds the record of a data row and hands it to fn. saw tells
// whether the row held data: a record or errors.
func (b *rowBuilder) take(h *header, row int, texts []string, fn func(*Record) error) (rowErrs []*RowError, saw bool, err error) {
	rec, rowErrs := b.row(h, row, texts)
	if rec != nil {
		err = callback(fn, rec)
	}
	return rowErrs, rec != nil || rowErrs != nil, err
}

// row builds the record of a spreadsheet row from its cell texts.
func (b *rowBuilder) row(h *header, row int, texts []string) (*Record, []*RowError) {
	cells := make([]cell, 0, len(h.texts))
	var errs []*RowError
	for i, t := range texts {
		if i >= len(h.texts) || h.texts[i] == "" {
			if strings.TrimSpace(t) != "" {
				errs = append(errs, &RowError{File: b.file, Row: row, Field: "第 " + columnName(i) + " 列",
					Message: fmt.Sprintf("第 %s 列有内容，但这一列没有表头（表头共 %d 列）", columnName(i), len(h.texts))})
			}
			continue
		}
		cells = append(cells, cell{header: h.texts[i], field: h.fields[i], text: t})
	}
	rec, rowErrs := b.build(row, cells)
	if len(errs) > 0 {
		if rec == nil && rowErrs == nil {
			return nil, errs // a row with nothing but stray cells
		}
		return nil, append(errs, rowErrs...)
	}
	return rec, rowErrs
}

// loneCell returns the only non-empty cell of a row, when there is
// exactly one and it is not a delimited line that a CSV file with another
// separator would read as one cell.
func loneCell(texts []string) (int, bool) {
	at := -1
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		if at >= 0 {
			return 0, false
		}
		at = i
	}
	if at < 0 || strings.ContainsAny(texts[at], ",;\t|") {
		return 0, false
	}
	return at, true
}

// blankRow reports whether every cell of a row is empty.
func blankRow(texts []string) bool {
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			return false
		}
	}
	return true
}

// invalidText reports whether a decoded cell holds bytes that were not
// text in the file's encoding.
func invalidText(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError)
}
