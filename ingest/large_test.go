package ingest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xiaoshen/kb"
)

const largeRows = 20000

// largeEntries makes n distinct, valid FAQ entries of a realistic size.
func largeEntries(n int) []*kb.Entry {
	entries := make([]*kb.Entry, n)
	for i := range entries {
		entries[i] = &kb.Entry{
			ExternalID: fmt.Sprintf("faq-%05d", i),
			Column:     kb.ColumnFAQ,
			Title:      fmt.Sprintf("第%d个问题：药品经营许可证到期了怎么办理延续", i),
			Content:    strings.Repeat(fmt.Sprintf("第%d条答复口径，请在有效期届满前提出申请。", i), 8),
			Department: "药品监管处",
			Keywords:   []string{"药品经营许可证", "延续"},
			Similar:    []string{fmt.Sprintf("问法%d甲", i), fmt.Sprintf("问法%d乙", i)},
			Fields:     map[string]string{},
		}
	}
	return entries
}

// countingReader counts the bytes read from a file.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestLargeFilesStream(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000-row files")
	}
	entries := largeEntries(largeRows)
	formats := []struct {
		file  string
		write func(io.Writer, kb.Column, []*kb.Entry) error
	}{
		{"large.csv", WriteCSV},
		{"large.xlsx", WriteXLSX},
	}
	for _, f := range formats {
		t.Run(f.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.write(&buf, kb.ColumnFAQ, entries); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), f.file)
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			file, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			in := &countingReader{r: file}
			var readAtFirst int64 = -1
			n := 0
			start := time.Now()
			errs, err := ParseReader(f.file, in, Options{}, func(r *Record) error {
				if n == 0 {
					readAtFirst = in.n
				}
				if r.Row != n+2 || !r.Entry.SameContent(entries[n]) {
					t.Fatalf("record %d at row %d differs", n, r.Row)
				}
				n++
				return nil
			})
			elapsed := time.Since(start)
			if err != nil || len(errs) > 0 {
				t.Fatalf("errs %v err %v", errs, err)
			}
			if n != largeRows {
				t.Fatalf("got %d records, want %d", n, largeRows)
			}
			t.Logf("%s: %d rows, %.1f MB, parsed in %v", f.file, n, float64(buf.Len())/(1<<20), elapsed.Round(time.Millisecond))
			// A CSV is read as it is parsed: the first record arrives long
			// before the end of the file. (An XLSX is a zip, read whole
			// before its rows are iterated.)
			if f.file == "large.csv" && readAtFirst >= int64(buf.Len())/2 {
				t.Errorf("first record after reading %d of %d bytes: not streaming", readAtFirst, buf.Len())
			}
		})
	}
}
