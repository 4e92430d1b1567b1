package search_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"xiaoshen/kb"
)

// labelledQuestion is a user question and the corpus id that must answer
// it, or "-" when the KB does not cover it.
type labelledQuestion struct {
	Question string
	Expected string
	Source   string
}

// readQuestions reads every corpus/testdata/*.tsv file.
func readQuestions(t testing.TB) []labelledQuestion {
	t.Helper()
	files, err := filepath.Glob("../corpus/testdata/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no question files: %v", err)
	}
	var out []labelledQuestion
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for line := 1; sc.Scan(); line++ {
			if line == 1 || strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			parts := strings.Split(sc.Text(), "\t")
			if len(parts) != 2 {
				t.Fatalf("%s:%d: want 2 tab-separated fields, got %d", f, line, len(parts))
			}
			out = append(out, labelledQuestion{Question: parts[0], Expected: strings.TrimSpace(parts[1]), Source: filepath.Base(f)})
		}
		fh.Close()
	}
	return out
}

func askRequest(q string) kb.AskRequest { return kb.AskRequest{Question: q, Channel: "test"} }
