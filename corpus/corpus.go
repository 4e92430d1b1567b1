// Package corpus embeds the seed knowledge base for 上海市药品监督管理局,
// loaded into a new, empty data directory.
package corpus

import (
	"embed"
	"time"
)

// FS holds one Markdown file per entry, in a folder per column.
//
//go:embed guide faq wiki policy notice hotline department
var FS embed.FS

// LabelledOn is the day the questions of corpus/testdata were labelled.
// Which notices and policies were in force that day decides which entry
// answers a question, so evaluations of the embedded corpus judge expiry
// on it: otherwise their figures would drift as the notices expire
// (网上办事系统维护 on 2026-12-31).
var LabelledOn = time.Date(2026, 11, 27, 12, 0, 0, 0, time.FixedZone("CST", 8*60*60))
