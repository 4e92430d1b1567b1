package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"xiaoshen/kb"
)

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// RecordQuery stores an asked question and, when it was not answered, adds
// it to the open review item with the same group key or creates one. The
// deadline of an existing item never moves.
func (s *Store) RecordQuery(ctx context.Context, q *kb.Query, item *kb.ReviewItem) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		switch {
		case item != nil:
			if err := s.attachReviewItem(ctx, tx, q, item); err != nil {
				return err
			}
			q.ReviewItemID = item.ID
		case q.ReviewItemID != 0:
			// Asked again of an item that stays closed (a recent
			// dismissal): it counts the occurrence all the same.
			if _, err := s.txExec(ctx, tx, `UPDATE review_items SET occurrences = occurrences + 1, last_asked_at = ? WHERE id = ?`,
				formatTime(q.AskedAt), q.ReviewItemID); err != nil {
				return err
			}
		}
		suggestions := q.Suggestions
		if suggestions == nil {
			suggestions = []int64{}
		}
		res, err := s.txExec(ctx, tx, `INSERT INTO queries (question, channel, session_id, asked_at, answered, confidence, entry_id, review_item_id, department, suggestions, feedback_token)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, q.Question, q.Channel, q.SessionID, formatTime(q.AskedAt), boolInt(q.Answered), q.Confidence,
			nullID(q.EntryID), nullID(q.ReviewItemID), q.Department, mustJSON(suggestions), q.FeedbackToken)
		if err != nil {
			return err
		}
		q.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record query: %w", err)
	}
	return nil
}

// attachReviewItem adds an occurrence to the open item item.ID names (when
// the service found a near-duplicate), or to the open item with the same
// group key, or creates the item.
func (s *Store) attachReviewItem(ctx context.Context, tx *sql.Tx, q *kb.Query, item *kb.ReviewItem) error {
	var id int64
	err := sql.ErrNoRows
	if item.ID != 0 {
		err = s.queryRowInTx(ctx, tx, &id, `SELECT id FROM review_items WHERE id = ? AND status = 'open'`, item.ID)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = s.queryRowInTx(ctx, tx, &id, `SELECT id FROM review_items WHERE group_key = ? AND type = ? AND status = 'open' ORDER BY id LIMIT 1`,
			item.GroupKey, item.Type)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := s.txExec(ctx, tx, `INSERT INTO review_items (type, question, group_key, department, occurrences, first_asked_at, last_asked_at, due_at, due_provisional, status, answer_entry_id)
			VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 'open', ?)`, item.Type, item.Question, item.GroupKey, item.Department,
			formatTime(q.AskedAt), formatTime(q.AskedAt), formatTime(item.DueAt), boolInt(item.DueProvisional), nullID(item.AnswerEntryID))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := s.addEvent(ctx, tx, id, q.AskedAt, "system", "created", fmt.Sprintf("责任部门：%s", item.Department)); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if _, err := s.txExec(ctx, tx, `UPDATE review_items SET occurrences = occurrences + 1, last_asked_at = ? WHERE id = ?`, formatTime(q.AskedAt), id); err != nil {
			return err
		}
	}
	row, err := s.txQueryRow(ctx, tx, `SELECT `+reviewColumns+` FROM review_items WHERE id = ?`, id)
	if err != nil {
		return err
	}
	got, err := scanReviewItem(row)
	if err != nil {
		return err
	}
	*item = *got
	return nil
}

func (s *Store) addEvent(ctx context.Context, tx *sql.Tx, itemID int64, at time.Time, actor, action, detail string) error {
	_, err := s.txExec(ctx, tx, `INSERT INTO review_events (item_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)`,
		itemID, formatTime(at), actor, action, detail)
	return err
}

const reviewColumns = `id, type, question, group_key, department, occurrences, first_asked_at, last_asked_at, due_at, due_provisional, status, closed_at, closed_on_time, entry_id, closed_by, dismiss_reason, duplicate_of, answer_entry_id`

func scanReviewItem(row rowScanner) (*kb.ReviewItem, error) {
	var (
		it               kb.ReviewItem
		first, last, due string
		provisional      int
		closedAt         sql.NullString
		onTime           sql.NullInt64
		entryID          sql.NullInt64
		dupOf, answerID  sql.NullInt64
	)
	if err := row.Scan(&it.ID, &it.Type, &it.Question, &it.GroupKey, &it.Department, &it.Occurrences, &first, &last, &due, &provisional,
		&it.Status, &closedAt, &onTime, &entryID, &it.ClosedBy, &it.DismissReason, &dupOf, &answerID); err != nil {
		return nil, err
	}
	it.FirstAskedAt, it.LastAskedAt, it.DueAt = parseTime(first), parseTime(last), parseTime(due)
	it.DueProvisional = provisional == 1
	it.ClosedAt = nullTime(closedAt)
	if onTime.Valid {
		b := onTime.Int64 == 1
		it.ClosedOnTime = &b
	}
	it.EntryID, it.DuplicateOf, it.AnswerEntryID = entryID.Int64, dupOf.Int64, answerID.Int64
	return &it, nil
}
