package store

import (
	"context"
	"database/sql"
	"sync"
)

// statements keeps the prepared form of the statements that every question
// runs: left to database/sql, SQLite parses and plans each one again on
// every call, which was about a tenth of the server's CPU under load.
// Statements are keyed by their SQL text, so only queries whose text comes
// from a small set of shapes should go through it.
type statements struct {
	mu    sync.Mutex
	bySQL map[string]*sql.Stmt
}

// prepared returns the statement for query, preparing it on first use.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if st, ok := s.stmts.bySQL[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.stmts.bySQL == nil {
		s.stmts.bySQL = map[string]*sql.Stmt{}
	}
	s.stmts.bySQL[query] = st
	return st, nil
}

// queryPrepared runs a prepared query.
func (s *Store) queryPrepared(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// txQueryRow runs a prepared single-row query inside tx.
func (s *Store) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Row, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...), nil
}

// txExec runs a prepared statement inside tx.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// closeStatements closes every prepared statement.
func (s *Store) closeStatements() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for _, st := range s.stmts.bySQL {
		st.Close()
	}
	s.stmts.bySQL = nil
}

// queryRowInTx runs a prepared single-row query inside tx and scans its one
// column into dest.
func (s *Store) queryRowInTx(ctx context.Context, tx *sql.Tx, dest any, query string, args ...any) error {
	row, err := s.txQueryRow(ctx, tx, query, args...)
	if err != nil {
		return err
	}
	return row.Scan(dest)
}
