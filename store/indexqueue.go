package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"xiaoshen/kb"
)

var _ kb.IndexQueue = (*Store)(nil)

// queueIndex marks an entry as changed at version and not yet indexed.
func (s *Store) queueIndex(ctx context.Context, tx *sql.Tx, id int64, version int) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO index_queue (entry_id, version, queued_at) VALUES (?, ?, ?)
		ON CONFLICT (entry_id) DO UPDATE SET version = excluded.version, queued_at = excluded.queued_at`,
		id, version, formatTime(s.Now()))
	return err
}

// QueuedIDs lists the entries waiting for the index that were queued
// before the given time (all of them when it is zero), oldest first.
func (s *Store) QueuedIDs(ctx context.Context, before time.Time) ([]int64, error) {
	cutoff := "9999" // sorts after every stored time
	if !before.IsZero() {
		cutoff = formatTime(before)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT entry_id FROM index_queue WHERE queued_at < ? ORDER BY queued_at, entry_id`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("store: queued ids: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: queued ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queued ids: %w", err)
	}
	return ids, nil
}

// CountQueued returns the number of entries waiting for the index.
func (s *Store) CountQueued(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM index_queue`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count queued: %w", err)
	}
	return n, nil
}

// maxParams keeps IN lists well below SQLite's limit on bound parameters.
const maxParams = 500

// EntriesByID returns the current state of the entries with these ids,
// deleted ones included with DeletedAt set; unknown ids are skipped.
func (s *Store) EntriesByID(ctx context.Context, ids []int64) ([]*kb.Entry, error) {
	var out []*kb.Entry
	for start := 0; start < len(ids); start += maxParams {
		chunk := ids[start:min(start+maxParams, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE id IN (?`+strings.Repeat(",?", len(chunk)-1)+`) ORDER BY id`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: entries by id: %w", err)
		}
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: entries by id: %w", err)
			}
			out = append(out, e)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: entries by id: %w", err)
		}
	}
	return out, nil
}

// MarkIndexed takes entries off the queue that the index now holds at
// their queued version or a later one. An entry changed again meanwhile
// stays queued.
func (s *Store) MarkIndexed(ctx context.Context, indexed []kb.EntryVersion) error {
	if len(indexed) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `DELETE FROM index_queue WHERE entry_id = ? AND version <= ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, ev := range indexed {
			if _, err := stmt.ExecContext(ctx, ev.ID, ev.Version); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: mark indexed: %w", err)
	}
	return nil
}

// EntryVersions returns the version of every live entry, by id.
func (s *Store) EntryVersions(ctx context.Context) (map[int64]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, version FROM entries WHERE deleted_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("store: entry versions: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var v int
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("store: entry versions: %w", err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: entry versions: %w", err)
	}
	return out, nil
}
