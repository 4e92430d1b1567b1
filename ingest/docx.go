package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"xiaoshen/kb"
)

// Limits on what a DOCX upload may expand to.
const (
	docxFileLimit = 256 << 20
	docxPartLimit = 64 << 20
)

// docNumberPattern finds a 文号 such as 沪药监规〔2024〕3号, [2024]12号,
// 国家药监局令第12号 or 2024年第12号.
var docNumberPattern = regexp.MustCompile(`[\p{Han}A-Za-z]{0,20}\s*(?:[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*第?\s*\d{1,6}\s*号|(?:(?:19|20)\d{2}\s*年\s*)?第\s*\d{1,6}\s*号)`)

// effectiveClause finds the clause by which a document says when it takes
// effect: 本办法自2031年6月1日起施行. It must speak of the document itself
// (本…), as the body may cite when another law took effect.
var effectiveClause = regexp.MustCompile(`本\p{Han}{0,8}自\s*((?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*起\s*(?:施行|实施|执行|生效)`)

// findEffectiveOn returns the date of the body's last 施行 clause, as
// written (Entry.Normalize writes it as YYYY-MM-DD), or "".
func findEffectiveOn(body []string) string {
	for i := len(body) - 1; i >= 0; i-- {
		if m := effectiveClause.FindAllStringSubmatch(body[i], -1); m != nil {
			return strings.Join(strings.Fields(m[len(m)-1][1]), "")
		}
	}
	return ""
}

// docNumberScan is how many paragraphs at the top may hold the 文号.
const docNumberScan = 8

// docxBlock is a paragraph or a table of a Word document's body.
type docxBlock struct {
	text    string
	style   string
	outline int // the paragraph's own outline level, -1 when it has none
	table   [][]string
}

// docxStyle is what matters of a paragraph style: whether it is a heading.
type docxStyle struct {
	name    string
	basedOn string
	outline int
}

func (u *Upload) parseDOCX(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	br, head, err := peekStart(name, r, 8)
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xd0, 0xcf, 0x11, 0xe0}):
		return nil, &RowError{File: name, Message: "文件是旧版 .doc 格式或设有打开密码：请在 Word 中取消密码并另存为 .docx"}
	case !bytes.HasPrefix(head, []byte("PK")):
		return nil, &RowError{File: name, Message: "不是 DOCX 文件：文件已损坏，或其实是另一种格式"}
	}
	data, err := io.ReadAll(io.LimitReader(br, docxFileLimit+1))
	if err != nil {
		return nil, &RowError{File: name, Message: "读取文件失败", Err: fmt.Errorf("ingest: read %s: %w", name, err)}
	}
	if len(data) > docxFileLimit {
		return nil, &RowError{File: name, Message: fmt.Sprintf("文件超过 %d MB，过大", docxFileLimit>>20)}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &RowError{File: name, Message: "无法打开 DOCX 文件：文件已损坏或不完整，请在 Word 中打开确认后重新保存", Err: fmt.Errorf("ingest: open docx %s: %w", name, err)}
	}
	var docPart, stylesPart *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			docPart = f
		case "word/styles.xml":
			stylesPart = f
		}
	}
	if docPart == nil {
		return nil, &RowError{File: name, Message: "不是有效的 DOCX 文件：缺少 word/document.xml"}
	}
	// Styles only help to find the title; a broken styles part is ignored.
	styles, _ := readDocxStyles(stylesPart)
	blocks, err := readDocxBody(docPart)
	if err != nil {
		return nil, &RowError{File: name, Message: "DOCX 文件内容有误，无法读取正文：请在 Word 中打开确认后重新保存", Err: fmt.Errorf("ingest: read docx %s: %w", name, err)}
	}

	e := docxEntry(blocks, styles, opts)
	if errs := u.finish(name, 0, e, map[string]string{kb.FieldDocNumber: "文号"}, nil); len(errs) > 0 {
		return errs, nil
	}
	return nil, callback(fn, &Record{File: name, Entry: e})
}

// openPart opens a zip member, refusing one that expands beyond the limit.
func openPart(f *zip.File) (io.ReadCloser, error) {
	if f.UncompressedSize64 > docxPartLimit {
		return nil, fmt.Errorf("%s expands to %d bytes", f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(rc, docxPartLimit), rc}, nil
}

// attr returns an attribute of a WordprocessingML element by local name.
func attr(el xml.StartElement, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func readDocxStyles(f *zip.File) (map[string]docxStyle, error) {
	styles := map[string]docxStyle{}
	if f == nil {
		return styles, nil
	}
	rc, err := openPart(f)
	if err != nil {
		return styles, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	var id string
	var cur docxStyle
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return styles, nil
		}
		if err != nil {
			return styles, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "style":
				id, cur = attr(t, "styleId"), docxStyle{outline: -1}
			case "name":
				cur.name = strings.ToLower(attr(t, "val"))
			case "basedOn":
				cur.basedOn = attr(t, "val")
			case "outlineLvl":
				if n, err := strconv.Atoi(attr(t, "val")); err == nil {
					cur.outline = n
				}
			}
		case xml.EndElement:
			if t.Name.Local == "style" && id != "" {
				styles[id] = cur
				id = ""
			}
		}
	}
}

// isHeading reports whether a paragraph style makes a title or heading,
// following the styles it is based on.
func isHeading(styleID string, styles map[string]docxStyle) bool {
	for range 8 {
		lower := strings.ToLower(styleID)
		if lower == "title" || strings.HasPrefix(lower, "heading") {
			return true
		}
		s, ok := styles[styleID]
		if !ok {
			return false
		}
		if s.name == "title" || strings.HasPrefix(s.name, "heading") || (s.outline >= 0 && s.outline < 9) {
			return true
		}
		styleID = s.basedOn
	}
	return false
}

// isTitleStyle reports whether a paragraph style is Word's Title.
func isTitleStyle(styleID string, styles map[string]docxStyle) bool {
	return strings.EqualFold(styleID, "title") || styles[styleID].name == "title"
}

// readDocxBody reads the paragraphs and tables of word/document.xml in
// order. Text boxes are kept inside their paragraph, nested tables are
// flattened into their cell, and deleted text and field codes are skipped.
func readDocxBody(f *zip.File) ([]docxBlock, error) {
	rc, err := openPart(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	var (
		blocks    []docxBlock
		para      strings.Builder
		style     string
		outline   = -1
		pDepth    int
		inPPr     bool
		inText    bool
		tblDepth  int
		rows      [][]string
		row       []string
		cellParas []string
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return blocks, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "Fallback": // the same content again, for older readers
				if err := dec.Skip(); err != nil {
					return nil, err
				}
			case "tbl":
				tblDepth++
				if tblDepth == 1 {
					rows = nil
				}
			case "tr":
				if tblDepth == 1 {
					row = nil
				}
			case "tc":
				if tblDepth == 1 {
					cellParas = nil
				}
			case "p":
				pDepth++
				if pDepth == 1 {
					para.Reset()
					style, outline = "", -1
				}
			case "pPr":
				inPPr = true
			case "pStyle":
				if pDepth == 1 && inPPr {
					style = attr(t, "val")
				}
			case "outlineLvl":
				if pDepth == 1 && inPPr {
					if n, err := strconv.Atoi(attr(t, "val")); err == nil {
						outline = n
					}
				}
			case "t":
				inText = pDepth > 0
			case "tab", "ptab":
				if pDepth > 0 && !inPPr {
					para.WriteByte(' ')
				}
			case "br", "cr":
				if pDepth > 0 && !inPPr {
					para.WriteByte('\n')
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "pPr":
				inPPr = false
			case "p":
				if pDepth == 0 {
					continue
				}
				pDepth--
				if pDepth > 0 {
					para.WriteByte('\n')
					continue
				}
				if tblDepth == 0 {
					blocks = append(blocks, docxBlock{text: para.String(), style: style, outline: outline})
				} else {
					cellParas = append(cellParas, para.String())
				}
			case "tc":
				if tblDepth == 1 {
					row = append(row, oneLine(strings.Join(cellParas, " ")))
				}
			case "tr":
				if tblDepth == 1 {
					rows = append(rows, row)
				}
			case "tbl":
				if tblDepth == 0 {
					continue
				}
				tblDepth--
				if tblDepth == 0 {
					blocks = append(blocks, docxBlock{table: rows, outline: -1})
				}
			}
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		}
	}
}

// oneLine folds a text's white space, line breaks included, into single
// spaces, and drops the space between two Chinese characters (or Chinese
// punctuation) that a line break left behind.
func oneLine(s string) string {
	var b strings.Builder
	for i, word := range strings.Fields(s) {
		if i > 0 {
			last, _ := utf8.DecodeLastRuneInString(b.String())
			first, _ := utf8.DecodeRuneInString(word)
			if !(wide(last) && wide(first)) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(word)
	}
	return b.String()
}

// wide reports whether r is a Chinese character or punctuation mark, which
// are written without spaces between them.
func wide(r rune) bool {
	switch {
	case unicode.Is(unicode.Han, r), r >= 0x3000 && r <= 0x303f, r >= 0xff00 && r <= 0xffef:
		return true
	}
	return strings.ContainsRune("“”‘’…—·", r)
}

// paragraphText trims a paragraph and its lines.
func paragraphText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// renderTable writes a table one row per line, cells joined by " | ".
func renderTable(rows [][]string) string {
	var lines []string
	for _, row := range rows {
		if blankRow(row) {
			continue
		}
		lines = append(lines, strings.Join(row, " | "))
	}
	return strings.Join(lines, "\n")
}

// findDocNumber returns the 文号 in a paragraph, if it holds one.
func findDocNumber(text string) string {
	m := docNumberPattern.FindString(text)
	return strings.Join(strings.Fields(m), "")
}

// onlyDocNumber reports whether a paragraph is nothing but a 文号.
func onlyDocNumber(text string) bool {
	n := findDocNumber(text)
	return n != "" && n == strings.Join(strings.Fields(text), "")
}

// docxEntry makes the entry of a Word document: its title, 文号 and body.
func docxEntry(blocks []docxBlock, styles map[string]docxStyle, opts Options) *kb.Entry {
	for i := range blocks {
		if blocks[i].table == nil {
			blocks[i].text = paragraphText(blocks[i].text)
		}
	}
	titleAt := -1
	for i, b := range blocks {
		if b.table == nil && b.text != "" && (isHeading(b.style, styles) || (b.outline >= 0 && b.outline < 9)) {
			titleAt = i
			break
		}
	}
	if titleAt < 0 {
		for i, b := range blocks {
			if b.table == nil && b.text != "" && !onlyDocNumber(b.text) {
				titleAt = i
				break
			}
		}
	}
	title, titleEnd := "", titleAt
	if titleAt >= 0 {
		title = blocks[titleAt].text
		// A long title is often set as two paragraphs of the Title style.
		for titleEnd+1 < len(blocks) && isTitleStyle(blocks[titleAt].style, styles) &&
			blocks[titleEnd+1].table == nil && blocks[titleEnd+1].text != "" && blocks[titleEnd+1].style == blocks[titleAt].style {
			titleEnd++
			title += "\n" + blocks[titleEnd].text
		}
	}

	docNumber := ""
	seen := 0
	for i, b := range blocks {
		if seen >= docNumberScan {
			break
		}
		if b.table != nil || b.text == "" || (i >= titleAt && i <= titleEnd) {
			continue
		}
		seen++
		if docNumber = findDocNumber(b.text); docNumber != "" {
			break
		}
	}
	if docNumber == "" && title != "" {
		docNumber = findDocNumber(title)
	}

	var body []string
	for i, b := range blocks {
		switch {
		case i >= titleAt && i <= titleEnd:
		case b.table != nil:
			if t := renderTable(b.table); t != "" {
				body = append(body, t)
			}
		case b.text != "" && !(docNumber != "" && onlyDocNumber(b.text)):
			body = append(body, b.text)
		}
	}
	col := opts.Column
	if col == "" {
		col = kb.ColumnPolicy
	}
	e := &kb.Entry{Column: col, Title: oneLine(title), Content: strings.Join(body, "\n\n"), Department: opts.Department, Fields: map[string]string{}}
	if _, ok := col.FieldSpec(kb.FieldDocNumber); ok && docNumber != "" {
		e.Fields[kb.FieldDocNumber] = docNumber
	}
	// Without its 实施日期 a policy not yet in force would be given as an
	// answer with nothing to say so, and Word has no field to hold it.
	if _, ok := col.FieldSpec(kb.FieldEffectiveOn); ok {
		if on := findEffectiveOn(body); on != "" {
			e.Fields[kb.FieldEffectiveOn] = on
		}
	}
	return e
}
