package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"xiaoshen/kb"
	"xiaoshen/store"
)

func queueOf(t *testing.T, s interface {
	QueuedIDs(context.Context, time.Time) ([]int64, error)
}) []int64 {
	t.Helper()
	ids, err := s.QueuedIDs(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestEveryEntryChangeIsQueuedForTheIndex(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	e := faq("二类械注册要交哪些材料")
	if err := s.CreateEntry(ctx, e, "t"); err != nil {
		t.Fatal(err)
	}
	if got := queueOf(t, s); len(got) != 1 || got[0] != e.ID {
		t.Fatalf("after create: queue = %v, want [%d]", got, e.ID)
	}
	if err := s.MarkIndexed(ctx, []kb.EntryVersion{{ID: e.ID, Version: 1}}); err != nil {
		t.Fatal(err)
	}
	if got := queueOf(t, s); len(got) != 0 {
		t.Fatalf("after indexing: queue = %v, want empty", got)
	}

	t.Run("update", func(t *testing.T) {
		e.Content = "新的答复"
		if err := s.UpdateEntry(ctx, e, "t"); err != nil {
			t.Fatal(err)
		}
		if got := queueOf(t, s); len(got) != 1 {
			t.Fatalf("queue = %v", got)
		}
	})
	t.Run("an older version indexed leaves the newer one queued", func(t *testing.T) {
		// Version 2 is queued; a slow writer that indexed version 1 must not
		// take it off.
		if err := s.MarkIndexed(ctx, []kb.EntryVersion{{ID: e.ID, Version: 1}}); err != nil {
			t.Fatal(err)
		}
		if got := queueOf(t, s); len(got) != 1 {
			t.Fatalf("queue = %v, want the entry still queued", got)
		}
		if err := s.MarkIndexed(ctx, []kb.EntryVersion{{ID: e.ID, Version: 2}}); err != nil {
			t.Fatal(err)
		}
		if got := queueOf(t, s); len(got) != 0 {
			t.Fatalf("queue = %v, want empty", got)
		}
	})
	t.Run("delete, and the deleted entry is read back for removal", func(t *testing.T) {
		if _, err := s.DeleteEntry(ctx, e.ID, "t"); err != nil {
			t.Fatal(err)
		}
		if got := queueOf(t, s); len(got) != 1 {
			t.Fatalf("queue = %v", got)
		}
		got, err := s.EntriesByID(ctx, []int64{e.ID, 9999})
		if err != nil || len(got) != 1 || got[0].DeletedAt == nil || got[0].Version != 3 {
			t.Fatalf("EntriesByID = %+v, %v; want the deleted entry at version 3", got, err)
		}
	})
	t.Run("an upload queues all its rows in its own transaction", func(t *testing.T) {
		a, b := faq("一"), faq("二")
		if err := s.ApplySync(ctx, []*kb.Entry{a, b}, nil, nil, "t"); err != nil {
			t.Fatal(err)
		}
		if got := queueOf(t, s); len(got) != 3 {
			t.Fatalf("queue = %v, want the deleted entry and the two new ones", got)
		}
		n, err := s.CountQueued(ctx)
		if err != nil || n != 3 {
			t.Fatalf("CountQueued = %d, %v", n, err)
		}
	})
	t.Run("a failed upload queues nothing", func(t *testing.T) {
		c, d := faq("三"), faq("四")
		c.ExternalID, d.ExternalID = "SAME", "SAME"
		if err := s.ApplySync(ctx, []*kb.Entry{c, d}, nil, nil, "t"); err == nil {
			t.Fatal("want a conflict")
		}
		if got := queueOf(t, s); len(got) != 3 {
			t.Fatalf("queue = %v, want unchanged", got)
		}
	})
	t.Run("versions of live entries", func(t *testing.T) {
		v, err := s.EntryVersions(ctx)
		if err != nil || len(v) != 2 || v[e.ID] != 0 {
			t.Fatalf("EntryVersions = %v, %v", v, err)
		}
	})
}

func TestQueuedIDsBefore(t *testing.T) {
	s := mustOpenStore(t)
	ctx := context.Background()
	clock := time.Date(2024, 9, 27, 2, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return clock }
	old := faq("早先的")
	if err := s.CreateEntry(ctx, old, "t"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	if err := s.CreateEntry(ctx, faq("刚写的"), "t"); err != nil {
		t.Fatal(err)
	}
	got, err := s.QueuedIDs(ctx, clock.Add(-time.Minute))
	if err != nil || len(got) != 1 || got[0] != old.ID {
		t.Fatalf("QueuedIDs(before) = %v, %v; want only [%d]", got, err, old.ID)
	}
}

func TestIntegrityCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	entries := make([]*kb.Entry, 300)
	for i := range entries {
		entries[i] = faq(fmt.Sprintf("第%d个问题怎么办理", i))
		entries[i].ExternalID = fmt.Sprintf("Q-%03d", i)
	}
	if err := s.CreateEntries(ctx, entries, "t"); err != nil {
		t.Fatal(err)
	}
	if problems, err := s.IntegrityCheck(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("sound database: %v, %v", problems, err)
	}
	var pageSize, rootPage int64
	s.DB().QueryRow(`PRAGMA page_size`).Scan(&pageSize)
	s.DB().QueryRow(`SELECT rootpage FROM sqlite_schema WHERE name = 'entries_external_id'`).Scan(&rootPage)
	if _, err := s.DB().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Garble the external-id index's root page: the table still reads, the
	// index no longer matches it.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, 64), (rootPage-1)*pageSize+200); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s, err = store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	problems, err := s.IntegrityCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 {
		t.Fatal("a garbled index page passed the integrity check")
	}
	t.Logf("integrity_check: %d problems, first %.80q", len(problems), problems[0])
}
