package search_test

import (
	"cmp"
	"path/filepath"
	"strings"
	"testing"

	"xiaoshen/corpus"
	"xiaoshen/ingest"
	"xiaoshen/kb"
	"xiaoshen/search"
)

// labelledQuestion is a user question and the corpus ids that answer it
// (comma-separated, as in the files), or "-" when the KB does not cover it.
type labelledQuestion struct {
	Question string
	Expected string
	Source   string
	Accepts  func(id string) bool
}

// readQuestions reads every corpus/testdata/*.tsv file, through the
// loader xiaoshen eval uses.
func readQuestions(t testing.TB) []labelledQuestion {
	t.Helper()
	files, err := filepath.Glob("../corpus/testdata/*.tsv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no question files: %v", err)
	}
	recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	set := &search.EvalSet{Name: "corpus"}
	for _, r := range recs {
		set.Entries = append(set.Entries, r.Entry)
	}
	if err := loadTSV(set, files...); err != nil {
		t.Fatal(err)
	}
	out := make([]labelledQuestion, len(set.Questions))
	for i, q := range set.Questions {
		out[i] = labelledQuestion{Question: q.Question, Expected: cmp.Or(strings.Join(append([]string{q.Key}, q.Also...), ","), "-"), Source: q.Source, Accepts: q.Accepts}
	}
	return out
}

func askRequest(q string) kb.AskRequest { return kb.AskRequest{Question: q, Channel: "test"} }

// loadTSV appends the questions of TSV files to set, as xiaoshen eval does.
func loadTSV(set *search.EvalSet, files ...string) error {
	for _, f := range files {
		if err := set.AddQuestions(f, search.TSVRows(f)); err != nil {
			return err
		}
	}
	return set.CheckNotEmpty(strings.Join(files, ", "))
}
