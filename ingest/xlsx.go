package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// xlsxOptions format cells as a Chinese Excel shows them; the unzip limit
// stops a small upload from expanding into gigabytes.
var xlsxOptions = excelize.Options{
	ShortDatePattern: "yyyy-mm-dd",
	CultureInfo:      excelize.CultureNameZhCN,
	UnzipSizeLimit:   1 << 30,
}

var rawCells = excelize.Options{RawCellValue: true}

// xlsxFileLimit bounds the workbook read into memory.
const xlsxFileLimit = 256 << 20

var errTooLarge = errors.New("file too large")

// capReader fails once more than n bytes have been read.
type capReader struct {
	r io.Reader
	n int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errTooLarge
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, errTooLarge
	}
	return n, err
}

func (u *Upload) parseXLSX(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	f, sheet, err := openSheet(name, r, opts.Sheet)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	date1904 := false
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		date1904 = *props.Date1904
	}
	readErr := func(row int, err error) error { return sheetReadError(name, sheet, row, err) }
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, readErr(0, err)
	}
	defer rows.Close()
	// raw walks the sheet a second time, in step with rows, to read the
	// serial numbers behind dates: a formatted date such as “1月5日” has
	// lost its year.
	var raw *excelize.Rows

	b := &rowBuilder{u: u, file: name, opts: opts}
	var h *header
	var errs []*RowError
	sawData := false
	for row := 1; rows.Next(); row++ {
		texts, err := rows.Columns()
		if err != nil {
			return errs, readErr(row, err)
		}
		if raw != nil {
			raw.Next()
			serials, err := raw.Columns(rawCells)
			if err != nil {
				return errs, readErr(row, err)
			}
			for i, isDate := range h.dates {
				if isDate && i < len(texts) && i < len(serials) {
					if d, ok := excelDate(serials[i], date1904); ok {
						texts[i] = d
					}
				}
			}
		}
		if h == nil {
			if blankRow(texts) {
				continue
			}
			var headErrs []*RowError
			if h, headErrs = b.readHeader(row, texts); headErrs != nil {
				if _, title := loneCell(texts); !title {
					headErrs = append(mergedHeader(f, name, sheet, row), headErrs...)
				}
				return append(headErrs, otherSheets(f, name, sheet, opts)...), nil
			}
			if slices.Contains(h.dates, true) {
				if raw, err = f.Rows(sheet); err != nil {
					return nil, readErr(row, err)
				}
				defer raw.Close()
				for range row {
					raw.Next()
					if _, err := raw.Columns(rawCells); err != nil {
						return nil, readErr(row, err)
					}
				}
			}
			continue
		}
		rowErrs, saw, err := b.take(h, row, texts, fn)
		sawData = sawData || saw
		errs = append(errs, rowErrs...)
		if err != nil {
			return errs, err
		}
	}
	if err := rows.Error(); err != nil {
		return errs, readErr(0, err)
	}
	if h == nil {
		msg := fmt.Sprintf("工作表“%s”是空的", sheet)
		for _, e := range otherSheets(f, name, sheet, opts) {
			msg += "；" + e.Message
		}
		return nil, &RowError{File: name, Message: msg}
	}
	if !sawData {
		errs = append(errs, &RowError{File: name, Message: fmt.Sprintf("工作表“%s”只有表头，没有数据行", sheet)})
	}
	return errs, nil
}

// openSheet opens an XLSX file and picks the sheet to read: the one
// named, or the first.
func openSheet(name string, r io.Reader, sheet string) (*excelize.File, string, error) {
	br, head, err := peekStart(name, r, 8)
	if err != nil {
		return nil, "", err
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xd0, 0xcf, 0x11, 0xe0}):
		return nil, "", &RowError{File: name, Message: "文件是旧版 .xls 格式或设有打开密码：请在 Excel 中取消密码并另存为 .xlsx"}
	case !bytes.HasPrefix(head, []byte("PK")):
		return nil, "", &RowError{File: name, Message: "不是 XLSX 文件：文件已损坏，或其实是另一种格式"}
	}
	f, err := excelize.OpenReader(&capReader{r: br, n: xlsxFileLimit}, xlsxOptions)
	if errors.Is(err, errTooLarge) {
		return nil, "", &RowError{File: name, Message: fmt.Sprintf("文件超过 %d MB，过大", xlsxFileLimit>>20)}
	}
	if err != nil {
		return nil, "", &RowError{File: name, Message: "无法打开 XLSX 文件：文件已损坏或不完整，请在 Excel 中打开确认后重新保存", Err: fmt.Errorf("ingest: open xlsx %s: %w", name, err)}
	}
	sheets := f.GetSheetList()
	switch {
	case len(sheets) == 0:
		err = &RowError{File: name, Message: "XLSX 文件中没有工作表"}
	case sheet == "":
		sheet = sheets[0]
	case !slices.Contains(sheets, sheet):
		err = &RowError{File: name, Message: fmt.Sprintf("没有名为“%s”的工作表，文件中的工作表有：%s", sheet, strings.Join(sheets, "、"))}
	}
	if err != nil {
		f.Close()
		return nil, "", err
	}
	return f, sheet, nil
}

// mergedHeader explains a header row that holds merged cells: a header of
// two rows (日期 over 发布日期 and 实施日期), which the row-by-row reading
// cannot take, or a title merged across the table.
func mergedHeader(f *excelize.File, name, sheet string, row int) []*RowError {
	merges, err := f.GetMergeCells(sheet)
	if err != nil {
		return nil
	}
	var ranges []string
	for _, m := range merges {
		_, top, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
		_, bottom, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
		if err1 == nil && err2 == nil && top <= row && row <= bottom {
			ranges = append(ranges, m.GetStartAxis()+":"+m.GetEndAxis())
		}
	}
	if len(ranges) == 0 {
		return nil
	}
	return []*RowError{{File: name, Row: row, Message: fmt.Sprintf(
		"表头所在的第 %d 行有合并单元格（%s）：表头只能占一行，每一列在这一行写一个名称。请在 Excel 中取消合并，把分两行写的表头（如 日期 下的 发布日期、实施日期）合到第 %d 行，删除多余的行",
		row, strings.Join(ranges, "、"), row)}}
}

// otherSheets points to the workbook's other sheets when the first one,
// read by default, holds no table: it is often a 填写说明 sheet.
func otherSheets(f *excelize.File, name, sheet string, opts Options) []*RowError {
	sheets := f.GetSheetList()
	if opts.Sheet != "" || len(sheets) < 2 {
		return nil
	}
	others := slices.DeleteFunc(slices.Clone(sheets), func(s string) bool { return s == sheet })
	return []*RowError{{File: name, Message: fmt.Sprintf(
		"读取的是第一个工作表“%s”；文件中还有工作表 %s。数据在其他工作表的，请加 --sheet 指定，如 --sheet %s", sheet, strings.Join(others, "、"), others[0])}}
}

// sheetReadError reports a sheet that stopped reading at row (0: before
// its first).
func sheetReadError(name, sheet string, row int, err error) error {
	return &RowError{File: name, Row: row, Message: fmt.Sprintf("读取工作表“%s”失败：文件可能已损坏", sheet), Err: fmt.Errorf("ingest: read xlsx %s: %w", name, err)}
}

// ReadTable reads the rows of a CSV file (its encoding detected as for
// uploads) or of the first sheet of an XLSX file, by the name's extension,
// and calls fn with each row's number as a spreadsheet shows it and its
// cells, valid until fn returns. A row that cannot be read ends it with an
// error naming the file and row.
func ReadTable(name string, r io.Reader, fn func(row int, cells []string) error) error {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		return csvRows(name, r, "", func(row int, cells []string, problem *RowError) error {
			if problem != nil {
				return problem
			}
			return fn(row, cells)
		})
	case ".xlsx":
		f, sheet, err := openSheet(name, r, "")
		if err != nil {
			return err
		}
		defer f.Close()
		rows, err := f.Rows(sheet)
		if err != nil {
			return sheetReadError(name, sheet, 0, err)
		}
		defer rows.Close()
		for row := 1; rows.Next(); row++ {
			cells, err := rows.Columns()
			if err != nil {
				return sheetReadError(name, sheet, row, err)
			}
			if err := fn(row, cells); err != nil {
				return err
			}
		}
		if err := rows.Error(); err != nil {
			return sheetReadError(name, sheet, 0, err)
		}
		return nil
	}
	return &RowError{File: name, Message: "不支持的表格格式：应为 .csv 或 .xlsx"}
}

// excelDate turns the serial number Excel stores for a date into
// YYYY-MM-DD. Text, and numbers such as 20240531 that are no serial,
// are left alone.
func excelDate(v string, date1904 bool) (string, bool) {
	serial, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(serial >= 1 && serial < 2958466) { // 2958465 is 9999-12-31
		return "", false
	}
	t, err := excelize.ExcelDateToTime(serial, date1904)
	if err != nil {
		return "", false
	}
	return t.Format("2006-01-02"), true
}
