package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"xiaoshen/kb"
	"xiaoshen/store"
)

func mustOpenStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func faq(title string) *kb.Entry {
	return &kb.Entry{Column: kb.ColumnFAQ, Title: title, Content: "答复内容", Department: "器械注册处",
		Keywords: []string{"二类械"}, Similar: []string{"相似问法一"}, Fields: map[string]string{}}
}

func TestOpenSetsPragmasAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	for i := 0; i < 2; i++ { // the second open finds the migrations applied
		s, err := store.Open(path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		var mode string
		var fk int
		if err := s.DB().QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v", mode, err)
		}
		if err := s.DB().QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
			t.Errorf("foreign_keys = %d, %v", fk, err)
		}
		var n int
		s.DB().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
		if n == 0 {
			t.Error("no migration recorded")
		}
		s.Close()
	}
}

func TestEntryLifecycleKeepsHistory(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	clock := time.Date(2024, 9, 27, 2, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return clock }

	e := faq("二类械注册要交哪些材料")
	if err := s.CreateEntry(ctx, e, "alice"); err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 || e.Version != 1 {
		t.Fatalf("created entry id=%d version=%d", e.ID, e.Version)
	}
	got, err := s.FindEntry(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != e.Title || got.Similar[0] != "相似问法一" || got.CreatedAt.Location() != kb.Shanghai {
		t.Errorf("round trip: %+v", got)
	}
	if got.CreatedAt.Format(time.RFC3339) != "2024-09-27T10:00:00+08:00" {
		t.Errorf("created_at = %s, want shown in Asia/Shanghai", got.CreatedAt.Format(time.RFC3339))
	}
	var raw string
	s.DB().QueryRow(`SELECT created_at FROM entries WHERE id = ?`, e.ID).Scan(&raw)
	if raw != "2024-09-27T02:00:00.000000Z" {
		t.Errorf("stored created_at = %q, want UTC", raw)
	}

	clock = clock.Add(time.Hour)
	got.Content = "新的答复内容"
	if err := s.UpdateEntry(ctx, got, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteEntry(ctx, e.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindEntry(ctx, e.ID); kb.ErrorCode(err) != kb.ENOTFOUND {
		t.Errorf("deleted entry: err = %v, want not found", err)
	}
	var rows int
	s.DB().QueryRow(`SELECT COUNT(*) FROM entries WHERE id = ?`, e.ID).Scan(&rows)
	if rows != 1 {
		t.Error("delete must be soft: the row stays")
	}

	hist, err := s.EntryHistory(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ action, actor string }{{"create", "alice"}, {"update", "bob"}, {"delete", "carol"}}
	if len(hist) != len(want) {
		t.Fatalf("history has %d revisions, want %d", len(hist), len(want))
	}
	for i, w := range want {
		if hist[i].Action != w.action || hist[i].Actor != w.actor || hist[i].Version != i+1 {
			t.Errorf("revision %d = %s by %s v%d, want %s by %s v%d", i, hist[i].Action, hist[i].Actor, hist[i].Version, w.action, w.actor, i+1)
		}
	}
	if hist[1].OldValue.Content != "答复内容" || hist[1].NewValue.Content != "新的答复内容" {
		t.Errorf("update revision old/new = %q/%q", hist[1].OldValue.Content, hist[1].NewValue.Content)
	}
	if hist[2].NewValue != nil || hist[2].OldValue == nil {
		t.Error("delete revision keeps the old value only")
	}
}

func TestExternalIDUnique(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	a, b := faq("问题甲"), faq("问题乙")
	a.ExternalID, b.ExternalID = "X-1", "X-1"
	if err := s.CreateEntry(ctx, a, "t"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEntry(ctx, b, "t"); kb.ErrorCode(err) != kb.ECONFLICT {
		t.Fatalf("duplicate external id: err = %v, want conflict", err)
	}
	// After a soft delete the id may be reused.
	if _, err := s.DeleteEntry(ctx, a.ID, "t"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEntry(ctx, b, "t"); err != nil {
		t.Fatalf("reuse after delete: %v", err)
	}
}

func TestCreateEntriesIsAllOrNothing(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	a, b, c := faq("一"), faq("二"), faq("三")
	a.ExternalID, b.ExternalID, c.ExternalID = "A", "B", "A"
	if err := s.CreateEntries(ctx, []*kb.Entry{a, b, c}, "t"); err == nil {
		t.Fatal("want an error for the repeated external id")
	}
	if n, _ := s.CountEntries(ctx); n != 0 {
		t.Fatalf("%d entries written by a failed batch, want 0", n)
	}
}

func TestFindEntriesAndCounts(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	for i, col := range []kb.Column{kb.ColumnFAQ, kb.ColumnFAQ, kb.ColumnWiki} {
		e := faq(string(rune('甲' + i)))
		e.Column = col
		if err := s.CreateEntry(ctx, e, "t"); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.ColumnCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[kb.ColumnFAQ] != 2 || counts[kb.ColumnWiki] != 1 || len(counts) != 7 {
		t.Errorf("counts = %v", counts)
	}
	page, total, err := s.FindEntries(ctx, kb.EntryFilter{Column: kb.ColumnFAQ, Limit: 1})
	if err != nil || total != 2 || len(page) != 1 {
		t.Errorf("page = %d entries, total %d, err %v", len(page), total, err)
	}
}

func TestRecordQueryGroupsOpenItems(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	first := time.Date(2024, 9, 27, 2, 0, 0, 0, time.UTC)
	due := time.Date(2024, 10, 10, 15, 59, 59, 0, time.UTC)
	var ids []int64
	for i := 0; i < 3; i++ {
		asked := first.Add(time.Duration(i) * 24 * time.Hour)
		q := &kb.Query{Question: "护照过期了怎么办", AskedAt: asked}
		item := &kb.ReviewItem{Type: kb.ReviewUnanswered, Question: q.Question, GroupKey: "护照过期了怎么办", Department: "综合处",
			DueAt: due.Add(time.Duration(i) * 24 * time.Hour)} // a later ask computes a later deadline
		if err := s.RecordQuery(ctx, q, item); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, item.ID)
		if item.Occurrences != i+1 {
			t.Errorf("ask %d: occurrences = %d", i, item.Occurrences)
		}
		if !item.DueAt.Equal(due) {
			t.Errorf("ask %d: due moved to %s", i, item.DueAt)
		}
		if !item.FirstAskedAt.Equal(first) {
			t.Errorf("ask %d: first asked = %s", i, item.FirstAskedAt)
		}
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("three asks made items %v, want one", ids)
	}
}

func TestReviewBacklog(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	now := time.Date(2024, 10, 11, 2, 0, 0, 0, time.UTC)
	add := func(question, department string, due time.Time) int64 {
		t.Helper()
		q := &kb.Query{Question: question, AskedAt: due.Add(-7 * 24 * time.Hour)}
		item := &kb.ReviewItem{Type: kb.ReviewUnanswered, Question: question, GroupKey: question, Department: department, DueAt: due}
		if err := s.RecordQuery(ctx, q, item); err != nil {
			t.Fatal(err)
		}
		return item.ID
	}
	add("护照过期了怎么办", "综合处", now.Add(-time.Hour))            // overdue
	add("社保怎么转移", "综合处", now.Add(48*time.Hour))            // open, on time
	closed := add("公积金怎么提取", "器械注册处", now.Add(-time.Hour)) // overdue, then dismissed
	if _, err := s.DismissReviewItem(ctx, closed, kb.DismissOutOfScope, 0, "审核员", now); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReviewBacklog(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []kb.DepartmentBacklog{{Department: "器械注册处"}, {Department: "综合处", Open: 2, Overdue: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backlog = %v, want %v (a department whose items are all closed stays at zero)", got, want)
	}
}

func TestPing(t *testing.T) {
	s := mustOpenStore(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("open store: %v", err)
	}
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("a closed store answers Ping")
	}
}

func TestEntryExpiries(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	plain := faq("没有失效日期")
	policy := &kb.Entry{Column: kb.ColumnPolicy, Title: "有失效日期的政策", Content: "正文", Department: "法规处",
		Fields: map[string]string{kb.FieldEffectiveOn: "2024-01-01", kb.FieldExpiresOn: "2025-12-31"}}
	gone := faq("已删除")
	for _, e := range []*kb.Entry{plain, policy, gone} {
		if err := s.CreateEntry(ctx, e, "t"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteEntry(ctx, gone.ID, "t"); err != nil {
		t.Fatal(err)
	}
	got, err := s.EntryExpiries(ctx, []int64{plain.ID, policy.ID, gone.ID, 999})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{plain.ID: "", policy.ID: "2025-12-31"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v (deleted and missing entries left out)", got, want)
	}
	if got, err := s.EntryExpiries(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no ids: %v, %v", got, err)
	}
}

func TestFindEntriesByID(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	var ids []int64
	for _, title := range []string{"甲", "乙", "丙"} {
		e := faq(title)
		if err := s.CreateEntry(ctx, e, "t"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	if _, err := s.DeleteEntry(ctx, ids[1], "t"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ids  []int64
		want []string
	}{
		{"live entries", []int64{ids[0], ids[2]}, []string{"甲", "丙"}},
		{"deleted left out", []int64{ids[1], ids[2]}, []string{"丙"}},
		{"missing left out", []int64{ids[0], 999}, []string{"甲"}},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.FindEntriesByID(ctx, tt.ids)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, id := range tt.ids {
				if e, ok := got[id]; ok {
					if e.ID != id {
						t.Errorf("entry under %d has id %d", id, e.ID)
					}
					titles = append(titles, e.Title)
				}
			}
			if len(got) != len(tt.want) || strings.Join(titles, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v (%d entries), want %v", titles, len(got), tt.want)
			}
		})
	}
}
