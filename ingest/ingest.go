// Package ingest turns maintainers' files into kb.Entry values. It knows
// nothing of HTTP or storage.
//
// Tabular files (XLSX, CSV, JSON, JSONL) hold one entry per row; Markdown,
// DOCX and HTML files hold one entry each. Every parser streams: it hands
// each valid record to a callback as soon as the row is read and collects a
// RowError for every row it rejects.
//
// The header row of a spreadsheet or CSV file (and the keys of JSON
// objects) name the fields, in Chinese or English: 标题/问题/用户问题/title,
// 内容/答案/答复口径/正文/content/answer, 部门/责任部门/处理单位/department,
// 相似问法/相似问题/similar, 关键词/关键字/keywords, 事项/matter,
// 编号/id/external_id, 栏目/column, and each column's own fields by label or
// code (文号, 实施日期, 电话, …). A cell with several similar questions or
// keywords holds one per line, or separates them with ；;|、 (keywords also
// with ，,). The writers produce files in the same layout.
package ingest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"xiaoshen/kb"
)

// RowError is a problem with one row (or file) of an upload, named by file,
// row or line, and field.
type RowError struct {
	File    string `json:"file"`
	Row     int    `json:"row,omitempty"` // 1-based row or line; 0 for the whole file
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Err is the underlying cause of a fatal error, kept for logs; Message
	// is what users see.
	Err error `json:"-"`
}

// Error describes the problem with its place, for logs and the command line.
func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Row > 0 {
		fmt.Fprintf(&b, ":%d", e.Row)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " [%s]", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.Err != nil {
		fmt.Fprintf(&b, " (%v)", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying cause of a fatal error.
func (e *RowError) Unwrap() error { return e.Err }

// Record is one parsed entry with where it came from.
type Record struct {
	File string
	// Row is the row as a spreadsheet shows it (the header is row 1), the
	// line of a JSONL file, the position in a JSON array, 1 for Markdown and
	// 0 for DOCX and HTML files.
	Row   int
	Entry *kb.Entry
	// Interpretation is the external id of a policy's 解读 entry, if given.
	Interpretation string
}

// DefaultMaxCellBytes is the largest cell a tabular file may hold unless
// Options.MaxCellBytes says otherwise.
const DefaultMaxCellBytes = 64 << 10

// Options tell a parser what a file does not say itself.
type Options struct {
	// Column is the column of rows (and documents) that do not name one.
	Column kb.Column
	// Department is the responsible department of rows that do not name one.
	Department string
	// Sheet is the XLSX sheet to read; the first sheet when empty.
	Sheet string
	// Encoding of a CSV file: "" to detect, "utf-8", "gbk" or "gb18030".
	Encoding string
	// Map overrides header meanings, 表头 → field, as given by --map
	// 表头=field. The field may be any name a header may have (title, 标题,
	// 实施日期, effective_on, …), or "-" to ignore the column on purpose.
	Map map[string]string
	// MaxCellBytes is the largest cell of a tabular file, in bytes; larger
	// cells are a row error. Zero means DefaultMaxCellBytes.
	MaxCellBytes int
}

func (o Options) maxCellBytes() int {
	if o.MaxCellBytes > 0 {
		return o.MaxCellBytes
	}
	return DefaultMaxCellBytes
}

// Upload parses the files of one upload and remembers what it has seen, so
// that a title repeated within a column, or an external id repeated, is
// reported even when the two rows sit in different files. It is not safe
// for concurrent use.
type Upload struct {
	titles map[titleKey]place
	ids    map[string]place
}

type titleKey struct {
	column kb.Column
	title  string
}

// place is where a row was read.
type place struct {
	file string
	row  int
}

// NewUpload returns an empty upload.
func NewUpload() *Upload {
	return &Upload{titles: map[titleKey]place{}, ids: map[string]place{}}
}

// Supported reports whether ParseFile can read a file with this name.
func Supported(name string) bool {
	_, ok := formats[strings.ToLower(filepath.Ext(name))]
	return ok
}

type format func(u *Upload, name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error)

var formats = map[string]format{
	".xlsx":  (*Upload).parseXLSX,
	".csv":   (*Upload).parseCSV,
	".json":  (*Upload).parseJSON,
	".jsonl": (*Upload).parseJSONL,
	".md":    (*Upload).parseMarkdown,
	".docx":  (*Upload).parseDOCX,
	".html":  (*Upload).parseHTML,
	".htm":   (*Upload).parseHTML,
}

// ParseFile parses one file of a fresh upload; see Upload.ParseReader.
func ParseFile(path string, opts Options, fn func(*Record) error) ([]*RowError, error) {
	return NewUpload().ParseFile(path, opts, fn)
}

// ParseReader parses one file of a fresh upload; see Upload.ParseReader.
func ParseReader(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	return NewUpload().ParseReader(name, r, opts, fn)
}

// ParseFile opens path and parses it as Upload.ParseReader does, naming
// the file by its base name in errors.
func (u *Upload) ParseFile(path string, opts Options, fn func(*Record) error) ([]*RowError, error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, &RowError{File: name, Message: "无法打开文件", Err: fmt.Errorf("ingest: open %s: %w", path, err)}
	}
	defer f.Close()
	return u.ParseReader(name, f, opts, fn)
}

// ParseReader parses the file called name, choosing the format by its
// extension, and calls fn for every valid record in file order. It returns
// the problems of rejected rows (and of the header, in which case no row is
// read), and a non-nil error, usually a *RowError, when the file as a whole
// cannot be read or fn fails; records already passed to fn stay valid.
func (u *Upload) ParseReader(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	parse, ok := formats[strings.ToLower(filepath.Ext(name))]
	if !ok {
		return nil, &RowError{File: name, Message: "不支持的文件类型：应为 .xlsx、.csv、.json、.jsonl、.md、.docx、.html 或 .htm"}
	}
	if opts.Column != "" && !opts.Column.Valid() {
		return nil, &RowError{File: name, Field: "栏目", Message: fmt.Sprintf("默认栏目 %q 无效", opts.Column)}
	}
	if err := checkMap(opts.Map); err != nil {
		return nil, &RowError{File: name, Message: err.Error()}
	}
	return parse(u, name, r, opts, fn)
}

// peekStart returns a buffered reader over r and up to n of its first
// bytes, failing on an empty file.
func peekStart(name string, r io.Reader, n int) (*bufio.Reader, []byte, error) {
	br := bufio.NewReaderSize(r, n)
	head, err := br.Peek(n)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, nil, &RowError{File: name, Message: "读取文件失败", Err: fmt.Errorf("ingest: read %s: %w", name, err)}
	}
	if len(head) < n && len(strings.TrimSpace(strings.TrimPrefix(string(head), "\ufeff"))) == 0 {
		return nil, nil, &RowError{File: name, Message: "文件是空的"}
	}
	return br, head, nil
}

// callback runs fn and wraps its error with the file it was reading.
func callback(fn func(*Record) error, rec *Record) error {
	if err := fn(rec); err != nil {
		return fmt.Errorf("ingest: %s row %d: %w", rec.File, rec.Row, err)
	}
	return nil
}
