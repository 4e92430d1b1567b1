package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"xiaoshen/kb"
)

// FindReviewItems lists review items matching f, by due time, with their
// wordings, and the total.
func (s *Store) FindReviewItems(ctx context.Context, f kb.ReviewFilter) ([]*kb.ReviewItem, int, error) {
	var c conditions
	c.eq("status", f.Status)
	c.eq("department", f.Department)
	c.eq("type", f.Type)
	if !f.ClosedSince.IsZero() {
		c.add("closed_at >= ?", formatTime(f.ClosedSince))
	}
	if f.Overdue != nil {
		if *f.Overdue {
			c.add("status = 'open' AND due_at < ?", formatTime(f.Now))
		} else {
			c.add("NOT (status = 'open' AND due_at < ?)", formatTime(f.Now))
		}
	}
	cond, args := c.sql(), c.args
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM review_items WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: find review items: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+reviewColumns+` FROM review_items WHERE `+cond+` ORDER BY due_at, id LIMIT ? OFFSET ?`,
		append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: find review items: %w", err)
	}
	defer rows.Close()
	var items []*kb.ReviewItem
	byID := map[int64]*kb.ReviewItem{}
	for rows.Next() {
		it, err := scanReviewItem(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: find review items: %w", err)
		}
		items = append(items, it)
		byID[it.ID] = it
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: find review items: %w", err)
	}
	if err := s.loadWordings(ctx, s.db, byID); err != nil {
		return nil, 0, err
	}
	return items, total, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadWordings fills the wordings of items from the questions asked.
func (s *Store) loadWordings(ctx context.Context, db querier, items map[int64]*kb.ReviewItem) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, 0, len(items))
	for id := range items {
		ids = append(ids, fmt.Sprint(id))
	}
	rows, err := db.QueryContext(ctx, `SELECT review_item_id, question, COUNT(*) FROM queries WHERE review_item_id IN (`+strings.Join(ids, ",")+`)
		GROUP BY review_item_id, question ORDER BY MIN(id)`)
	if err != nil {
		return fmt.Errorf("store: load wordings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var w kb.Wording
		if err := rows.Scan(&id, &w.Question, &w.Count); err != nil {
			return fmt.Errorf("store: load wordings: %w", err)
		}
		items[id].Wordings = append(items[id].Wordings, w)
	}
	return rows.Err()
}

// FindReviewItem returns one review item with its wordings.
func (s *Store) FindReviewItem(ctx context.Context, id int64) (*kb.ReviewItem, error) {
	it, err := scanReviewItem(s.db.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM review_items WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kb.Errorf(kb.ENOTFOUND, "待处理问题 %d 不存在", id)
	} else if err != nil {
		return nil, fmt.Errorf("store: find review item %d: %w", id, err)
	}
	if err := s.loadWordings(ctx, s.db, map[int64]*kb.ReviewItem{id: it}); err != nil {
		return nil, err
	}
	return it, nil
}

// ReviewEvents returns an item's audit trail, oldest first.
func (s *Store) ReviewEvents(ctx context.Context, id int64) ([]kb.ReviewEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, actor, action, detail FROM review_events WHERE item_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: review events %d: %w", id, err)
	}
	defer rows.Close()
	var out []kb.ReviewEvent
	for rows.Next() {
		var ev kb.ReviewEvent
		var at string
		if err := rows.Scan(&at, &ev.Actor, &ev.Action, &ev.Detail); err != nil {
			return nil, fmt.Errorf("store: review events %d: %w", id, err)
		}
		ev.At = parseTime(at)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// OpenReviewWordings returns every wording of every open item of a type.
func (s *Store) OpenReviewWordings(ctx context.Context, itemType string) (map[int64][]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT q.review_item_id, q.question FROM queries q
		JOIN review_items r ON r.id = q.review_item_id WHERE r.status = 'open' AND r.type = ?`, itemType)
	if err != nil {
		return nil, fmt.Errorf("store: open wordings: %w", err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var q string
		if err := rows.Scan(&id, &q); err != nil {
			return nil, fmt.Errorf("store: open wordings: %w", err)
		}
		out[id] = append(out[id], q)
	}
	return out, rows.Err()
}

// closeItem marks an open item closed; it fails when the item is not open,
// so that two reviewers cannot close the same item twice.
func (s *Store) closeItem(ctx context.Context, tx *sql.Tx, id int64, status, actor string, at time.Time, set string, args ...any) error {
	var due string
	if err := tx.QueryRowContext(ctx, `SELECT due_at FROM review_items WHERE id = ? AND status = 'open'`, id).Scan(&due); errors.Is(err, sql.ErrNoRows) {
		return kb.Errorf(kb.ECONFLICT, "该问题已被处理")
	} else if err != nil {
		return err
	}
	onTime := !at.After(parseTime(due))
	q := `UPDATE review_items SET status = ?, closed_at = ?, closed_on_time = ?, closed_by = ?` + set + ` WHERE id = ?`
	_, err := tx.ExecContext(ctx, q, append(append([]any{status, formatTime(at), boolInt(onTime), actor}, args...), id)...)
	return err
}

// BackfillReviewItem stores the answering entry and closes the item.
func (s *Store) BackfillReviewItem(ctx context.Context, id int64, e *kb.Entry, actor string, at time.Time) (*kb.ReviewItem, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		action := "answered"
		if e.ID == 0 {
			if err := s.createEntry(ctx, tx, e, actor); err != nil {
				return wrapEntryErr("create", e, err)
			}
		} else {
			if err := s.updateEntry(ctx, tx, e, actor); err != nil {
				return wrapEntryErr("update", e, err)
			}
			action = "linked"
		}
		if err := s.closeItem(ctx, tx, id, kb.StatusAnswered, actor, at, ", entry_id = ?", e.ID); err != nil {
			return err
		}
		return s.addEvent(ctx, tx, id, at, actor, action, fmt.Sprintf("条目 %d《%s》", e.ID, e.Title))
	})
	if err != nil {
		if kb.ErrorCode(err) != kb.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("store: backfill review item %d: %w", id, err)
	}
	return s.FindReviewItem(ctx, id)
}

// AssignReviewItem moves an open item to another department.
func (s *Store) AssignReviewItem(ctx context.Context, id int64, department, actor string) (*kb.ReviewItem, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var from string
		if err := tx.QueryRowContext(ctx, `SELECT department FROM review_items WHERE id = ? AND status = 'open'`, id).Scan(&from); errors.Is(err, sql.ErrNoRows) {
			return kb.Errorf(kb.ECONFLICT, "该问题已被处理")
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE review_items SET department = ? WHERE id = ?`, department, id); err != nil {
			return err
		}
		if err := s.ensureDepartment(ctx, tx, department); err != nil {
			return err
		}
		return s.addEvent(ctx, tx, id, s.Now(), actor, "assigned", fmt.Sprintf("%s → %s", from, department))
	})
	if err != nil {
		if kb.ErrorCode(err) != kb.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("store: assign review item %d: %w", id, err)
	}
	return s.FindReviewItem(ctx, id)
}

// DismissReviewItem closes an open item with a reason; a duplicate's
// questions and occurrences move to the item it repeats.
func (s *Store) DismissReviewItem(ctx context.Context, id int64, reason string, duplicateOf int64, actor string, at time.Time) (*kb.ReviewItem, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.closeItem(ctx, tx, id, kb.StatusDismissed, actor, at, ", dismiss_reason = ?, duplicate_of = ?", reason, nullID(duplicateOf)); err != nil {
			return err
		}
		detail := reason
		if duplicateOf != 0 {
			var occ int
			if err := tx.QueryRowContext(ctx, `SELECT occurrences FROM review_items WHERE id = ?`, id).Scan(&occ); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE review_items SET occurrences = occurrences + ? WHERE id = ?`, occ, duplicateOf); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE queries SET review_item_id = ? WHERE review_item_id = ?`, duplicateOf, id); err != nil {
				return err
			}
			detail = fmt.Sprintf("%s：并入问题 %d", reason, duplicateOf)
			if err := s.addEvent(ctx, tx, duplicateOf, at, actor, "merged", fmt.Sprintf("并入问题 %d 的 %d 次提问", id, occ)); err != nil {
				return err
			}
		}
		return s.addEvent(ctx, tx, id, at, actor, "dismissed", detail)
	})
	if err != nil {
		if kb.ErrorCode(err) != kb.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("store: dismiss review item %d: %w", id, err)
	}
	return s.FindReviewItem(ctx, id)
}

// ensureDepartment records a department name on first use.
func (s *Store) ensureDepartment(ctx context.Context, tx *sql.Tx, name string) error {
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO departments (name, created_at) VALUES (?, ?)`, name, formatTime(s.Now()))
	return err
}

// Departments lists every department named by an entry, an item, an
// account or a token, sorted.
func (s *Store) Departments(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM departments UNION SELECT department FROM entries WHERE deleted_at IS NULL
		UNION SELECT department FROM review_items UNION SELECT department FROM users WHERE department != '' ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("store: departments: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("store: departments: %w", err)
		}
		if d != "" {
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// FindQuery returns a logged question with its feedback.
func (s *Store) FindQuery(ctx context.Context, id int64) (*kb.QueryRecord, error) {
	var (
		q                      kb.QueryRecord
		asked, suggestions     string
		answered               int
		entryID, itemID, selID sql.NullInt64
		helpful                sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, question, channel, session_id, asked_at, answered, confidence, entry_id, review_item_id,
		department, suggestions, helpful, selected_entry_id, feedback_token FROM queries WHERE id = ?`, id).Scan(&q.ID, &q.Question, &q.Channel, &q.SessionID,
		&asked, &answered, &q.Confidence, &entryID, &itemID, &q.Department, &suggestions, &helpful, &selID, &q.FeedbackToken)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kb.Errorf(kb.ENOTFOUND, "问答记录 %d 不存在", id)
	} else if err != nil {
		return nil, fmt.Errorf("store: find query %d: %w", id, err)
	}
	q.AskedAt, q.Answered, q.EntryID, q.ReviewItemID, q.SelectedEntryID = parseTime(asked), answered == 1, entryID.Int64, itemID.Int64, selID.Int64
	if helpful.Valid {
		b := helpful.Int64 == 1
		q.Helpful = &b
	}
	if err := json.Unmarshal([]byte(suggestions), &q.Suggestions); err != nil {
		return nil, fmt.Errorf("store: find query %d: %w", id, err)
	}
	return &q, nil
}

// RecordFeedback stores feedback with the proposal and improvement item it
// leads to, in one transaction.
func (s *Store) RecordFeedback(ctx context.Context, fb *kb.FeedbackRequest, proposal *kb.Proposal, improve *kb.ReviewItem) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var helpful sql.NullInt64
		if fb.Helpful != nil {
			helpful = sql.NullInt64{Int64: int64(boolInt(*fb.Helpful)), Valid: true}
		}
		res, err := tx.ExecContext(ctx, `UPDATE queries SET helpful = ?, feedback_comment = ?, selected_entry_id = ?
			WHERE id = ? AND helpful IS NULL AND selected_entry_id IS NULL`, helpful, fb.Comment, nullID(fb.SelectedEntryID), fb.QueryID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kb.Errorf(kb.ECONFLICT, "该问答已评价过")
		}
		if proposal != nil {
			res, err := tx.ExecContext(ctx, `INSERT INTO similar_proposals (entry_id, question, query_id, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, proposal.EntryID, proposal.Question, proposal.QueryID, formatTime(proposal.CreatedAt))
			if err != nil {
				return err
			}
			proposal.ID, _ = res.LastInsertId()
		}
		if improve != nil {
			q := &kb.Query{Question: improve.Question, AskedAt: improve.FirstAskedAt}
			if err := s.attachReviewItem(ctx, tx, q, improve); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE queries SET review_item_id = ? WHERE id = ?`, improve.ID, fb.QueryID); err != nil {
				return err
			}
			// What the person said is what the reviewer must fix.
			detail := fb.Comment
			if detail == "" {
				detail = "（未留言）"
			}
			if err := s.addEvent(ctx, tx, improve.ID, improve.FirstAskedAt, "提问者", "feedback", detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if kb.ErrorCode(err) != kb.EINTERNAL {
			return err
		}
		return fmt.Errorf("store: record feedback on query %d: %w", fb.QueryID, err)
	}
	return nil
}

const proposalColumns = `p.id, p.entry_id, e.title, e.department, p.question, COALESCE(p.query_id, 0), p.status, p.created_at, p.decided_at, p.decided_by`

func scanProposal(row rowScanner) (*kb.Proposal, error) {
	var p kb.Proposal
	var created string
	var decided sql.NullString
	if err := row.Scan(&p.ID, &p.EntryID, &p.EntryTitle, &p.Department, &p.Question, &p.QueryID, &p.Status, &created, &decided, &p.DecidedBy); err != nil {
		return nil, err
	}
	p.CreatedAt, p.DecidedAt = parseTime(created), nullTime(decided)
	return &p, nil
}

// Proposals lists similar-question proposals, newest first.
func (s *Store) Proposals(ctx context.Context, f kb.ProposalFilter) ([]kb.Proposal, error) {
	var c conditions
	c.eq("p.status", f.Status)
	c.eq("e.department", f.Department)
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+proposalColumns+` FROM similar_proposals p JOIN entries e ON e.id = p.entry_id
		WHERE `+c.sql()+` ORDER BY p.id DESC LIMIT ?`, append(c.args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: proposals: %w", err)
	}
	defer rows.Close()
	out := []kb.Proposal{}
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("store: proposals: %w", err)
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// FindProposal returns one proposal.
func (s *Store) FindProposal(ctx context.Context, id int64) (*kb.Proposal, error) {
	p, err := scanProposal(s.db.QueryRowContext(ctx, `SELECT `+proposalColumns+` FROM similar_proposals p JOIN entries e ON e.id = p.entry_id WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kb.Errorf(kb.ENOTFOUND, "建议 %d 不存在", id)
	} else if err != nil {
		return nil, fmt.Errorf("store: find proposal %d: %w", id, err)
	}
	return p, nil
}

// DecideProposal accepts or rejects a pending proposal; accepting adds the
// wording to the entry's similar questions, recorded in its history.
func (s *Store) DecideProposal(ctx context.Context, id int64, accept bool, actor string, at time.Time) (*kb.Proposal, *kb.Entry, error) {
	var updated *kb.Entry
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		status := "rejected"
		if accept {
			status = "accepted"
		}
		res, err := tx.ExecContext(ctx, `UPDATE similar_proposals SET status = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'`,
			status, formatTime(at), actor, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return kb.Errorf(kb.ECONFLICT, "该建议已处理")
		}
		if !accept {
			return nil
		}
		var entryID int64
		var question string
		if err := tx.QueryRowContext(ctx, `SELECT entry_id, question FROM similar_proposals WHERE id = ?`, id).Scan(&entryID, &question); err != nil {
			return err
		}
		e, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM entries WHERE id = ? AND deleted_at IS NULL`, entryID))
		if errors.Is(err, sql.ErrNoRows) {
			return kb.Errorf(kb.ENOTFOUND, "条目 %d 已删除", entryID)
		} else if err != nil {
			return err
		}
		e.Similar = append(e.Similar, question)
		e.Normalize()
		if err := s.updateEntry(ctx, tx, e, actor); err != nil {
			return err
		}
		updated = e
		return nil
	})
	if err != nil {
		if kb.ErrorCode(err) != kb.EINTERNAL {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("store: decide proposal %d: %w", id, err)
	}
	p, err := s.FindProposal(ctx, id)
	return p, updated, err
}

// Stats counts questions and review items; see docs/stats.md.
func (s *Store) Stats(ctx context.Context, f kb.StatsFilter) (*kb.Stats, error) {
	var asked conditions
	if !f.From.IsZero() {
		asked.add("asked_at >= ?", formatTime(f.From))
	}
	if !f.To.IsZero() {
		asked.add("asked_at < ?", formatTime(f.To))
	}
	asked.eq("department", f.Department)
	st := &kb.Stats{Departments: []kb.DepartmentStats{}}
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(answered), 0),
		COALESCE(SUM(CASE WHEN answered = 0 AND selected_entry_id IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN answered = 1 AND helpful = 0 THEN 1 ELSE 0 END), 0)
		FROM queries WHERE `+asked.sql(), asked.args...).Scan(&st.Asked, &st.Answered, &st.ResolvedBySuggestion, &st.Unhelpful)
	if err != nil {
		return nil, fmt.Errorf("store: stats: %w", err)
	}
	st.Unanswered = st.Asked - st.Answered

	// Review figures: open and overdue items as of now; items closed in the
	// period, on time or late.
	now := formatTime(f.Now)
	deptCond, deptArgs := "1 = 1", []any{}
	closedIn := "1 = 1"
	var closedArgs []any
	if !f.From.IsZero() {
		closedIn, closedArgs = closedIn+" AND closed_at >= ?", append(closedArgs, formatTime(f.From))
	}
	if !f.To.IsZero() {
		closedIn, closedArgs = closedIn+" AND closed_at < ?", append(closedArgs, formatTime(f.To))
	}
	if f.Department != "" {
		deptCond, deptArgs = "department = ?", []any{f.Department}
	}
	q := `SELECT department,
		SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END),
		SUM(CASE WHEN status = 'open' AND due_at < ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN status != 'open' AND closed_on_time = 1 AND ` + closedIn + ` THEN 1 ELSE 0 END),
		SUM(CASE WHEN status != 'open' AND closed_on_time = 0 AND ` + closedIn + ` THEN 1 ELSE 0 END)
		FROM review_items WHERE ` + deptCond + ` GROUP BY department ORDER BY department`
	// Arguments in the order of the placeholders above.
	allArgs := append([]any{now}, closedArgs...)
	allArgs = append(allArgs, closedArgs...)
	allArgs = append(allArgs, deptArgs...)
	rows, err := s.db.QueryContext(ctx, q, allArgs...)
	if err != nil {
		return nil, fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d kb.DepartmentStats
		if err := rows.Scan(&d.Department, &d.Open, &d.Overdue, &d.ClosedOnTime, &d.ClosedLate); err != nil {
			return nil, fmt.Errorf("store: stats: %w", err)
		}
		st.Departments = append(st.Departments, d)
	}
	return st, rows.Err()
}

// ReviewBacklog counts open and overdue review items per department. It
// reads only the review_items_department index, so a metrics scrape stays
// cheap however many items have been closed.
func (s *Store) ReviewBacklog(ctx context.Context, now time.Time) ([]kb.DepartmentBacklog, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT department,
		COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'open' AND due_at < ? THEN 1 ELSE 0 END), 0)
		FROM review_items GROUP BY department ORDER BY department`, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("store: review backlog: %w", err)
	}
	defer rows.Close()
	var out []kb.DepartmentBacklog
	for rows.Next() {
		var b kb.DepartmentBacklog
		if err := rows.Scan(&b.Department, &b.Open, &b.Overdue); err != nil {
			return nil, fmt.Errorf("store: review backlog: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: review backlog: %w", err)
	}
	return out, nil
}
