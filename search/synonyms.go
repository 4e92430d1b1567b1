package search

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
)

//go:embed dict/synonyms.txt
var synonymTable string

// Synonyms maps colloquial and variant forms to one canonical term at query
// time: 二类械 and 第二类医疗器械 are the same term to the matcher.
type Synonyms struct {
	canonical map[string]string   // any member → canonical form
	groups    map[string][]string // canonical form → all members
}

// parseSynonyms reads one group per line, canonical form first, members
// separated by spaces; '#' starts a comment.
func parseSynonyms(table string) (*Synonyms, error) {
	s := &Synonyms{canonical: map[string]string{}, groups: map[string][]string{}}
	sc := bufio.NewScanner(strings.NewReader(table))
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		words := strings.Fields(strings.ToLower(line))
		if len(words) == 0 {
			continue
		}
		if len(words) < 2 {
			return nil, fmt.Errorf("search: synonyms line %d: a group needs at least two words", lineNo)
		}
		canon := words[0]
		for _, w := range words {
			if prev, ok := s.canonical[w]; ok && prev != canon {
				return nil, fmt.Errorf("search: synonyms line %d: %q is already in the group of %q", lineNo, w, prev)
			}
			s.canonical[w] = canon
		}
		s.groups[canon] = append(s.groups[canon], words...)
	}
	return s, sc.Err()
}

// Canonical returns the canonical form of a term (the term itself when it
// has no synonyms).
func (s *Synonyms) Canonical(term string) string {
	if c, ok := s.canonical[term]; ok {
		return c
	}
	return term
}

// Expand returns the term and all its synonyms.
func (s *Synonyms) Expand(term string) []string {
	if c, ok := s.canonical[term]; ok {
		return s.groups[c]
	}
	return []string{term}
}

// Words returns every word of the table.
func (s *Synonyms) Words() []string {
	words := make([]string, 0, len(s.canonical))
	for w := range s.canonical {
		words = append(words, w)
	}
	return words
}
