// Package corpus embeds the seed knowledge base for 上海市药品监督管理局,
// loaded into a new, empty data directory.
package corpus

import "embed"

// FS holds one Markdown file per entry, in a folder per column.
//
//go:embed guide faq wiki policy notice hotline department
var FS embed.FS
