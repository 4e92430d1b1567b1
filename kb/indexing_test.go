package kb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// failingIndex is the real index with Put and Remove failing on demand, as
// a full disk or a crash between the store and the index would.
type failingIndex struct {
	kb.Index
	mu    sync.Mutex
	fails int // the next fails calls fail
}

var errDiskFull = errors.New("index: no space left on device")

func (f *failingIndex) failNext(n int) {
	f.mu.Lock()
	f.fails = n
	f.mu.Unlock()
}

func (f *failingIndex) fail() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return true
	}
	return false
}

func (f *failingIndex) Put(ctx context.Context, entries ...*kb.Entry) error {
	if f.fail() {
		return errDiskFull
	}
	return f.Index.Put(ctx, entries...)
}

func (f *failingIndex) Remove(ctx context.Context, ids ...int64) error {
	if f.fail() {
		return errDiskFull
	}
	return f.Index.Remove(ctx, ids...)
}

// mustFailingService is the corpus KB whose index fails on demand, with its
// log captured.
func mustFailingService(t *testing.T) (*testkb.Env, *failingIndex, *bytes.Buffer) {
	t.Helper()
	env := testkb.New(t, testkb.Options{})
	idx := &failingIndex{Index: env.Index}
	env.Service.Index = idx
	var logs bytes.Buffer
	env.Service.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	return env, idx, &logs
}

func mustCheck(t *testing.T, svc *kb.Service, repair bool) *kb.IndexReport {
	t.Helper()
	r, err := svc.CheckIndex(context.Background(), repair)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFreshIndexIsConsistent(t *testing.T) {
	env, _, _ := mustFailingService(t)
	r := mustCheck(t, env.Service, false)
	if !r.Consistent() || r.Queued != 0 || r.StoreEntries == 0 || r.StoreEntries != r.IndexDocuments {
		t.Fatalf("report = %+v, want consistent", r)
	}
}

func TestFailedIndexUpdateIsQueuedReportedAndRepaired(t *testing.T) {
	ctx := context.Background()
	admin := &kb.Principal{Name: "admin", Role: kb.RoleAdmin}
	const question = "麻醉药品运输证明遗失了怎么补办"
	tests := []struct {
		name  string
		write func(t *testing.T, env *testkb.Env) int64
		want  func(r *kb.IndexReport, id int64) bool
	}{
		{"create", func(t *testing.T, env *testkb.Env) int64 {
			e := &kb.Entry{Column: kb.ColumnFAQ, Title: question, Content: "向原发证部门申请补办。", Department: "药品监管处"}
			if err := env.Service.CreateEntry(ctx, e, "t"); err != nil {
				t.Fatalf("the write committed, so it succeeds: %v", err)
			}
			return e.ID
		}, func(r *kb.IndexReport, id int64) bool { return fmt.Sprint(r.Missing) == fmt.Sprint([]int64{id}) }},
		{"update", func(t *testing.T, env *testkb.Env) int64 {
			e, err := env.Store.FindEntry(ctx, env.ByExternalID["faq-dev2-materials"])
			if err != nil {
				t.Fatal(err)
			}
			e.Similar = append(e.Similar, question)
			if err := env.Service.UpdateEntry(ctx, e, "t"); err != nil {
				t.Fatal(err)
			}
			return e.ID
		}, func(r *kb.IndexReport, id int64) bool { return fmt.Sprint(r.Stale) == fmt.Sprint([]int64{id}) }},
		{"delete", func(t *testing.T, env *testkb.Env) int64 {
			id := env.ByExternalID["faq-dev2-materials"]
			if err := env.Service.DeleteEntry(ctx, id, "t"); err != nil {
				t.Fatal(err)
			}
			return id
		}, func(r *kb.IndexReport, id int64) bool { return fmt.Sprint(r.Extra) == fmt.Sprint([]int64{id}) }},
		{"upload", func(t *testing.T, env *testkb.Env) int64 {
			res, err := env.Service.Sync(ctx, admin, kb.SyncRequest{Column: kb.ColumnFAQ, Department: "药品监管处",
				Rows: []kb.SyncRow{{Row: 2, Entry: &kb.Entry{Title: question, Content: "向原发证部门申请补办。"}}}})
			if err != nil || !res.Written {
				t.Fatalf("sync: %+v %v", res, err)
			}
			return res.Changes[0].EntryID
		}, func(r *kb.IndexReport, id int64) bool { return fmt.Sprint(r.Missing) == fmt.Sprint([]int64{id}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, idx, logs := mustFailingService(t)
			if _, ok := env.ByExternalID["faq-dev2-materials"]; !ok {
				t.Fatal("corpus entry faq-dev2-materials not found")
			}
			idx.failNext(1)
			id := tt.write(t, env)
			if !strings.Contains(logs.String(), "index update failed") {
				t.Errorf("the failure must be logged, not silent; logs:\n%s", logs)
			}
			r := mustCheck(t, env.Service, false)
			if r.Consistent() || r.Queued != 1 || !tt.want(r, id) {
				t.Fatalf("check = %+v, want entry %d reported and queued", r, id)
			}
			r = mustCheck(t, env.Service, true)
			if !r.Repaired {
				t.Fatalf("repair: %+v", r)
			}
			if r = mustCheck(t, env.Service, false); !r.Consistent() || r.Queued != 0 {
				t.Fatalf("after repair: %+v", r)
			}
		})
	}
}

func TestRepairQueueIndexesWhatTheFailedWriteMissed(t *testing.T) {
	env, idx, _ := mustFailingService(t)
	ctx := context.Background()
	e := &kb.Entry{Column: kb.ColumnFAQ, Title: "麻醉药品运输证明遗失了怎么补办", Content: "向原发证部门申请补办。", Department: "药品监管处"}
	idx.failNext(1)
	if err := env.Service.CreateEntry(ctx, e, "t"); err != nil {
		t.Fatal(err)
	}
	res, err := env.Service.Ask(ctx, kb.AskRequest{Question: "麻醉药品运输证明遗失了怎么补办"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Answered && res.Answer.EntryID == e.ID {
		t.Fatal("the entry cannot be answered before it is indexed")
	}
	n, err := env.Service.RepairQueue(ctx, env.Service.Now())
	if err != nil || n != 1 {
		t.Fatalf("RepairQueue = %d, %v; want 1", n, err)
	}
	res, err = env.Service.Ask(ctx, kb.AskRequest{Question: "麻醉药品运输证明遗失了怎么补办"})
	if err != nil || !res.Answered || res.Answer.EntryID != e.ID {
		t.Fatalf("after repair: %+v, %v", res, err)
	}
	if n, _ := env.Store.CountQueued(ctx); n != 0 {
		t.Errorf("%d entries still queued", n)
	}
}

func TestReindexKeepsTheNewestVersion(t *testing.T) {
	env, _, _ := mustFailingService(t)
	ctx := context.Background()
	e, err := env.Store.FindEntry(ctx, env.ByExternalID["faq-dev2-materials"])
	if err != nil {
		t.Fatal(err)
	}
	// Two writes whose index updates run in the opposite order: the first
	// one's update runs last, yet reads the store's current state.
	for _, content := range []string{"第一次修改", "第二次修改"} {
		e.Content = content
		if err := env.Store.UpdateEntry(ctx, e, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Service.Reindex(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	versions, err := env.Index.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if versions[e.ID] != e.Version {
		t.Fatalf("indexed version %d, store version %d", versions[e.ID], e.Version)
	}
}
