package kb

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// EntryVersion names an entry at one version.
type EntryVersion struct {
	ID      int64
	Version int
}

// IndexQueue is the store's record of entry changes that have not reached
// the index: each change is queued in the transaction that makes it, and
// taken off once the index holds it.
type IndexQueue interface {
	// QueuedIDs lists the entries queued before the given time, or all of
	// them when it is zero.
	QueuedIDs(ctx context.Context, before time.Time) ([]int64, error)
	// CountQueued returns the number of queued entries.
	CountQueued(ctx context.Context) (int, error)
	// EntriesByID returns entries in their current state; deleted ones are
	// included with DeletedAt set.
	EntriesByID(ctx context.Context, ids []int64) ([]*Entry, error)
	// MarkIndexed takes entries indexed at their queued version, or a later
	// one, off the queue.
	MarkIndexed(ctx context.Context, indexed []EntryVersion) error
	// EntryVersions returns the version of every live entry by id.
	EntryVersions(ctx context.Context) (map[int64]int, error)
}

// reindexBatch is how many entries are indexed at a time, so that searches
// keep being served between the batches of a large upload.
const reindexBatch = 500

// RetryAfter is how long a queued change waits before the periodic repair
// takes it over from the write that queued it.
const RetryAfter = time.Minute

// Reindex brings the index up to the store's current state of the given
// entries (deleted ones are removed) and takes them off the queue. Each
// batch reads its entries from the store and indexes them under one lock,
// so two writes of one entry indexed in the wrong order still leave the
// newer version in the index; between batches, other writes get their turn.
func (s *Service) Reindex(ctx context.Context, ids ...int64) error {
	for start := 0; start < len(ids); start += reindexBatch {
		if err := s.reindexBatch(ctx, ids[start:min(start+reindexBatch, len(ids))]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) reindexBatch(ctx context.Context, ids []int64) error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	entries, err := s.Queue.EntriesByID(ctx, ids)
	if err != nil || len(entries) == 0 {
		return err
	}
	s.forgetHotlines()
	if err := s.Index.Put(ctx, entries...); err != nil {
		return err
	}
	done := make([]EntryVersion, len(entries))
	for i, e := range entries {
		done[i] = EntryVersion{ID: e.ID, Version: e.Version}
	}
	return s.Queue.MarkIndexed(ctx, done)
}

// indexWritten indexes entries just written to the store. The write has
// committed, so a failure here is not the caller's: it is logged, the
// entries stay queued, and the periodic repair or the next start indexes
// them. The request's cancellation does not stop it for the same reason.
func (s *Service) indexWritten(ctx context.Context, ids ...int64) {
	if len(ids) == 0 {
		return
	}
	if err := s.Reindex(context.WithoutCancel(ctx), ids...); err != nil {
		s.Logger.ErrorContext(ctx, "index update failed; the entries stay queued and are indexed by the next repair",
			"entries", len(ids), "first_entry_id", ids[0], "error", err.Error())
	}
}

// RepairQueue indexes every change queued before the given time (all of
// them when it is zero) and returns how many entries it indexed. The
// periodic repair leaves recent changes to the writes still indexing them.
func (s *Service) RepairQueue(ctx context.Context, before time.Time) (int, error) {
	ids, err := s.Queue.QueuedIDs(ctx, before)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	if err := s.Reindex(ctx, ids...); err != nil {
		return 0, fmt.Errorf("repair index queue: %w", err)
	}
	return len(ids), nil
}

// IndexReport compares the store's live entries with the index.
type IndexReport struct {
	StoreEntries   int     `json:"store_entries"`
	IndexDocuments int     `json:"index_documents"`
	Queued         int     `json:"queued"`  // changes waiting for the index
	Missing        []int64 `json:"missing"` // live entries the index lacks
	Stale          []int64 `json:"stale"`   // indexed at another version than the store's
	Extra          []int64 `json:"extra"`   // indexed but deleted or unknown in the store
	Repaired       bool    `json:"repaired"`
}

// Consistent reports whether the index holds exactly the store's live
// entries at their current versions.
func (r *IndexReport) Consistent() bool {
	return len(r.Missing) == 0 && len(r.Stale) == 0 && len(r.Extra) == 0 && r.StoreEntries == r.IndexDocuments
}

// CheckIndex compares the index with the store and, when repair is set,
// indexes the queued, missing and stale entries, removes the extra ones, and
// checks again. The report describes what was found before any repair.
func (s *Service) CheckIndex(ctx context.Context, repair bool) (*IndexReport, error) {
	report, err := s.compareIndex(ctx)
	if err != nil || !repair || (report.Consistent() && report.Queued == 0) {
		return report, err
	}
	if _, err := s.RepairQueue(ctx, time.Time{}); err != nil {
		return report, err
	}
	if err := s.Reindex(ctx, append(slices.Clone(report.Missing), report.Stale...)...); err != nil {
		return report, fmt.Errorf("repair index: %w", err)
	}
	if len(report.Extra) > 0 {
		s.indexMu.Lock()
		s.forgetHotlines()
		err := s.Index.Remove(ctx, report.Extra...)
		s.indexMu.Unlock()
		if err != nil {
			return report, fmt.Errorf("repair index: %w", err)
		}
	}
	after, err := s.compareIndex(ctx)
	if err != nil {
		return report, err
	}
	if !after.Consistent() {
		return report, fmt.Errorf("repair index: still inconsistent: %d missing, %d stale, %d extra, %d entries, %d documents",
			len(after.Missing), len(after.Stale), len(after.Extra), after.StoreEntries, after.IndexDocuments)
	}
	report.Repaired = true
	return report, nil
}

func (s *Service) compareIndex(ctx context.Context) (*IndexReport, error) {
	stored, err := s.Queue.EntryVersions(ctx)
	if err != nil {
		return nil, err
	}
	queued, err := s.Queue.CountQueued(ctx)
	if err != nil {
		return nil, err
	}
	indexed, err := s.Index.Versions(ctx)
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	docs, err := s.Index.Count()
	if err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	r := &IndexReport{StoreEntries: len(stored), IndexDocuments: int(docs), Queued: queued,
		Missing: []int64{}, Stale: []int64{}, Extra: []int64{}}
	for id, v := range stored {
		switch iv, ok := indexed[id]; {
		case !ok:
			r.Missing = append(r.Missing, id)
		case iv != v:
			r.Stale = append(r.Stale, id)
		}
	}
	for id := range indexed {
		if _, ok := stored[id]; !ok {
			r.Extra = append(r.Extra, id)
		}
	}
	slices.Sort(r.Missing)
	slices.Sort(r.Stale)
	slices.Sort(r.Extra)
	return r, nil
}
