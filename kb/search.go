package kb

import "context"

// SearchRequest is a full-text search over the KB.
type SearchRequest struct {
	Query      string
	Column     Column
	Department string
	Matter     string
	Limit      int
	Offset     int
}

// SearchHit is one result of a search, with a highlighted snippet.
type SearchHit struct {
	EntryID    int64   `json:"entry_id"`
	Title      string  `json:"title"`
	Column     Column  `json:"column"`
	ColumnName string  `json:"column_name"`
	Department string  `json:"department"`
	Score      float64 `json:"score"`
	Snippet    string  `json:"snippet"`
}

// SearchResult is a page of hits, the total, and the hit count per column.
type SearchResult struct {
	Total   int            `json:"total"`
	Hits    []SearchHit    `json:"hits"`
	Columns map[Column]int `json:"columns"`
}

// Candidate is an entry that may answer a question, scored by the matcher.
type Candidate struct {
	EntryID         int64
	Column          Column
	Title           string
	Department      string
	Matter          string
	MatchedQuestion string  // the title or similar question that matched best
	Score           float64 // full-text (BM25) score
	Confidence      float64 // 0..1: how sure the matcher is that the entry answers the question
}

// Index is the full-text index derived from the store.
type Index interface {
	// Put adds or replaces entries; they are searchable when it returns.
	// Entries with DeletedAt set are removed.
	Put(ctx context.Context, entries ...*Entry) error
	// Remove drops entries by id.
	Remove(ctx context.Context, ids ...int64) error
	// Search runs a full-text search with filters, highlights and facets.
	Search(ctx context.Context, req SearchRequest) (*SearchResult, error)
	// Match returns the entries most likely to answer question, best first.
	Match(ctx context.Context, question string, limit int) ([]Candidate, error)
	// Count returns the number of indexed entries.
	Count() (uint64, error)
	// Versions returns the version each indexed entry was indexed at, by id.
	Versions(ctx context.Context) (map[int64]int, error)
}
