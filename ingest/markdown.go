package ingest

import (
	"bytes"
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

// frontKey is one key of the front matter, resolved like a table header.
type frontKey struct {
	name  string // as written
	line  int    // in the file
	field field
	value *yaml.Node
}

// readFrontMatter reads the YAML head of a Markdown entry into e. Its keys
// are the names a table header may have (标题 or title, 发布日期 or
// published_on …), and a fields map holds column fields as before. names
// maps a field's key to the name the file wrote for it; col is the column
// the upload gives when the head names none.
func readFrontMatter(file, head string, col kb.Column, e *kb.Entry, names map[string]string, lines map[string]int) *RowError {
	fail := func(line int, key, format string, args ...any) *RowError {
		return &RowError{File: file, Row: line, Field: key, Message: fmt.Sprintf(format, args...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(head), &doc); err != nil {
		// yaml.v3 says what is wrong in English, after a Chinese hint. Its
		// line is where the construct began for a parser error and where
		// the scanner stopped otherwise, so the mistake may be a line on.
		switch line := yamlLine(err); {
		case strings.Contains(err.Error(), "unexpected end of stream"):
			return fail(1, "", "YAML 头部格式有误：有引号或括号没有闭合（%s）", yamlDetail(err))
		case line == 0:
			return fail(1, "", "YAML 头部格式有误：请检查冒号、缩进、引号和括号（%s）", yamlDetail(err))
		default:
			return fail(line+1, "", "YAML 头部格式有误：请检查这一行及下一行的冒号、缩进、引号和括号（%s）", yamlDetail(err))
		}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == 0 {
		return nil // an empty head
	}
	if root.Kind != yaml.MappingNode {
		return fail(root.Line+1, "", "YAML 头部应为“键: 值”的形式，每行一个，如 标题: 某问题")
	}
	var keys []frontKey
	var unknown, fieldsKey *frontKey
	seen := map[string]frontKey{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		// The head starts on the file's second line.
		k := frontKey{name: root.Content[i].Value, line: root.Content[i].Line + 1, value: root.Content[i+1]}
		lines[k.name] = k.line
		if foldHeader(k.name) == "fields" {
			if fieldsKey != nil {
				return fail(k.line, k.name, "fields 在第 %d 行已写过，只能写一次", fieldsKey.line)
			}
			fieldsKey = &k
			continue
		}
		f, ok := resolveHeader(k.name, nil)
		if !ok {
			if unknown == nil {
				unknown = &k
			}
			continue
		}
		if f.kind == fieldContent {
			return fail(k.line, k.name, "正文写在 YAML 头部结束的 --- 之后，头部不用“%s”", k.name)
		}
		if first, ok := seen[f.key()]; ok {
			return fail(k.line, k.name, "“%s”与第 %d 行的“%s”是同一字段，只能写一个", k.name, first.line, first.name)
		}
		k.field = f
		seen[f.key()] = k
		keys = append(keys, k)
	}
	text := func(k frontKey) (string, *RowError) {
		var s string
		if k.value.Kind != yaml.ScalarNode || k.value.Decode(&s) != nil {
			return "", fail(k.line, k.name, "“%s”应为文本", k.name)
		}
		return s, nil
	}
	for _, k := range keys {
		if k.field.kind != fieldColumn {
			continue
		}
		v, bad := text(k)
		if bad != nil {
			return bad
		}
		if v == "" {
			continue
		}
		c, err := kb.ParseColumn(v)
		if err != nil {
			return fail(k.line, k.name, "%s", kb.ErrorMessage(err))
		}
		col = c
	}
	e.Column = col
	if unknown != nil {
		return fail(unknown.line, unknown.name, "YAML 头部中未知的键“%s”：可用的键有 %s（见 README 的“Maintaining the KB (上传)”一节）",
			unknown.name, frontKeysText(e.Column))
	}
	if k := fieldsKey; k != nil {
		if k.value.Kind != yaml.MappingNode {
			return fail(k.line, k.name, "fields 应为“字段: 值”的列表")
		}
		// In the file's order, each field once, whether named at the top
		// or under fields, by its code or its Chinese name: two values for
		// one field would otherwise be merged in no fixed order.
		for i := 0; i+1 < len(k.value.Content); i += 2 {
			fk := frontKey{name: k.value.Content[i].Value, line: k.value.Content[i].Line + 1, value: k.value.Content[i+1]}
			v, bad := text(fk)
			if bad != nil {
				return bad
			}
			code := fk.name
			if f, ok := resolveHeader(fk.name, nil); ok && f.kind == fieldColumnField {
				code = f.code
				names[code] = fk.name
			}
			if first, ok := seen[code]; ok {
				return fail(fk.line, fk.name, "“%s”与第 %d 行的“%s”是同一字段，只能写一个", fk.name, first.line, first.name)
			}
			seen[code] = fk
			lines[fk.name] = fk.line
			e.Fields[fk.name] = v
		}
	}
	for _, k := range keys {
		names[k.field.key()] = k.name
		var dst *string
		switch k.field.kind {
		case fieldExternalID:
			dst = &e.ExternalID
		case fieldTitle:
			dst = &e.Title
		case fieldDepartment:
			dst = &e.Department
		case fieldMatter:
			dst = &e.Matter
		case fieldKeywords, fieldSimilar:
			var items stringList
			if err := k.value.Decode(&items); err != nil {
				return fail(k.line, k.name, "“%s”应为列表或用逗号分隔的文本", k.name)
			}
			if k.field.kind == fieldKeywords {
				e.Keywords = items
			} else {
				e.Similar = items
			}
		case fieldColumnField:
			if _, ok := e.Column.FieldSpec(k.field.code); e.Column.Valid() && !ok {
				return fail(k.line, k.name, "栏目“%s”没有“%s”字段", e.Column.Name(), k.name)
			}
			v, err := text(k)
			if err != nil {
				return err
			}
			e.Fields[k.field.code] = v
		}
		if dst != nil {
			v, err := text(k)
			if err != nil {
				return err
			}
			*dst = v
		}
	}
	return nil
}

// frontKeysText lists the keys a front matter may use, with the fields of
// col when it is known.
func frontKeysText(col kb.Column) string {
	var core []string
	for _, cf := range coreFields {
		if cf.kind == fieldContent {
			continue
		}
		name := cf.names[0]
		for _, n := range cf.names[1:] {
			if n[0] < utf8.RuneSelf {
				name += "（" + n + "）"
				break
			}
		}
		core = append(core, name)
	}
	out := strings.Join(core, "、")
	if !col.Valid() {
		return out + "，以及各栏目的字段（如 文号、发布日期、实施日期、电话）"
	}
	var own []string
	for _, spec := range col.Fields() {
		own = append(own, spec.Label)
	}
	if len(own) == 0 {
		return out
	}
	return out + "，以及栏目“" + col.Name() + "”的字段 " + strings.Join(own, "、")
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
	e, names, lines, errs := readMarkdown(name, data, opts)
	if errs != nil {
		return nil, errs
	}
	e.Normalize()
	var out []*RowError
	for _, fe := range e.Validate() {
		field := fieldName(fe.Field, e.Column)
		if n, ok := names[fe.Field]; ok {
			field = n
		}
		out = append(out, &RowError{File: name, Row: 1, Field: field, Message: fe.Message})
	}
	if len(out) > 0 {
		return nil, atKeyLines(out, lines)
	}
	return &Record{File: name, Row: 1, Entry: e, Interpretation: e.Fields[kb.FieldInterpretation]}, nil
}

// readMarkdown reads a Markdown entry without validating it. names maps a
// field code to the key the front matter used for it.
func readMarkdown(name string, data []byte, opts Options) (*kb.Entry, map[string]string, map[string]int, []*RowError) {
	fail := func(row int, field, msg string) (*kb.Entry, map[string]string, map[string]int, []*RowError) {
		return nil, nil, nil, []*RowError{{File: name, Row: row, Field: field, Message: msg}}
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
	e := &kb.Entry{Column: opts.Column, Content: body, Fields: map[string]string{}}
	names, lines := map[string]string{}, map[string]int{}
	if err := readFrontMatter(name, head, opts.Column, e, names, lines); err != nil {
		return nil, nil, nil, []*RowError{err}
	}
	if e.Column == "" {
		return fail(1, "栏目", "未指定栏目：在 YAML 头部写“栏目: 常见问题”（或 column），或上传时加 --column")
	}
	if e.Department == "" {
		e.Department = opts.Department
	}
	return e, names, lines, nil
}

// atKeyLines moves each problem reported at the head's first line to the
// line of the key it names, where the maintainer has to look.
func atKeyLines(errs []*RowError, lines map[string]int) []*RowError {
	for _, e := range errs {
		if l, ok := lines[e.Field]; ok && e.Row == 1 {
			e.Row = l
		}
	}
	return errs
}

// yamlDetail is a yaml.v3 error without its "yaml: line N:" prefix.
func yamlDetail(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(msg, "line ") {
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
	}
	return msg
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
	e, names, lines, errs := readMarkdown(name, data, opts)
	if errs != nil {
		return errs, nil
	}
	if errs := u.finish(name, 1, e, names, nil); len(errs) > 0 {
		return atKeyLines(errs, lines), nil
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
