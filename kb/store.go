package kb

import (
	"context"
	"time"
)

// EntryFilter selects entries for listing.
type EntryFilter struct {
	Column     Column
	Department string
	Matter     string
	ExternalID string
	Title      string
	Limit      int
	Offset     int
}

// Revision is one recorded change to an entry.
type Revision struct {
	ID       int64     `json:"id"`
	EntryID  int64     `json:"entry_id"`
	Version  int       `json:"version"`
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`
	At       time.Time `json:"at"`
	OldValue *Entry    `json:"old_value,omitempty"`
	NewValue *Entry    `json:"new_value,omitempty"`
}

// Query is one question asked through /ask, with its outcome.
type Query struct {
	ID          int64
	Question    string
	Department  string  // the answering entry's or the review item's department
	Suggestions []int64 // entries offered as 猜你想问
	Channel     string
	SessionID   string
	// FeedbackToken is given with the answer; feedback must bring it.
	FeedbackToken string
	AskedAt       time.Time
	Answered      bool
	Confidence    float64
	EntryID       int64
	ReviewItemID  int64
}

// Review item states.
const (
	StatusOpen      = "open"
	StatusAnswered  = "answered"
	StatusDismissed = "dismissed"
)

// Review item types.
const (
	ReviewUnanswered = "unanswered"
)

// ReviewItem is a question, or a group of questions with the same meaning,
// that a department must answer in the KB before DueAt.
type ReviewItem struct {
	ID             int64
	Type           string
	Question       string
	GroupKey       string
	Department     string
	Occurrences    int
	FirstAskedAt   time.Time
	LastAskedAt    time.Time
	DueAt          time.Time
	DueProvisional bool
	Status         string
	ClosedAt       *time.Time
	ClosedOnTime   *bool
	ClosedBy       string
	EntryID        int64 // the entry that answered it
	DismissReason  string
	DuplicateOf    int64
	AnswerEntryID  int64 // for ReviewImprove: the entry marked unhelpful
	// Wordings lists every distinct wording with its count, when loaded.
	Wordings []Wording
}

// Store is the source of truth for entries, questions and review items.
type Store interface {
	CreateEntry(ctx context.Context, e *Entry, actor string) error
	UpdateEntry(ctx context.Context, e *Entry, actor string) error
	DeleteEntry(ctx context.Context, id int64, actor string) (*Entry, error)
	FindEntry(ctx context.Context, id int64) (*Entry, error)
	// FindEntriesByID returns the live entries among ids, by id, in one
	// read; missing and deleted ones are left out.
	FindEntriesByID(ctx context.Context, ids []int64) (map[int64]*Entry, error)
	// EntryExpiries returns the 失效日期 of the live entries among ids ("" for
	// none), by id, in one read; missing and deleted ones are left out. It
	// is what a question needs to know of its candidates.
	EntryExpiries(ctx context.Context, ids []int64) (map[int64]string, error)
	FindEntries(ctx context.Context, f EntryFilter) ([]*Entry, int, error)
	ColumnCounts(ctx context.Context) (map[Column]int, error)
	// EachEntry calls fn for every live entry, in id order.
	EachEntry(ctx context.Context, fn func(*Entry) error) error
	EntryHistory(ctx context.Context, id int64) ([]Revision, error)
	// Departments lists every department the store knows, sorted.
	Departments(ctx context.Context) ([]string, error)
	// RecordQuery stores an asked question. When item is not nil the question
	// was not answered: it joins the open review item with the same group key,
	// or item is created. item is updated to the stored state.
	RecordQuery(ctx context.Context, q *Query, item *ReviewItem) error
	// Ping checks that the store answers a trivial query.
	Ping(ctx context.Context) error
}
