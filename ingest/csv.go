package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// sniffBytes is how much of a text file is examined to detect its
// encoding; generous, because a file may start with many lines of ASCII
// before its first Chinese character.
const sniffBytes = 1 << 20

var utf8BOM = []byte("\xef\xbb\xbf")

// textEncoding is the encoding of a text file: nil for UTF-8.
type textEncoding struct {
	name string
	enc  encoding.Encoding
}

// detectEncoding decides how a text file starting with head is encoded.
// A requested encoding is honoured; otherwise a UTF-8 start means UTF-8
// and anything else must decode as GB18030, which is what Excel in China
// writes for "CSV (逗号分隔)" (GBK is a subset of it).
func detectEncoding(head []byte, atEOF bool, requested string) (textEncoding, error) {
	if bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) {
		return textEncoding{}, errors.New("文件是 UTF-16 编码，无法读取：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或“CSV（逗号分隔）”")
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return textEncoding{}, errors.New("文件不是文本文件（含有 0 字节，可能是 UTF-16 编码或二进制文件）")
	}
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(requested), "-", "")) {
	case "":
	case "utf8":
		return textEncoding{name: "UTF-8"}, nil
	case "gbk", "gb2312", "cp936":
		return textEncoding{name: "GBK", enc: simplifiedchinese.GBK}, nil
	case "gb18030":
		return textEncoding{name: "GB18030", enc: simplifiedchinese.GB18030}, nil
	default:
		return textEncoding{}, fmt.Errorf("不支持的编码 %q：应为 utf-8、gbk 或 gb18030", requested)
	}
	if bytes.HasPrefix(head, utf8BOM) {
		return textEncoding{name: "UTF-8"}, nil
	}
	if utf8.Valid(trimPartialRune(head, atEOF)) {
		return textEncoding{name: "UTF-8"}, nil
	}
	dst := make([]byte, 2*len(head)+utf8.UTFMax)
	n, _, err := simplifiedchinese.GB18030.NewDecoder().Transform(dst, head, atEOF)
	if (err != nil && !(errors.Is(err, transform.ErrShortSrc) && !atEOF)) || bytes.ContainsRune(dst[:n], utf8.RuneError) {
		return textEncoding{}, errors.New("无法识别文件编码：既不是 UTF-8，也不是 GBK/GB18030")
	}
	return textEncoding{name: "GB18030", enc: simplifiedchinese.GB18030}, nil
}

// trimPartialRune drops a UTF-8 sequence cut off at the end of a sample.
func trimPartialRune(b []byte, atEOF bool) []byte {
	if atEOF {
		return b
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// csvProblems translates encoding/csv's parse errors.
func csvProblem(err error) string {
	switch {
	case errors.Is(err, csv.ErrQuote):
		return "引号不成对（以引号开头的单元格必须以引号结束，单元格内的引号要写成两个）"
	case errors.Is(err, csv.ErrBareQuote):
		return "没有用引号括起来的单元格中出现了引号（单元格内的引号要写成两个，并用引号括起整个单元格）"
	}
	return err.Error()
}

func (u *Upload) parseCSV(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	b := &rowBuilder{u: u, file: name, opts: opts}
	var h *header
	var errs, headErrs []*RowError
	sawData := false
	err := csvRows(name, r, opts.Encoding, func(row int, texts []string, problem *RowError) error {
		switch {
		case h == nil && problem != nil:
			return problem // without its header the file cannot be read
		case problem != nil:
			errs = append(errs, problem)
			sawData = true
			return nil
		case h == nil:
			if blankRow(texts) {
				return nil
			}
			if h, headErrs = b.readHeader(row, texts); headErrs != nil {
				return errStopReading
			}
			return nil
		}
		for i, t := range texts {
			texts[i] = unguardFormula(t)
		}
		rowErrs, saw, err := b.take(h, row, texts, fn)
		sawData = sawData || saw
		errs = append(errs, rowErrs...)
		return err
	})
	switch {
	case headErrs != nil:
		return headErrs, nil
	case err != nil:
		return errs, err
	case h == nil:
		return nil, &RowError{File: name, Message: "文件是空的"}
	case !sawData:
		errs = append(errs, &RowError{File: name, Message: "文件只有表头，没有数据行"})
	}
	return errs, nil
}

// errStopReading ends a walk over a file's rows early, without an error.
var errStopReading = errors.New("stop reading")

// csvRows reads the records of a CSV file, decoded from the encoding
// requested or detected, and calls fn with each record's row as a
// spreadsheet numbers it (blank lines count) and its cells, valid until fn
// returns. A record that does not parse, or holds bytes of another
// encoding, comes as a problem instead of cells. fn's errStopReading ends
// the walk quietly; its other errors end it and are returned.
func csvRows(name string, r io.Reader, requested string, fn func(row int, cells []string, problem *RowError) error) error {
	br, head, err := peekStart(name, r, sniffBytes)
	if err != nil {
		return err
	}
	enc, err := detectEncoding(head, len(head) < sniffBytes, requested)
	if err != nil {
		return &RowError{File: name, Message: err.Error()}
	}
	var text io.Reader = br
	if enc.enc == nil {
		if bytes.HasPrefix(head, utf8BOM) {
			br.Discard(len(utf8BOM))
		}
	} else {
		text = transform.NewReader(br, enc.enc.NewDecoder())
	}
	cr := csv.NewReader(text)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	// encoding/csv skips blank lines; count them back in, so that rows are
	// numbered as a spreadsheet shows them.
	row, lastLine := 0, 0
	for {
		texts, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		var problem *RowError
		switch {
		case errors.As(err, &pe):
			row += max(pe.StartLine-lastLine, 1)
			lastLine = pe.Line
			problem = &RowError{File: name, Row: row, Err: err,
				Message: fmt.Sprintf("CSV 格式有误（文本第 %d 行第 %d 个字符附近）：%s", pe.Line, pe.Column, csvProblem(pe.Err))}
		case err != nil:
			return &RowError{File: name, Row: row + 1, Message: "读取 CSV 文件失败", Err: fmt.Errorf("ingest: read %s: %w", name, err)}
		default:
			start, _ := cr.FieldPos(0)
			end, _ := cr.FieldPos(len(texts) - 1)
			row += max(start-lastLine, 1)
			lastLine = end + strings.Count(texts[len(texts)-1], "\n")
			if bad := badCells(texts); bad >= 0 {
				problem = &RowError{File: name, Row: row, Field: "第 " + columnName(bad) + " 列",
					Message: fmt.Sprintf("第 %s 列含有不是 %s 编码的字节：请确认整个文件使用同一种编码", columnName(bad), enc.name)}
			}
		}
		if problem != nil {
			texts = nil
		}
		if err := fn(row, texts, problem); err != nil {
			if errors.Is(err, errStopReading) {
				return nil
			}
			return err
		}
	}
}

// badCells returns the index of the first cell holding undecodable bytes,
// or -1.
func badCells(texts []string) int {
	for i, t := range texts {
		if invalidText(t) {
			return i
		}
	}
	return -1
}
