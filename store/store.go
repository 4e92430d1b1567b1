// Package store keeps the knowledge base in SQLite, the source of truth.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"

	"xiaoshen/kb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// timeFormat stores times in UTC with fixed width, so text order is time order.
const timeFormat = "2006-01-02T15:04:05.000000Z"

// Store is the SQLite-backed store.
type Store struct {
	db   *sql.DB
	path string
	// writeMu lets one write transaction in at a time. SQLite has a single
	// writer; left to its busy timeout, concurrent writers sleep and retry
	// with growing back-off, and under load some waited seconds while others
	// went first. Waiting here is first come, first served and wakes at once.
	writeMu sync.Mutex
	// tokenUse remembers when each token's last_used_at was last written,
	// so that a busy token does not write to the database on every request.
	tokenUse sync.Map // token id → time.Time
	stmts    statements
	// Now returns the current time; tests replace it to control deadlines.
	Now func() time.Time
}

// Open opens (creating if needed) the database at path, switches on WAL and
// foreign keys, and runs pending migrations.
func Open(path string) (*Store, error) {
	dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_synchronous=NORMAL&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, Now: time.Now}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.closeStatements()
	return s.db.Close()
}

// Ping checks that the database answers a trivial query; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// DB exposes the database handle for maintenance commands (backup, check).
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) migrate() error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		var n int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, base).Scan(&n); err != nil {
			return fmt.Errorf("store: migrate %s: %w", base, err)
		}
		if n > 0 {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", base, err)
		}
		err = s.inTx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, base, formatTime(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", base, err)
		}
	}
	return nil
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeFormat, s)
	return t.In(kb.Shanghai)
}

func nullTime(ns sql.NullString) *time.Time {
	if !ns.Valid {
		return nil
	}
	t := parseTime(ns.String)
	return &t
}

// IntegrityCheck runs SQLite's integrity and foreign-key checks and returns
// the problems they report; none means the database file is sound.
func (s *Store) IntegrityCheck(ctx context.Context) ([]string, error) {
	var problems []string
	// SQLite reports some damage as rows and stops at worse damage with
	// SQLITE_CORRUPT; both are problems of the file, not of the check.
	corrupt := func(err error) bool {
		var se sqlite3.Error
		if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
			problems = append(problems, se.Error())
			return true
		}
		return false
	}
	rows, err := s.db.QueryContext(ctx, `PRAGMA integrity_check`)
	if corrupt(err) {
		return problems, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: integrity check: %w", err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	err = rows.Err()
	rows.Close()
	if corrupt(err) {
		return problems, nil
	} else if err != nil {
		return nil, fmt.Errorf("store: integrity check: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return nil, fmt.Errorf("store: foreign key check: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return nil, fmt.Errorf("store: foreign key check: %w", err)
		}
		problems = append(problems, fmt.Sprintf("%s row %d refers to a missing %s row", table, rowid.Int64, parent))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: foreign key check: %w", err)
	}
	return problems, nil
}

// conditions builds a WHERE clause from optional filters.
type conditions struct {
	where []string
	args  []any
}

// add appends a condition with its arguments.
func (c *conditions) add(cond string, args ...any) {
	c.where, c.args = append(c.where, cond), append(c.args, args...)
}

// eq appends "column = value" when value is set.
func (c *conditions) eq(column, value string) {
	if value != "" {
		c.add(column+" = ?", value)
	}
}

// sql returns the conditions joined with AND ("1 = 1" when there are none).
func (c *conditions) sql() string {
	if len(c.where) == 0 {
		return "1 = 1"
	}
	return strings.Join(c.where, " AND ")
}
