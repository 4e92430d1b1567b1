package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"xiaoshen/api"
	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// uncoveredQuestions reads questions the corpus does not answer.
func uncoveredQuestions(t *testing.T, n int) []string {
	t.Helper()
	f, err := os.Open("../corpus/testdata/questions-uncovered.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	var qs []string
	for len(qs) < n && sc.Scan() {
		q, _, _ := strings.Cut(sc.Text(), "\t")
		qs = append(qs, q)
	}
	return qs
}

// TestConcurrentAsksUploadsAndBackfills has 50 askers asking while a
// maintainer uploads, a reviewer backfills and the index repair runs,
// through a real HTTP server;
// run it under the race detector (go test -race -run Concurrent). Every
// request must succeed, and afterwards every question, upload and backfill
// must be in the store, and the index must match the store.
func TestConcurrentAsksUploadsAndBackfills(t *testing.T) {
	const (
		askers         = 50
		asksEach       = 6
		uploads        = 5 // one per distinct title below
		rowsPerUpload  = 100
		itemsToAnswer  = 8
		uploadedPrefix = "并发上传批次"
	)
	env := testkb.New(t, testkb.Options{})
	srv := api.New(env.Service, env.Store, slog.New(slog.NewTextHandler(io.Discard, nil)), api.Options{})
	srv.SetReady(true)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := t.Context()
	_, token, err := env.Store.CreateToken(ctx, "并发测试", kb.RoleAdmin, "")
	if err != nil {
		t.Fatal(err)
	}

	// Open review items for the reviewer to backfill.
	uncovered := uncoveredQuestions(t, 40)
	for _, q := range uncovered[:itemsToAnswer] {
		if _, err := env.Service.Ask(ctx, kb.AskRequest{Question: q}); err != nil {
			t.Fatal(err)
		}
	}
	open, _, err := env.Store.FindReviewItems(ctx, kb.ReviewFilter{Status: kb.StatusOpen})
	if err != nil || len(open) == 0 {
		t.Fatalf("open items: %d, %v", len(open), err)
	}
	count := func(query string) int {
		var n int
		if err := env.Store.DB().QueryRow(query).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	queriesBefore := count(`SELECT COUNT(*) FROM queries`)
	entriesBefore := count(`SELECT COUNT(*) FROM entries WHERE deleted_at IS NULL`)

	post := func(path string, body any) (int, []byte, error) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", hs.URL+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		return resp.StatusCode, out, err
	}
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// The first row of each upload has a title unlike any other, so that
	// asking it must answer it.
	distinctTitles := []string{"麻醉药品运输证明遗失后如何补办？", "放射性药品使用许可证过期了还能用吗？",
		"医疗用毒性药品的收购单位需要什么资质？", "药品类易制毒化学品购用证明怎么申请？", "戒毒药品的处方有什么特别规定？"}
	covered := []string{"二类械注册要交哪些材料", "化妆品生产许可证怎么办理", "药品经营许可证到期了怎么换证", "医疗器械注册证可以转让吗"}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for a := 0; a < askers; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < asksEach; i++ {
				q := covered[(a+i)%len(covered)]
				if i%2 == 1 {
					q = uncovered[(a*asksEach+i)%len(uncovered)]
				}
				status, body, err := post("/api/v1/ask", map[string]string{"question": q, "session_id": fmt.Sprint(a)})
				if err != nil || status != 200 {
					fail("asker %d: %q: %d %s %v", a, q, status, body, err)
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // a maintainer's uploads, one after another
		defer wg.Done()
		<-start
		for u := 0; u < uploads; u++ {
			rows := make([]kb.SyncRow, rowsPerUpload)
			for i := range rows {
				rows[i] = kb.SyncRow{Row: i + 2, Entry: &kb.Entry{Title: fmt.Sprintf("%s%d第%d号事项如何办理？", uploadedPrefix, u, i), Content: "答复口径。"}}
			}
			rows[0].Entry.Title = distinctTitles[u]
			status, body, err := post("/api/v1/entries/sync", kb.SyncRequest{Column: kb.ColumnFAQ, Department: "综合处", Rows: rows})
			if err != nil || status != 200 {
				fail("upload %d: %d %s %v", u, status, body, err)
			}
		}
	}()
	wg.Add(1)
	go func() { // a reviewer's backfills
		defer wg.Done()
		<-start
		for _, it := range open {
			status, body, err := post(fmt.Sprintf("/api/v1/unanswered/%d/answer", it.ID), map[string]string{"content": "经核实，该事项不属于本局职能，请咨询农业农村部门。"})
			if err != nil || status != 200 {
				fail("backfill %d: %d %s %v", it.ID, status, body, err)
			}
		}
	}()
	// The periodic index repair of serve, running as often as it can; it
	// races the writers' own index updates for the same entries.
	repairDone := make(chan struct{})
	stopRepair := make(chan struct{})
	repairs := 0
	go func() {
		defer close(repairDone)
		<-start
		for {
			select {
			case <-stopRepair:
				return
			default:
			}
			if _, err := env.Service.RepairQueue(ctx, time.Time{}); err != nil {
				fail("repair: %v", err)
			}
			repairs++
			time.Sleep(20 * time.Millisecond)
		}
	}()
	close(start)
	wg.Wait()
	close(stopRepair)
	<-repairDone
	if len(failures) > 0 {
		t.Fatalf("%d requests failed, first: %s", len(failures), failures[0])
	}

	if got, want := count(`SELECT COUNT(*) FROM queries`), queriesBefore+askers*asksEach; got != want {
		t.Errorf("%d questions recorded, want %d", got, want)
	}
	if got, want := count(`SELECT COUNT(*) FROM entries WHERE deleted_at IS NULL`), entriesBefore+uploads*rowsPerUpload+len(open); got != want {
		t.Errorf("%d entries, want %d (%d before, %d uploaded, %d backfilled)", got, want, entriesBefore, uploads*rowsPerUpload, len(open))
	}
	for _, it := range open {
		got, err := env.Store.FindReviewItem(ctx, it.ID)
		if err != nil || got.Status != kb.StatusAnswered || got.EntryID == 0 {
			t.Errorf("item %d after backfill: %+v, %v", it.ID, got, err)
		}
	}
	report, err := env.Service.CheckIndex(ctx, false)
	if err != nil || !report.Consistent() || report.Queued != 0 {
		t.Fatalf("index after the run: %+v, %v", report, err)
	}
	for _, title := range distinctTitles {
		res, err := env.Service.Ask(ctx, kb.AskRequest{Question: title})
		if err != nil || !res.Answered || res.Answer.Title != title {
			t.Errorf("uploaded entry %q not answered: %+v, %v", title, res, err)
		}
	}
	t.Logf("%d asks by %d askers, %d uploads of %d rows, %d backfills and %d queue repairs: all recorded; index consistent with %d entries",
		askers*asksEach, askers, uploads, rowsPerUpload, len(open), repairs, report.StoreEntries)
}
