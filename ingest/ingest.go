// Package ingest turns maintainers' files into kb.Entry values. It knows
// nothing of HTTP or storage.
package ingest

import (
	"fmt"
	"strings"

	"xiaoshen/kb"
)

// RowError is a problem with one row (or file) of an upload, named by file,
// row or line, and field.
type RowError struct {
	File    string `json:"file"`
	Row     int    `json:"row,omitempty"` // 1-based row or line; 0 for the whole file
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Row > 0 {
		fmt.Fprintf(&b, ":%d", e.Row)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " [%s]", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

// Record is one parsed entry with where it came from.
type Record struct {
	File  string
	Row   int
	Entry *kb.Entry
	// Interpretation is the external id of a policy's 解读 entry, if given.
	Interpretation string
}
