package search_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"xiaoshen/corpus"
	"xiaoshen/ingest"
	"xiaoshen/internal/evalkb"
	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
	"xiaoshen/search"
)

// Benchmarks run only with -bench; see docs/benchmarks.md:
//
//	go test ./search -run '^$' -bench . -benchmem -count 6

// evalDir is shared/eval seen from this package; the 50k benchmarks skip
// without it.
const evalDir = "../../shared/eval"

// largeSize is the number of entries of the large benchmark KB.
const largeSize = 50000

// benchKB is a knowledge base shared by every benchmark of a run, with the
// questions to ask it.
type benchKB struct {
	env       *testkb.Env
	set       *evalkb.Set
	questions []string
}

var (
	benchMu  sync.Mutex
	benchKBs = map[string]*benchKB{}
)

// TestMain closes and removes the shared benchmark KBs.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, k := range benchKBs {
		k.env.Close()
		os.RemoveAll(k.env.Dir)
	}
	os.Exit(code)
}

// sharedKB builds the named KB once per run.
func sharedKB(b *testing.B, name string) *benchKB {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if k := benchKBs[name]; k != nil {
		return k
	}
	k := &benchKB{}
	var opts testkb.Options
	switch name {
	case "corpus":
		for _, q := range readQuestions(b) {
			k.questions = append(k.questions, q.Question)
		}
	case "50k":
		if _, err := os.Stat(evalDir); err != nil {
			b.Skipf("no eval data for the 50k KB: %v", err)
		}
		set, err := evalkb.Load(evalDir, largeSize)
		if err != nil {
			b.Fatal(err)
		}
		k.set, k.questions = set, set.Asked
		// evalkb includes the corpus; testkb adds it itself.
		opts.Entries = set.Entries[corpusSize(b):]
	default:
		b.Fatalf("unknown KB %q", name)
	}
	dir, err := os.MkdirTemp("", "xiaoshen-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if k.env, err = testkb.Build(dir, opts); err != nil {
		os.RemoveAll(dir)
		b.Fatal(err)
	}
	b.StartTimer()
	benchKBs[name] = k
	return k
}

func corpusSize(b *testing.B) int {
	recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	return len(recs)
}

// longAnswer is the first 2 KB of the corpus's policy and guide texts, as
// a long answer to index.
func longAnswer(b *testing.B) string {
	recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	var text strings.Builder
	for _, r := range recs {
		if r.Entry.Column == kb.ColumnPolicy || r.Entry.Column == kb.ColumnGuide {
			text.WriteString(r.Entry.Content)
			text.WriteString("\n")
		}
		if text.Len() >= 2048 {
			break
		}
	}
	return cutAt(text.String(), 2048)
}

// cutAt returns the longest prefix of s of at most n bytes that ends on a
// character boundary.
func cutAt(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func BenchmarkTokens(b *testing.B) {
	seg := testkb.MustSegmenter(b)
	var questions []string
	for _, q := range readQuestions(b) {
		questions = append(questions, q.Question)
	}
	answer := longAnswer(b)
	for _, mode := range []struct {
		name string
		mode search.Mode
	}{{"precise", search.ModePrecise}, {"search", search.ModeSearch}} {
		b.Run(mode.name+"/question", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				seg.Tokens(questions[i%len(questions)], mode.mode)
			}
		})
		b.Run(mode.name+"/answer-2KB", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(answer)))
			for i := 0; i < b.N; i++ {
				seg.Tokens(answer, mode.mode)
			}
		})
	}
}

// kbNames are the KBs every query benchmark runs on.
var kbNames = []string{"corpus", "50k"}

// eachKB runs ask, in a sub-benchmark per KB, once per iteration with the
// KB's questions in turn.
func eachKB(b *testing.B, ask func(k *benchKB, question string) error) {
	for _, name := range kbNames {
		b.Run(name, func(b *testing.B) {
			k := sharedKB(b, name)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := ask(k, k.questions[i%len(k.questions)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	eachKB(b, func(k *benchKB, q string) error {
		_, err := k.env.Index.Search(ctx, kb.SearchRequest{Query: q, Limit: 10})
		return err
	})
}

func BenchmarkMatch(b *testing.B) {
	ctx := context.Background()
	eachKB(b, func(k *benchKB, q string) error {
		_, err := k.env.Index.Match(ctx, q, 8)
		return err
	})
}

// BenchmarkMatchParallel runs Match from several goroutines, as the server
// does, to show lock contention.
func BenchmarkMatchParallel(b *testing.B) {
	ctx := context.Background()
	for _, name := range kbNames {
		b.Run(name, func(b *testing.B) {
			k := sharedKB(b, name)
			b.ReportAllocs()
			b.ResetTimer()
			var next sync.Mutex
			i := 0
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					next.Lock()
					q := k.questions[i%len(k.questions)]
					i++
					next.Unlock()
					if _, err := k.env.Index.Match(ctx, q, 8); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkAsk is the whole in-process ask: match, entry reads, and the
// query log or review item it writes.
func BenchmarkAsk(b *testing.B) {
	ctx := context.Background()
	eachKB(b, func(k *benchKB, q string) error {
		_, err := k.env.Service.Ask(ctx, askRequest(q))
		return err
	})
}

// BenchmarkPut re-indexes a batch of 500 unchanged entries of the 50k KB,
// as an upload or a backfill does.
func BenchmarkPut(b *testing.B) {
	ctx := context.Background()
	k := sharedKB(b, "50k")
	var batch []*kb.Entry
	err := k.env.Store.EachEntry(ctx, func(e *kb.Entry) error {
		if len(batch) < 500 {
			batch = append(batch, e)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("50k/batch-%d", len(batch)), func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := k.env.Index.Put(ctx, batch...); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMatchDuringUpload asks questions on the corpus KB while 2,000
// entries are indexed, and reports the slowest Match: a write must not
// hold questions up.
func BenchmarkMatchDuringUpload(b *testing.B) {
	ctx := context.Background()
	k := sharedKB(b, "corpus")
	b.ReportAllocs()
	content := cutAt(longAnswer(b), 600)
	var slowest, total time.Duration
	asked := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var entries []*kb.Entry
		for j := 0; j < 2000; j++ {
			entries = append(entries, &kb.Entry{ID: int64(1_000_000 + j), Column: kb.ColumnFAQ, Department: "综合处",
				Title: k.questions[j%len(k.questions)] + fmt.Sprint(j), Content: content})
		}
		b.StartTimer()
		done := make(chan error, 1)
		go func() { done <- k.env.Index.Put(ctx, entries...) }()
	loop:
		for q := 0; ; q++ {
			select {
			case err := <-done:
				if err != nil {
					b.Fatal(err)
				}
				break loop
			default:
			}
			start := time.Now()
			if _, err := k.env.Index.Match(ctx, k.questions[q%len(k.questions)], 8); err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			slowest, total = max(slowest, took), total+took
			asked++
		}
		b.StopTimer()
		ids := make([]int64, len(entries))
		for j, e := range entries {
			ids[j] = e.ID
		}
		if err := k.env.Index.Remove(ctx, ids...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(slowest)/float64(time.Millisecond), "max-match-ms")
	b.ReportMetric(float64(total)/float64(max(asked, 1))/float64(time.Millisecond), "mean-match-ms")
}
