package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"xiaoshen/kb"
)

// EntryWriter writes entries to an export file, one row (or line) each,
// in the layout the parsers read back: parsing the file again yields
// entries with the same content.
type EntryWriter interface {
	// Write adds one entry.
	Write(e *kb.Entry) error
	// Close finishes the file; it does not close the underlying writer.
	Close() error
}

// NewWriter returns the writer for an export format: "csv", "xlsx" or
// "jsonl". col is the column being exported, or "" for all columns.
func NewWriter(format string, w io.Writer, col kb.Column) (EntryWriter, error) {
	switch strings.ToLower(strings.TrimPrefix(format, ".")) {
	case "csv":
		return NewCSVWriter(w, col)
	case "xlsx":
		return NewXLSXWriter(w, col)
	case "jsonl":
		return NewJSONLWriter(w, col)
	}
	return nil, kb.Errorf(kb.EINVALID, "不支持的导出格式 %q：应为 csv、xlsx 或 jsonl", format)
}

// WriteCSV writes entries of col ("" for all columns) as a CSV file.
func WriteCSV(w io.Writer, col kb.Column, entries []*kb.Entry) error {
	cw, err := NewCSVWriter(w, col)
	if err != nil {
		return err
	}
	return writeAll(cw, entries)
}

// WriteXLSX writes entries of col ("" for all columns) as an XLSX file.
func WriteXLSX(w io.Writer, col kb.Column, entries []*kb.Entry) error {
	xw, err := NewXLSXWriter(w, col)
	if err != nil {
		return err
	}
	return writeAll(xw, entries)
}

// WriteJSONL writes entries of col ("" for all columns) as JSON Lines.
func WriteJSONL(w io.Writer, col kb.Column, entries []*kb.Entry) error {
	jw, err := NewJSONLWriter(w, col)
	if err != nil {
		return err
	}
	return writeAll(jw, entries)
}

func writeAll(w EntryWriter, entries []*kb.Entry) error {
	for _, e := range entries {
		if err := w.Write(e); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// layout is the header of an export: the fields every column has, then
// the column's own fields by label.
type layout struct {
	col    kb.Column
	fields []kb.FieldSpec
}

// coreHeaders are written first, in this order.
var coreHeaders = []string{"编号", "栏目", "标题", "内容", "部门", "事项", "关键词", "相似问法"}

func newLayout(col kb.Column) (layout, error) {
	if col != "" && !col.Valid() {
		return layout{}, kb.Errorf(kb.EINVALID, "栏目 %q 无效", col)
	}
	if col != "" {
		return layout{col: col, fields: col.Fields()}, nil
	}
	// All columns: every label once. 服务时间 and 办公时间 stay two
	// headers although they share a code, so each column keeps its word.
	l := layout{}
	seen := map[string]bool{}
	for _, c := range kb.Columns {
		for _, spec := range c.Fields() {
			if !seen[spec.Label] {
				seen[spec.Label] = true
				l.fields = append(l.fields, spec)
			}
		}
	}
	return l, nil
}

func (l layout) headers() []string {
	h := append([]string(nil), coreHeaders...)
	for _, spec := range l.fields {
		h = append(h, spec.Label)
	}
	return h
}

// fieldOf returns the entry's value for a header field, if the entry's
// column has a field with that label.
func fieldOf(e *kb.Entry, spec kb.FieldSpec) (string, bool) {
	own, ok := e.Column.FieldSpec(spec.Label)
	if !ok || own.Code != spec.Code {
		return "", false
	}
	return e.Fields[spec.Code], true
}

// row returns the cells of an entry, or an error when the layout cannot
// hold all of it.
func (l layout) row(e *kb.Entry) ([]string, error) {
	if l.col != "" && e.Column != l.col {
		return nil, kb.Errorf(kb.EINVALID, "条目“%s”属于栏目%s，不能导出到栏目%s的文件", e.Title, e.Column.Name(), l.col.Name())
	}
	cells := []string{
		e.ExternalID, e.Column.Name(), e.Title, e.Content, e.Department, e.Matter,
		joinItems(e.Keywords, true), joinItems(e.Similar, false),
	}
	written := 0
	for _, spec := range l.fields {
		v, ok := fieldOf(e, spec)
		if ok && v != "" {
			written++
		}
		cells = append(cells, v)
	}
	if err := checkAllFields(e, written); err != nil {
		return nil, err
	}
	return cells, nil
}

// checkAllFields fails when an entry has fields its column does not
// define, which an export would silently lose.
func checkAllFields(e *kb.Entry, written int) error {
	nonEmpty := 0
	for _, v := range e.Fields {
		if v != "" {
			nonEmpty++
		}
	}
	if written == nonEmpty {
		return nil
	}
	for code, v := range e.Fields {
		if _, ok := e.Column.FieldSpec(code); !ok && v != "" {
			return kb.Errorf(kb.EINVALID, "条目“%s”有栏目%s没有的字段 %q，无法导出", e.Title, e.Column.Name(), code)
		}
	}
	return kb.Errorf(kb.EINVALID, "条目“%s”的字段无法全部导出", e.Title)
}

// joinItems writes several items in one cell, one per line. A single item
// that a parser would split on its punctuation gets a trailing line break,
// which makes the parser split on lines only.
func joinItems(items []string, commas bool) string {
	s := strings.Join(items, "\n")
	if len(items) == 1 && len(splitItems(s, commas)) != 1 {
		s += "\n"
	}
	return s
}

// CSVWriter writes a CSV file that Excel opens as UTF-8.
type CSVWriter struct {
	w      *csv.Writer
	layout layout
}

// NewCSVWriter writes the byte order mark and the header row; col is the
// column being exported, or "" for all columns.
func NewCSVWriter(w io.Writer, col kb.Column) (*CSVWriter, error) {
	l, err := newLayout(col)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(utf8BOM); err != nil {
		return nil, fmt.Errorf("ingest: write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(l.headers()); err != nil {
		return nil, fmt.Errorf("ingest: write csv: %w", err)
	}
	return &CSVWriter{w: cw, layout: l}, nil
}

// Write adds one entry as a row.
func (w *CSVWriter) Write(e *kb.Entry) error {
	cells, err := w.layout.row(e)
	if err != nil {
		return err
	}
	for i, c := range cells {
		cells[i] = guardFormula(c)
	}
	if err := w.w.Write(cells); err != nil {
		return fmt.Errorf("ingest: write csv: %w", err)
	}
	return nil
}

// Close flushes the rows written so far.
func (w *CSVWriter) Close() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("ingest: write csv: %w", err)
	}
	return nil
}

// formulaStarts are the first characters that make a spreadsheet read a
// CSV cell as a formula: =1+1, but also +, -, @ and a leading tab or
// carriage return. An exported entry (a citizen's question, say) must not
// run as a formula when a maintainer opens the file in Excel or WPS.
const formulaStarts = "=+-@\t\r"

// guardFormula prefixes a cell that a spreadsheet would read as a formula
// with an apostrophe, which shows it as text; unguardFormula removes it
// when the file is uploaded again, so the round trip keeps the text.
func guardFormula(cell string) string {
	if cell != "" && strings.IndexByte(formulaStarts, cell[0]) >= 0 {
		return "'" + cell
	}
	return cell
}

// unguardFormula undoes guardFormula: an apostrophe followed by a formula
// start is dropped.
func unguardFormula(cell string) string {
	if len(cell) >= 2 && cell[0] == '\'' && strings.IndexByte(formulaStarts, cell[1]) >= 0 {
		return cell[1:]
	}
	return cell
}

// excelCellLimit is the most characters (UTF-16 units) an Excel cell holds.
const excelCellLimit = 32767

// XLSXWriter writes an XLSX workbook with one sheet, streaming its rows.
type XLSXWriter struct {
	out    io.Writer
	file   *excelize.File
	sheet  *excelize.StreamWriter
	layout layout
	row    int
	wrap   int // the style of cells that hold several lines
}

// NewXLSXWriter starts a workbook with its header row; col is the column
// being exported, or "" for all columns.
func NewXLSXWriter(w io.Writer, col kb.Column) (*XLSXWriter, error) {
	l, err := newLayout(col)
	if err != nil {
		return nil, err
	}
	f := excelize.NewFile()
	fail := func(err error) (*XLSXWriter, error) {
		f.Close()
		return nil, fmt.Errorf("ingest: write xlsx: %w", err)
	}
	name := "知识库"
	if col != "" {
		name = col.Name()
	}
	if err := f.SetSheetName(f.GetSheetName(0), name); err != nil {
		return fail(err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return fail(err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fail(err)
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return fail(err)
	}
	headers := l.headers()
	for i, h := range headers {
		width := 16.0
		switch h {
		case "标题", "相似问法":
			width = 36
		case "内容":
			width = 60
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return fail(err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fail(err)
	}
	cells := make([]any, len(headers))
	for i, h := range headers {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return fail(err)
	}
	return &XLSXWriter{out: w, file: f, sheet: sw, layout: l, row: 1, wrap: wrap}, nil
}

// Write adds one entry as a row. A cell longer than Excel allows is an
// error rather than being cut short.
func (w *XLSXWriter) Write(e *kb.Entry) error {
	texts, err := w.layout.row(e)
	if err != nil {
		return err
	}
	headers := w.layout.headers()
	cells := make([]any, len(texts))
	for i, t := range texts {
		if n := len(utf16.Encode([]rune(t))); n > excelCellLimit {
			return kb.Errorf(kb.EINVALID, "条目“%s”的“%s”有 %d 个字符，超过 Excel 单元格上限 %d，请改为导出 CSV 或 JSONL", e.Title, headers[i], n, excelCellLimit)
		}
		if strings.Contains(t, "\n") {
			cells[i] = excelize.Cell{StyleID: w.wrap, Value: t}
		} else {
			cells[i] = t
		}
	}
	w.row++
	cell, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return fmt.Errorf("ingest: write xlsx: %w", err)
	}
	if err := w.sheet.SetRow(cell, cells); err != nil {
		return fmt.Errorf("ingest: write xlsx row %d: %w", w.row, err)
	}
	return nil
}

// Close writes the workbook to the underlying writer.
func (w *XLSXWriter) Close() error {
	defer w.file.Close()
	if err := w.sheet.Flush(); err != nil {
		return fmt.Errorf("ingest: write xlsx: %w", err)
	}
	if _, err := w.file.WriteTo(w.out); err != nil {
		return fmt.Errorf("ingest: write xlsx: %w", err)
	}
	return nil
}

// JSONLWriter writes one JSON object per line, with Chinese keys in the
// order of the spreadsheet headers and lists as arrays.
type JSONLWriter struct {
	w      *bufio.Writer
	layout layout
}

// NewJSONLWriter returns a JSON Lines writer; col is the column being
// exported, or "" for all columns.
func NewJSONLWriter(w io.Writer, col kb.Column) (*JSONLWriter, error) {
	l, err := newLayout(col)
	if err != nil {
		return nil, err
	}
	return &JSONLWriter{w: bufio.NewWriter(w), layout: l}, nil
}

// Write adds one entry as a line; its object holds the fields of the
// entry's own column.
func (w *JSONLWriter) Write(e *kb.Entry) error {
	if _, err := w.layout.row(e); err != nil {
		return err
	}
	keywords, similar := e.Keywords, e.Similar
	if keywords == nil {
		keywords = []string{}
	}
	if similar == nil {
		similar = []string{}
	}
	values := []any{e.ExternalID, e.Column.Name(), e.Title, e.Content, e.Department, e.Matter, keywords, similar}
	keys := append([]string(nil), coreHeaders...)
	for _, spec := range e.Column.Fields() {
		keys = append(keys, spec.Label)
		values = append(values, e.Fields[spec.Code])
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(k); err != nil {
			return fmt.Errorf("ingest: write jsonl: %w", err)
		}
		buf.Truncate(buf.Len() - 1) // Encode ends each value with a newline
		buf.WriteByte(':')
		if err := enc.Encode(values[i]); err != nil {
			return fmt.Errorf("ingest: write jsonl: %w", err)
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteString("}\n")
	if _, err := w.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("ingest: write jsonl: %w", err)
	}
	return nil
}

// Close flushes the lines written so far.
func (w *JSONLWriter) Close() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("ingest: write jsonl: %w", err)
	}
	return nil
}
