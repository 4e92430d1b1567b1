package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"xiaoshen/kb"
)

// stringList accepts a YAML list or a single string split on commas.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = splitList(n.Value)
		return nil
	case yaml.SequenceNode:
		var items []string
		if err := n.Decode(&items); err != nil {
			return err
		}
		*l = items
		return nil
	}
	return fmt.Errorf("line %d: expected a list or a string", n.Line)
}

// splitList splits a cell such as "a，b；c" or "a|b" into items.
func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == '，' || r == ';' || r == '；' || r == '|' || r == '、' || r == '\n'
	})
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type frontMatter struct {
	ID         string            `yaml:"id"`
	Column     string            `yaml:"column"`
	Title      string            `yaml:"title"`
	Department string            `yaml:"department"`
	Matter     string            `yaml:"matter"`
	Keywords   stringList        `yaml:"keywords"`
	Similar    stringList        `yaml:"similar"`
	Fields     map[string]string `yaml:"fields"`
}

// ParseMarkdown parses one entry: YAML front matter between "---" lines,
// then the content. defaultColumn applies when the front matter names none.
// It returns the first problem found, as a *RowError.
func ParseMarkdown(name string, data []byte, defaultColumn kb.Column) (*Record, error) {
	rec, errs := parseMarkdown(name, data, Options{Column: defaultColumn})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return rec, nil
}

// parseMarkdown parses one Markdown entry and returns every problem.
func parseMarkdown(name string, data []byte, opts Options) (*Record, []*RowError) {
	e, names, errs := readMarkdown(name, data, opts)
	if errs != nil {
		return nil, errs
	}
	e.Normalize()
	var out []*RowError
	for _, fe := range e.Validate() {
		field := fe.Field
		if n, ok := names[field]; ok {
			field = n
		}
		out = append(out, &RowError{File: name, Row: 1, Field: field, Message: fe.Message})
	}
	if len(out) > 0 {
		return nil, out
	}
	return &Record{File: name, Row: 1, Entry: e, Interpretation: e.Fields[kb.FieldInterpretation]}, nil
}

// readMarkdown reads a Markdown entry without validating it. names maps a
// field code to the key the front matter used for it.
func readMarkdown(name string, data []byte, opts Options) (*kb.Entry, map[string]string, []*RowError) {
	fail := func(row int, field, msg string) (*kb.Entry, map[string]string, []*RowError) {
		return nil, nil, []*RowError{{File: name, Row: row, Field: field, Message: msg}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	if !strings.HasPrefix(text, "---\n") {
		return fail(1, "", "文件应以 --- 开头的 YAML 头部（front matter）开始")
	}
	end := strings.Index(text[4:], "\n---")
	if end < 0 {
		return fail(1, "", "YAML 头部缺少结束的 --- 行")
	}
	head := text[4 : 4+end]
	body := text[4+end+4:]
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	} else {
		body = ""
	}
	var fm frontMatter
	dec := yaml.NewDecoder(strings.NewReader(head))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil && !errors.Is(err, io.EOF) {
		return fail(yamlLine(err)+1, "", "YAML 头部有误："+err.Error())
	}
	col := opts.Column
	if fm.Column != "" {
		c, err := kb.ParseColumn(fm.Column)
		if err != nil {
			return fail(1, "column", kb.ErrorMessage(err))
		}
		col = c
	}
	if col == "" {
		return fail(1, "column", "未指定栏目（column）")
	}
	if fm.Department == "" {
		fm.Department = opts.Department
	}
	names := map[string]string{"title": "title", "department": "department", "column": "column", "external_id": "id"}
	for k := range fm.Fields {
		if spec, ok := col.FieldSpec(k); ok {
			names[spec.Code] = k
		}
	}
	e := &kb.Entry{
		ExternalID: fm.ID, Column: col, Title: fm.Title, Content: body, Department: fm.Department,
		Matter: fm.Matter, Keywords: fm.Keywords, Similar: fm.Similar, Fields: fm.Fields,
	}
	return e, names, nil
}

// markdownLimit bounds the Markdown file read into memory.
const markdownLimit = 16 << 20

func (u *Upload) parseMarkdown(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	br, _, err := peekStart(name, r, 512)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(br, markdownLimit+1))
	if err != nil {
		return nil, &RowError{File: name, Message: "读取文件失败", Err: fmt.Errorf("ingest: read %s: %w", name, err)}
	}
	if len(data) > markdownLimit {
		return nil, &RowError{File: name, Message: fmt.Sprintf("文件超过 %d MB，过大", markdownLimit>>20)}
	}
	if !utf8.Valid(data) {
		return nil, &RowError{File: name, Message: "文件不是 UTF-8 编码：Markdown 文件必须使用 UTF-8"}
	}
	e, names, errs := readMarkdown(name, data, opts)
	if errs != nil {
		return errs, nil
	}
	if errs := u.finish(name, 1, e, names, nil); len(errs) > 0 {
		return errs, nil
	}
	return nil, callback(fn, &Record{File: name, Row: 1, Entry: e, Interpretation: e.Fields[kb.FieldInterpretation]})
}

// yamlLine digs the line number out of a yaml.v3 error, or returns 0.
func yamlLine(err error) int {
	var n int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i+5:], "%d", &n)
	}
	return n
}

// ParseMarkdownFS parses every .md file below root in fsys, taking the
// column from a file's front matter or else from its folder name. Files
// named README.md are skipped. All problems are returned together.
func ParseMarkdownFS(fsys fs.FS, root string) ([]*Record, []error) {
	var recs []*Record
	var errs []error
	var names []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") && path.Base(p) != "README.md" {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, []error{err}
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		col, _ := kb.ParseColumn(path.Base(path.Dir(name)))
		rec, err := ParseMarkdown(name, data, col)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, rec)
	}
	return recs, errs
}
