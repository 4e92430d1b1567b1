package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"
)

// openJSONText checks that a JSON or JSONL file is UTF-8, as JSON must be,
// and returns a reader past any byte order mark.
func openJSONText(name string, r io.Reader) (*bufio.Reader, error) {
	br, head, err := peekStart(name, r, sniffBytes)
	if err != nil {
		return nil, err
	}
	if _, err := detectEncoding(head, len(head) < sniffBytes, "utf-8"); err != nil {
		return nil, &RowError{File: name, Message: err.Error()}
	}
	if !utf8.Valid(trimPartialRune(head, len(head) < sniffBytes)) {
		return nil, &RowError{File: name, Message: "文件不是 UTF-8 编码：JSON 文件必须使用 UTF-8"}
	}
	if bytes.HasPrefix(head, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
	return br, nil
}

// jsonProblem describes why a JSON text did not parse.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("不是有效的 JSON（第 %d 个字节附近）", se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "JSON 不完整，文件在中途结束"
	}
	return "不是有效的 JSON"
}

// jsonKeys resolves the keys of a JSON file's objects, once per key.
type jsonKeys struct {
	opts  Options
	known map[string]field
}

func (k *jsonKeys) resolve(key string) (field, bool) {
	if f, ok := k.known[key]; ok {
		return f, true
	}
	f, ok := resolveHeader(key, k.opts.Map)
	if ok {
		k.known[key] = f
	}
	return f, ok
}

// object builds the record of one JSON object; row is its line (JSONL) or
// position in the array (JSON).
func (b *rowBuilder) object(keys *jsonKeys, row int, data []byte) (*Record, []*RowError) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		var te *json.UnmarshalTypeError
		if err == nil || errors.As(err, &te) {
			return nil, []*RowError{{File: b.file, Row: row, Message: "应为 JSON 对象，例如 {\"标题\": \"…\", \"内容\": \"…\"}"}}
		}
		return nil, []*RowError{{File: b.file, Row: row, Message: jsonProblem(err)}}
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	var errs []*RowError
	cells := make([]cell, 0, len(names))
	for _, k := range names {
		fail := func(format string, args ...any) {
			errs = append(errs, &RowError{File: b.file, Row: row, Field: k, Message: fmt.Sprintf(format, args...)})
		}
		f, ok := keys.resolve(k)
		if !ok {
			fail("未知字段“%s”：可用的字段有 标题、内容、部门、相似问法、关键词、事项、编号、栏目 和各栏目的字段（如 文号、实施日期、电话），也可以用 --map %s=字段 指定它的含义", k, k)
			continue
		}
		c := cell{header: k, field: f}
		if err := jsonValue(obj[k], &c); err != nil {
			fail("“%s”的值%s", k, err.Error())
			continue
		}
		if invalidText(c.text) || slicesAny(c.items, invalidText) {
			fail("“%s”含有不是 UTF-8 编码的字节", k)
			continue
		}
		cells = append(cells, c)
	}
	rec, rowErrs := b.build(row, cells)
	if len(errs) > 0 {
		return nil, append(errs, rowErrs...)
	}
	return rec, rowErrs
}

func slicesAny(items []string, pred func(string) bool) bool {
	for _, s := range items {
		if pred(s) {
			return true
		}
	}
	return false
}

// jsonValue reads a JSON value into a cell: a string, a number as written,
// null as empty, or an array of strings and numbers.
func jsonValue(raw json.RawMessage, c *cell) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		return json.Unmarshal(raw, &c.text)
	case 'n':
		return nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		c.array = true
		for _, it := range items {
			var sub cell
			if err := jsonValue(it, &sub); err != nil || sub.array {
				return errors.New("应为文本、数字或文本数组：数组中只能有文本或数字")
			}
			c.items = append(c.items, sub.text)
		}
		return nil
	case '{', 't', 'f':
		return errors.New("应为文本、数字或文本数组")
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return errors.New("应为文本、数字或文本数组")
	}
	c.text = n.String()
	return nil
}

func (u *Upload) parseJSON(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	br, err := openJSONText(name, r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(br)
	tok, err := dec.Token()
	if err != nil {
		return nil, &RowError{File: name, Message: jsonProblem(err), Err: err}
	}
	if tok != json.Delim('[') {
		return nil, &RowError{File: name, Message: "JSON 文件应为对象数组：以 [ 开头，每一项是一个对象；一行一个对象请用 .jsonl 文件"}
	}
	b := &rowBuilder{u: u, file: name, opts: opts}
	keys := &jsonKeys{opts: opts, known: map[string]field{}}
	var errs []*RowError
	items := 0
	for dec.More() {
		items++
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return errs, &RowError{File: name, Row: items, Message: jsonProblem(err) + "，之后的内容无法读取", Err: err}
		}
		rec, rowErrs := b.object(keys, items, raw)
		errs = append(errs, rowErrs...)
		if rec != nil {
			if err := callback(fn, rec); err != nil {
				return errs, err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return errs, &RowError{File: name, Message: jsonProblem(err) + "：数组没有以 ] 结束", Err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errs, &RowError{File: name, Message: "JSON 数组结束后还有多余的内容", Err: err}
	}
	if items == 0 {
		errs = append(errs, &RowError{File: name, Message: "JSON 数组是空的，没有条目"})
	}
	return errs, nil
}

func (u *Upload) parseJSONL(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	br, err := openJSONText(name, r)
	if err != nil {
		return nil, err
	}
	b := &rowBuilder{u: u, file: name, opts: opts}
	keys := &jsonKeys{opts: opts, known: map[string]field{}}
	// A line holds every cell of a row; allow many full cells.
	limit := 32 * opts.maxCellBytes()
	var errs []*RowError
	sawData := false
	for line := 1; ; line++ {
		text, tooLong, err := readLine(br, limit)
		if err != nil && err != io.EOF {
			return errs, &RowError{File: name, Row: line, Message: "读取文件失败", Err: fmt.Errorf("ingest: read %s: %w", name, err)}
		}
		if tooLong {
			sawData = true
			errs = append(errs, &RowError{File: name, Row: line, Message: fmt.Sprintf("这一行超过 %d 字节，过长", limit)})
		} else if t := bytes.TrimSpace(text); len(t) > 0 {
			sawData = true
			rec, rowErrs := b.object(keys, line, t)
			errs = append(errs, rowErrs...)
			if rec != nil {
				if err := callback(fn, rec); err != nil {
					return errs, err
				}
			}
		}
		if err == io.EOF {
			break
		}
	}
	if !sawData {
		return nil, &RowError{File: name, Message: "文件是空的"}
	}
	return errs, nil
}

// readLine reads one line without its end. A line longer than limit is
// skipped and reported as too long rather than held in memory.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimSuffix(line, []byte("\n")), tooLong, err
	}
}
