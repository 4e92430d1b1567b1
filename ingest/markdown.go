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
func ParseMarkdown(name string, data []byte, defaultColumn kb.Column) (*Record, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	if !strings.HasPrefix(text, "---\n") {
		return nil, &RowError{File: name, Row: 1, Message: "文件应以 --- 开头的 YAML 头部（front matter）开始"}
	}
	end := strings.Index(text[4:], "\n---")
	if end < 0 {
		return nil, &RowError{File: name, Row: 1, Message: "YAML 头部缺少结束的 --- 行"}
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
		return nil, &RowError{File: name, Row: yamlLine(err) + 1, Message: "YAML 头部有误：" + err.Error()}
	}
	col := defaultColumn
	if fm.Column != "" {
		c, err := kb.ParseColumn(fm.Column)
		if err != nil {
			return nil, &RowError{File: name, Row: 1, Field: "column", Message: kb.ErrorMessage(err)}
		}
		col = c
	}
	if col == "" {
		return nil, &RowError{File: name, Row: 1, Field: "column", Message: "未指定栏目（column）"}
	}
	e := &kb.Entry{
		ExternalID: fm.ID, Column: col, Title: fm.Title, Content: body, Department: fm.Department,
		Matter: fm.Matter, Keywords: fm.Keywords, Similar: fm.Similar, Fields: fm.Fields,
	}
	rec := &Record{File: name, Row: 1, Entry: e, Interpretation: fm.Fields[kb.FieldInterpretation]}
	e.Normalize()
	if errs := e.Validate(); len(errs) > 0 {
		return nil, &RowError{File: name, Row: 1, Field: errs[0].Field, Message: errs[0].Message}
	}
	return rec, nil
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
