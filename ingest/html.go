package ingest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"xiaoshen/kb"
)

// htmlLimit bounds the web page read into memory.
const htmlLimit = 32 << 20

// htmlSkipped are elements whose text is never content: page chrome,
// code and form controls.
var htmlSkipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Nav: true, atom.Header: true, atom.Footer: true,
	atom.Aside: true, atom.Noscript: true, atom.Template: true, atom.Iframe: true, atom.Svg: true,
	atom.Canvas: true, atom.Object: true, atom.Button: true, atom.Select: true, atom.Input: true,
	atom.Textarea: true, atom.Head: true,
}

// htmlBlocks are elements that start a new paragraph.
var htmlBlocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Dt: true, atom.Dd: true,
	atom.Blockquote: true, atom.Pre: true, atom.Table: true, atom.Tr: true, atom.Hr: true,
	atom.Address: true, atom.Figure: true, atom.Figcaption: true, atom.Center: true,
	atom.Form: true, atom.Fieldset: true, atom.Body: true, atom.Td: true, atom.Th: true,
}

// htmlContainers are elements that may hold a page's main text.
var htmlContainers = map[atom.Atom]bool{
	atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true, atom.Td: true,
	atom.Body: true, atom.Blockquote: true, atom.Form: true, atom.Center: true,
}

func (u *Upload) parseHTML(name string, r io.Reader, opts Options, fn func(*Record) error) ([]*RowError, error) {
	if opts.Column == "" {
		return nil, &RowError{File: name, Field: "栏目", Message: "网页文件需要指定栏目：上传时请指定默认栏目（如 --column faq）"}
	}
	br, _, err := peekStart(name, r, 1024)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(br, htmlLimit+1))
	if err != nil {
		return nil, &RowError{File: name, Message: "读取文件失败", Err: fmt.Errorf("ingest: read %s: %w", name, err)}
	}
	if len(data) > htmlLimit {
		return nil, &RowError{File: name, Message: fmt.Sprintf("文件超过 %d MB，过大", htmlLimit>>20)}
	}
	text, err := decodeHTML(data)
	if err != nil {
		return nil, &RowError{File: name, Message: err.Error()}
	}
	doc, err := html.Parse(strings.NewReader(text))
	if err != nil {
		return nil, &RowError{File: name, Message: "无法解析网页", Err: fmt.Errorf("ingest: parse html %s: %w", name, err)}
	}
	main := htmlMain(doc)
	title, titleNode := htmlTitle(doc, main)
	e := &kb.Entry{Column: opts.Column, Title: title, Content: htmlText(main, titleNode), Department: opts.Department}
	if errs := u.finish(name, 0, e, nil, nil); len(errs) > 0 {
		return errs, nil
	}
	return nil, callback(fn, &Record{File: name, Entry: e})
}

// decodeHTML decodes a saved web page: by its byte order mark or <meta>
// charset, else as UTF-8 when it is valid UTF-8, else as GB18030, which
// older Chinese government sites use (GB2312 and GBK are subsets).
func decodeHTML(data []byte) (string, error) {
	enc, name, certain := charset.DetermineEncoding(data, "")
	switch {
	case name == "utf-8" && utf8.Valid(data):
		return string(bytes.TrimPrefix(data, utf8BOM)), nil
	case certain || (name != "windows-1252" && name != "utf-8"):
	case utf8.Valid(data):
		return string(data), nil
	default:
		enc = simplifiedchinese.GB18030
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil || (enc != encoding.Nop && bytes.ContainsRune(out, utf8.RuneError)) {
		return "", fmt.Errorf("无法识别网页的编码（%s 解码失败）：请另存为 UTF-8", name)
	}
	return strings.TrimPrefix(string(out), "\ufeff"), nil
}

// htmlTitle returns the text of the page's <h1>, and that node, or else
// the text of <title>. An <h1> in the main block wins over one in the page
// chrome, where sites often put their name.
func htmlTitle(doc, main *html.Node) (string, *html.Node) {
	var inMain, outside, title *html.Node
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch {
		case n.DataAtom == atom.Title && title == nil:
			title = n
		case n.DataAtom != atom.H1 || oneLine(nodeText(n)) == "":
		case inMain == nil && within(n, main):
			inMain = n
		case outside == nil && !insideSkipped(n, doc):
			outside = n
		}
	}
	for _, h1 := range []*html.Node{inMain, outside} {
		if h1 != nil {
			return oneLine(nodeText(h1)), h1
		}
	}
	if title != nil {
		return oneLine(nodeText(title)), nil
	}
	return "", nil
}

// within reports whether n is top or below it.
func within(n, top *html.Node) bool {
	for ; n != nil; n = n.Parent {
		if n == top {
			return true
		}
	}
	return false
}

// nodeText is all the text below n, script and style excepted.
func nodeText(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode && !insideSkipped(d, n) {
			b.WriteString(d.Data)
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// insideSkipped reports whether n sits in a skipped element below top.
func insideSkipped(n, top *html.Node) bool {
	for p := n.Parent; p != nil && p != top; p = p.Parent {
		if p.Type == html.ElementNode && (htmlSkipped[p.DataAtom] || hidden(p)) {
			return true
		}
	}
	return false
}

func hidden(n *html.Node) bool {
	for _, a := range n.Attr {
		if a.Key == "hidden" || (a.Key == "aria-hidden" && a.Val == "true") {
			return true
		}
	}
	return false
}

// htmlMain picks the element holding a page's main text: <main>, else the
// longest <article>, else the container that holds the most text.
func htmlMain(doc *html.Node) *html.Node {
	var body, article *html.Node
	articleLen := 0
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || insideSkipped(n, doc) {
			continue
		}
		switch n.DataAtom {
		case atom.Main:
			if strings.TrimSpace(nodeText(n)) != "" {
				return n
			}
		case atom.Article:
			if l := len(strings.TrimSpace(nodeText(n))); l > articleLen {
				article, articleLen = n, l
			}
		case atom.Body:
			body = n
		}
	}
	if article != nil {
		return article
	}
	// Credit each text to the container around it, and half as much to
	// the container around that: the page's main block collects its
	// paragraphs' text, while menus are mostly link text, which is not
	// counted.
	score := map[*html.Node]int{}
	for n := range doc.Descendants() {
		if n.Type != html.TextNode || insideSkipped(n, doc) || insideLink(n) {
			continue
		}
		size := len(strings.TrimSpace(n.Data))
		if size == 0 {
			continue
		}
		c := container(n)
		if c == nil {
			continue
		}
		score[c] += 2 * size
		if up := container(c); up != nil {
			score[up] += size
		}
	}
	var best *html.Node
	for n := range doc.Descendants() { // in document order, so ties go to the first
		if s, ok := score[n]; ok && (best == nil || s > score[best]) {
			best = n
		}
	}
	switch {
	case best != nil:
		return best
	case body != nil:
		return body
	}
	return doc
}

func insideLink(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.DataAtom == atom.A {
			return true
		}
	}
	return false
}

// container returns the nearest container element above n.
func container(n *html.Node) *html.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && htmlContainers[p.DataAtom] {
			return p
		}
	}
	return nil
}

// htmlText renders the readable text of n: paragraphs separated by blank
// lines, list items as "- …" lines, data tables one row per line with cells
// joined by " | ". skip (the title) is left out.
func htmlText(n *html.Node, skip *html.Node) string {
	w := &htmlWriter{skip: skip}
	w.walk(n)
	w.flush()
	return strings.Join(w.paras, "\n\n")
}

type htmlWriter struct {
	skip  *html.Node
	paras []string
	cur   strings.Builder
	pre   int
}

func (w *htmlWriter) flush() {
	lines := strings.Split(w.cur.String(), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = oneLine(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > 0 {
		w.paras = append(w.paras, strings.Join(out, "\n"))
	}
	w.cur.Reset()
}

func (w *htmlWriter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		if w.pre > 0 {
			w.cur.WriteString(n.Data)
		} else {
			w.cur.WriteString(strings.Join(strings.Fields(n.Data), " "))
			if strings.TrimSpace(n.Data) != n.Data {
				w.cur.WriteByte(' ')
			}
		}
		return
	case html.ElementNode:
		if n == w.skip || htmlSkipped[n.DataAtom] || hidden(n) {
			return
		}
	case html.DocumentNode:
	default:
		return
	}
	switch {
	case n.DataAtom == atom.Br:
		w.cur.WriteByte('\n')
		return
	case n.DataAtom == atom.Table && dataTable(n):
		w.flush()
		w.table(n)
		return
	case n.DataAtom == atom.Li:
		// The items of a list stay together, one per line.
		w.cur.WriteString("\n- ")
		defer w.cur.WriteByte('\n')
	case htmlBlocks[n.DataAtom]:
		w.flush()
		if n.DataAtom == atom.Pre {
			w.pre++
			defer func() { w.pre-- }()
		}
		defer w.flush()
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

// dataTable tells a table of data from one that lays out a page: a data
// table's cells hold no paragraphs, blocks or other tables.
func dataTable(t *html.Node) bool {
	for n := range t.Descendants() {
		if n.Type == html.ElementNode && n != t {
			switch n.DataAtom {
			case atom.Table, atom.Div, atom.P, atom.Ul, atom.Ol, atom.Section, atom.Article:
				return false
			}
		}
	}
	return true
}

func (w *htmlWriter) table(t *html.Node) {
	var lines []string
	for tr := range t.Descendants() {
		if tr.DataAtom != atom.Tr {
			continue
		}
		var cells []string
		for td := tr.FirstChild; td != nil; td = td.NextSibling {
			if td.DataAtom == atom.Td || td.DataAtom == atom.Th {
				cells = append(cells, oneLine(nodeText(td)))
			}
		}
		if !blankRow(cells) {
			lines = append(lines, strings.Join(cells, " | "))
		}
	}
	if len(lines) > 0 {
		w.paras = append(w.paras, strings.Join(lines, "\n"))
	}
}
