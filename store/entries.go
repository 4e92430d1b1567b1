package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"xiaoshen/kb"
)

var _ kb.Store = (*Store)(nil)

const entryColumns = `id, external_id, column_code, title, content, department, matter, keywords, similar, fields, version, created_at, updated_at, deleted_at, created_by`

type rowScanner interface{ Scan(dest ...any) error }

func scanEntry(row rowScanner) (*kb.Entry, error) {
	var (
		e                    kb.Entry
		col, kw, sim, fields string
		created, updated     string
		deleted              sql.NullString
	)
	if err := row.Scan(&e.ID, &e.ExternalID, &col, &e.Title, &e.Content, &e.Department, &e.Matter, &kw, &sim, &fields, &e.Version, &created, &updated, &deleted, &e.CreatedBy); err != nil {
		return nil, err
	}
	e.Column = kb.Column(col)
	if err := json.Unmarshal([]byte(kw), &e.Keywords); err != nil {
		return nil, fmt.Errorf("entry %d keywords: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(sim), &e.Similar); err != nil {
		return nil, fmt.Errorf("entry %d similar: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
		return nil, fmt.Errorf("entry %d fields: %w", e.ID, err)
	}
	e.CreatedAt, e.UpdatedAt, e.DeletedAt = parseTime(created), parseTime(updated), nullTime(deleted)
	return &e, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func listJSON(items []string) string {
	if items == nil {
		items = []string{}
	}
	return mustJSON(items)
}

func fieldsJSON(fields map[string]string) string {
	if fields == nil {
		fields = map[string]string{}
	}
	return mustJSON(fields)
}

// CreateEntry inserts a new entry and its first revision.
func (s *Store) CreateEntry(ctx context.Context, e *kb.Entry, actor string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.createEntry(ctx, tx, e, actor) })
	if err != nil {
		return wrapEntryErr("create", e, err)
	}
	return nil
}

func wrapEntryErr(op string, e *kb.Entry, err error) error {
	if kb.ErrorCode(err) != kb.EINTERNAL {
		return err
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed: entries.external_id") {
		return kb.Errorf(kb.ECONFLICT, "编号 %q 已被其他条目使用", e.ExternalID)
	}
	return fmt.Errorf("store: %s entry %q: %w", op, e.Title, err)
}

func (s *Store) createEntry(ctx context.Context, tx *sql.Tx, e *kb.Entry, actor string) error {
	now := s.Now()
	e.Version, e.CreatedAt, e.UpdatedAt, e.DeletedAt, e.CreatedBy = 1, now.In(kb.Shanghai), now.In(kb.Shanghai), nil, actor
	res, err := tx.ExecContext(ctx, `INSERT INTO entries (external_id, column_code, title, content, department, matter, keywords, similar, fields, version, created_at, updated_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
		e.ExternalID, string(e.Column), e.Title, e.Content, e.Department, e.Matter,
		listJSON(e.Keywords), listJSON(e.Similar), fieldsJSON(e.Fields), formatTime(now), formatTime(now), actor)
	if err != nil {
		return err
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	return s.addRevision(ctx, tx, e.ID, e.Version, "create", actor, nil, e)
}

func (s *Store) addRevision(ctx context.Context, tx *sql.Tx, id int64, version int, action, actor string, old, new *kb.Entry) error {
	var oldJSON, newJSON sql.NullString
	if old != nil {
		oldJSON = sql.NullString{String: mustJSON(old), Valid: true}
	}
	if new != nil {
		newJSON = sql.NullString{String: mustJSON(new), Valid: true}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO entry_revisions (entry_id, version, action, actor, at, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, version, action, actor, formatTime(s.Now()), oldJSON, newJSON)
	if err != nil {
		return err
	}
	// Every recorded change is queued for the index in the same
	// transaction, so no change can reach the store without a marker.
	return s.queueIndex(ctx, tx, id, version)
}

// UpdateEntry replaces an entry's data and records the old and new values.
func (s *Store) UpdateEntry(ctx context.Context, e *kb.Entry, actor string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.updateEntry(ctx, tx, e, actor) })
	if err != nil {
		return wrapEntryErr("update", e, err)
	}
	return nil
}

// updateEntry replaces an entry's data. An update made from the deleted
// version of a deleted entry (as an upload does with a row whose 编号 was
// deleted) restores it; any other update of a deleted entry finds none.
func (s *Store) updateEntry(ctx context.Context, tx *sql.Tx, e *kb.Entry, actor string) error {
	old, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE id = ?`, e.ID))
	restore := err == nil && old.DeletedAt != nil && e.Version != 0 && e.Version == old.Version
	if errors.Is(err, sql.ErrNoRows) || err == nil && old.DeletedAt != nil && !restore {
		return kb.Errorf(kb.ENOTFOUND, "条目 %d 不存在", e.ID)
	} else if err != nil {
		return err
	}
	if e.Version != 0 && e.Version != old.Version {
		// The caller read another version: writing would lose the change
		// made since.
		return kb.Errorf(kb.ECONFLICT, "条目 %d 已被他人修改（读取时为第 %d 版，现为第 %d 版）。为免覆盖那次修改，本次没有写入，请重新读取后再提交", e.ID, e.Version, old.Version)
	}
	now := s.Now()
	e.Version, e.CreatedAt, e.UpdatedAt, e.CreatedBy, e.DeletedAt = old.Version+1, old.CreatedAt, now.In(kb.Shanghai), old.CreatedBy, nil
	_, err = tx.ExecContext(ctx, `UPDATE entries SET external_id = ?, column_code = ?, title = ?, content = ?, department = ?, matter = ?,
		keywords = ?, similar = ?, fields = ?, version = ?, updated_at = ?, deleted_at = NULL WHERE id = ?`,
		e.ExternalID, string(e.Column), e.Title, e.Content, e.Department, e.Matter,
		listJSON(e.Keywords), listJSON(e.Similar), fieldsJSON(e.Fields), e.Version, formatTime(now), e.ID)
	if err != nil {
		return err
	}
	action := "update"
	if restore {
		action = "restore"
	}
	return s.addRevision(ctx, tx, e.ID, e.Version, action, actor, old, e)
}

// DeletedEntries returns, by 编号, the most recently deleted entry of every
// 编号 that no live entry has: what an upload of that 编号 restores.
func (s *Store) DeletedEntries(ctx context.Context) (map[string]*kb.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM entries d WHERE deleted_at IS NOT NULL AND external_id != ''
		AND NOT EXISTS (SELECT 1 FROM entries l WHERE l.external_id = d.external_id AND l.deleted_at IS NULL) ORDER BY deleted_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: deleted entries: %w", err)
	}
	defer rows.Close()
	out := map[string]*kb.Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("store: deleted entries: %w", err)
		}
		out[e.ExternalID] = e // later deletions overwrite earlier ones
	}
	return out, rows.Err()
}

// DeleteEntry soft-deletes an entry and returns it as it was.
func (s *Store) DeleteEntry(ctx context.Context, id int64, actor string) (*kb.Entry, error) {
	var deleted *kb.Entry
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		deleted, err = s.deleteEntry(ctx, tx, id, actor)
		return err
	})
	if err != nil && kb.ErrorCode(err) == kb.EINTERNAL {
		return nil, fmt.Errorf("store: delete entry %d: %w", id, err)
	}
	return deleted, err
}

func (s *Store) deleteEntry(ctx context.Context, tx *sql.Tx, id int64, actor string) (*kb.Entry, error) {
	old, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE id = ? AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kb.Errorf(kb.ENOTFOUND, "条目 %d 不存在", id)
	} else if err != nil {
		return nil, err
	}
	now := s.Now()
	if _, err := tx.ExecContext(ctx, `UPDATE entries SET deleted_at = ?, version = version + 1, updated_at = ? WHERE id = ?`, formatTime(now), formatTime(now), id); err != nil {
		return nil, err
	}
	t := now.In(kb.Shanghai)
	old.DeletedAt = &t
	old.Version++
	return old, s.addRevision(ctx, tx, id, old.Version, "delete", actor, old, nil)
}

// FindEntry returns a live entry by id.
func (s *Store) FindEntry(ctx context.Context, id int64) (*kb.Entry, error) {
	e, err := scanEntry(s.db.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE id = ? AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kb.Errorf(kb.ENOTFOUND, "条目 %d 不存在", id)
	} else if err != nil {
		return nil, fmt.Errorf("store: find entry %d: %w", id, err)
	}
	return e, nil
}

// FindEntriesByID returns the live entries among ids, by id.
func (s *Store) FindEntriesByID(ctx context.Context, ids []int64) (map[int64]*kb.Entry, error) {
	out := make(map[int64]*kb.Entry, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// One statement for any number of ids: the ids go in as a JSON array.
	rows, err := s.queryPrepared(ctx, `SELECT `+entryColumns+` FROM entries WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL`, mustJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("store: find entries %v: %w", ids, err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("store: find entries %v: %w", ids, err)
		}
		out[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: find entries %v: %w", ids, err)
	}
	return out, nil
}

// EntryExpiries returns the 失效日期 of the live entries among ids.
func (s *Store) EntryExpiries(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.queryPrepared(ctx, `SELECT id, COALESCE(json_extract(fields, '$.`+kb.FieldExpiresOn+`'), '') FROM entries
		WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL`, mustJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("store: entry expiries %v: %w", ids, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var expires string
		if err := rows.Scan(&id, &expires); err != nil {
			return nil, fmt.Errorf("store: entry expiries %v: %w", ids, err)
		}
		out[id] = expires
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: entry expiries %v: %w", ids, err)
	}
	return out, nil
}

// FindEntries lists live entries matching f, and the total count.
func (s *Store) FindEntries(ctx context.Context, f kb.EntryFilter) ([]*kb.Entry, int, error) {
	var c conditions
	c.add("deleted_at IS NULL")
	c.eq("column_code", string(f.Column))
	c.eq("department", f.Department)
	c.eq("matter", f.Matter)
	c.eq("external_id", f.ExternalID)
	c.eq("title", f.Title)
	cond, args := c.sql(), c.args
	var total int
	// The text of these two queries depends only on which filters are set,
	// so they are prepared once per shape.
	st, err := s.prepared(ctx, `SELECT COUNT(*) FROM entries WHERE `+cond)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find entries: %w", err)
	}
	if err := st.QueryRowContext(ctx, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: find entries: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.queryPrepared(ctx, `SELECT `+entryColumns+` FROM entries WHERE `+cond+` ORDER BY id LIMIT ? OFFSET ?`, append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find entries: %w", err)
	}
	defer rows.Close()
	var out []*kb.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: find entries: %w", err)
		}
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// EachEntry calls fn for every live entry in id order.
func (s *Store) EachEntry(ctx context.Context, fn func(*kb.Entry) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return fmt.Errorf("store: each entry: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return fmt.Errorf("store: each entry: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ColumnCounts counts live entries per column; every column is present.
func (s *Store) ColumnCounts(ctx context.Context) (map[kb.Column]int, error) {
	counts := map[kb.Column]int{}
	for _, c := range kb.Columns {
		counts[c] = 0
	}
	rows, err := s.db.QueryContext(ctx, `SELECT column_code, COUNT(*) FROM entries WHERE deleted_at IS NULL GROUP BY column_code`)
	if err != nil {
		return nil, fmt.Errorf("store: column counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return nil, fmt.Errorf("store: column counts: %w", err)
		}
		counts[kb.Column(c)] = n
	}
	return counts, rows.Err()
}

// EntryHistory returns an entry's revisions, oldest first.
func (s *Store) EntryHistory(ctx context.Context, id int64) ([]kb.Revision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, entry_id, version, action, actor, at, old_value, new_value FROM entry_revisions WHERE entry_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: entry history %d: %w", id, err)
	}
	defer rows.Close()
	var out []kb.Revision
	for rows.Next() {
		var r kb.Revision
		var at string
		var oldV, newV sql.NullString
		if err := rows.Scan(&r.ID, &r.EntryID, &r.Version, &r.Action, &r.Actor, &at, &oldV, &newV); err != nil {
			return nil, fmt.Errorf("store: entry history %d: %w", id, err)
		}
		r.At = parseTime(at)
		for _, p := range []struct {
			src sql.NullString
			dst **kb.Entry
		}{{oldV, &r.OldValue}, {newV, &r.NewValue}} {
			if p.src.Valid {
				var e kb.Entry
				if err := json.Unmarshal([]byte(p.src.String), &e); err != nil {
					return nil, fmt.Errorf("store: entry history %d: %w", id, err)
				}
				*p.dst = &e
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, kb.Errorf(kb.ENOTFOUND, "条目 %d 不存在", id)
	}
	return out, rows.Err()
}

// CreateEntries inserts entries in one transaction: all or nothing.
func (s *Store) CreateEntries(ctx context.Context, entries []*kb.Entry, actor string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range entries {
			if err := s.createEntry(ctx, tx, e, actor); err != nil {
				return wrapEntryErr("create", e, err)
			}
		}
		return nil
	})
}

// CountEntries returns the number of live entries.
func (s *Store) CountEntries(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM entries WHERE deleted_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count entries: %w", err)
	}
	return n, nil
}

// ApplySync writes an upload in one transaction: all or nothing.
func (s *Store) ApplySync(ctx context.Context, creates, updates []*kb.Entry, deletes []int64, actor string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range creates {
			if err := s.createEntry(ctx, tx, e, actor); err != nil {
				return wrapEntryErr("create", e, err)
			}
			if err := s.ensureDepartment(ctx, tx, e.Department); err != nil {
				return err
			}
		}
		for _, e := range updates {
			if err := s.updateEntry(ctx, tx, e, actor); err != nil {
				return wrapEntryErr("update", e, err)
			}
		}
		for _, id := range deletes {
			if _, err := s.deleteEntry(ctx, tx, id, actor); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && kb.ErrorCode(err) == kb.EINTERNAL {
		return fmt.Errorf("store: apply upload: %w", err)
	}
	return err
}
