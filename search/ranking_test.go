package search_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"xiaoshen/corpus"
	"xiaoshen/internal/testkb"
)

var update = flag.Bool("update", false, "rewrite testdata/ranking.golden with the current results")

// Floors for the corpus question set, set a little under what was measured
// (see testdata/ranking.golden).
const (
	floorHitAt1   = 0.77 // covered questions whose top candidate is right (reached 0.786)
	floorAnswered = 0.39 // covered questions answered with the right entry (reached 0.421)
	// Uncovered questions left unanswered (reached 0.953). The threshold
	// rule lets 5% of them be answered on cross-validated predictions, so
	// the committed model sits at 0.95 give or take a question; the floor
	// is a little under, as the others are.
	floorAbstention  = 0.94
	ceilWrongAnswers = 0.05 // covered questions answered with a wrong entry
)

// TestRankingOnCorpusQuestions asks every question of corpus/testdata through
// the domain service and checks recall, answers and abstention against
// floors. The per-question outcome is kept in testdata/ranking.golden, so a
// ranking change shows up as a readable diff.
func TestRankingOnCorpusQuestions(t *testing.T) {
	// Expiry judged on the day the questions were labelled, as eval does.
	env := testkb.New(t, testkb.Options{Now: func() time.Time { return corpus.LabelledOn }})
	idToExt := map[int64]string{}
	for ext, id := range env.ByExternalID {
		idToExt[id] = ext
	}
	ctx := context.Background()
	var covered, top1, answeredRight, answeredWrong, uncovered, abstained int
	var rr float64
	var lines []string
	for _, q := range readQuestions(t) {
		for _, id := range strings.Split(q.Expected, ",") {
			if _, ok := env.ByExternalID[id]; !ok && id != "-" {
				t.Fatalf("%s: %q expects unknown entry %q", q.Source, q.Question, id)
			}
		}
		cands, err := env.Index.Match(ctx, q.Question, 5)
		if err != nil {
			t.Fatal(err)
		}
		res, err := env.Service.Ask(ctx, askRequest(q.Question))
		if err != nil {
			t.Fatal(err)
		}
		got := "-"
		if res.Answered {
			got = idToExt[res.Answer.EntryID]
		}
		top := "-"
		if len(cands) > 0 {
			top = idToExt[cands[0].EntryID]
		}
		mark := "ok"
		if q.Expected == "-" {
			uncovered++
			if !res.Answered {
				abstained++
			} else {
				mark = "FALSE-ANSWER"
			}
		} else {
			covered++
			for i, c := range cands {
				if q.Accepts(idToExt[c.EntryID]) {
					rr += 1 / float64(i+1)
					break
				}
			}
			if q.Accepts(top) {
				top1++
			}
			switch {
			case q.Accepts(got):
				answeredRight++
			case got == "-":
				mark = "abstained"
			default:
				answeredWrong++
				mark = "WRONG"
			}
		}
		lines = append(lines, fmt.Sprintf("%s\t%s\texpected=%s\tanswer=%s\ttop=%s\tconf=%.2f", mark, q.Question, q.Expected, got, top, res.Confidence))
	}
	sort.Strings(lines)
	ratio := func(a, b int) float64 { return float64(a) / float64(max(b, 1)) }
	summary := fmt.Sprintf("covered=%d hit@1=%.3f mrr@5=%.3f answered-right=%.3f answered-wrong=%.3f uncovered=%d abstained=%.3f threshold=%.2f",
		covered, ratio(top1, covered), rr/float64(max(covered, 1)), ratio(answeredRight, covered), ratio(answeredWrong, covered),
		uncovered, ratio(abstained, uncovered), env.Service.Threshold)
	t.Log(summary)
	golden := summary + "\n" + strings.Join(lines, "\n") + "\n"
	const path = "testdata/ranking.golden"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(golden), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if want, err := os.ReadFile(path); err == nil && string(want) != golden {
		t.Logf("ranking differs from %s (run with -update to accept); current summary: %s", path, summary)
	}

	if covered < 60 || uncovered < 20 {
		t.Fatalf("question set too small: %d covered, %d uncovered", covered, uncovered)
	}
	if got := ratio(top1, covered); got < floorHitAt1 {
		t.Errorf("hit@1 = %.3f, below floor %.2f", got, floorHitAt1)
	}
	if got := ratio(answeredRight, covered); got < floorAnswered {
		t.Errorf("answered correctly = %.3f, below floor %.2f", got, floorAnswered)
	}
	if got := ratio(answeredWrong, covered); got > ceilWrongAnswers {
		t.Errorf("answered wrongly = %.3f, above ceiling %.2f", got, ceilWrongAnswers)
	}
	if got := ratio(abstained, uncovered); got < floorAbstention {
		t.Errorf("abstention on uncovered questions = %.3f, below floor %.2f", got, floorAbstention)
	}
}
