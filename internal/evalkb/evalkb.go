// Package evalkb builds a large knowledge base and a set of questions to ask
// it from the real question pairs in shared/eval (Tianchi and KUAKE-QQR),
// for benchmarks and load runs. The project never needs those files at run
// time; only benchmarks and cmd/xsload read them.
package evalkb

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"xiaoshen/corpus"
	"xiaoshen/ingest"
	"xiaoshen/kb"
)

// Files are the question-pair files read from the eval folder.
var Files = []string{"tianchi-dev.csv", "kuake-qqr-train.json", "kuake-qqr-dev.json"}

// Department owns the entries built from the question pairs.
const Department = "综合处"

// Set is a knowledge base built from real questions, and other real
// wordings held out of it to ask.
type Set struct {
	// Entries are the embedded corpus, then one entry per standard question
	// (query1) with its kept paraphrases as similar questions, then one per
	// kept other wording, then compound questions.
	Entries []*kb.Entry
	// Asked are the held-out query2 wordings: distinct, and in no entry's
	// title, similar questions or content.
	Asked []string
	// Real counts the entries whose title is one real question (the corpus
	// included); the rest are compound questions.
	Real int
}

// group is a standard question with the other wordings paired with it.
type group struct {
	query1     string
	paraphrase []string // same meaning: Tianchi label 1, KUAKE label 2
	other      []string // another question on the same subject
	topic      string   // the Tianchi category (肺炎, 感冒 …); "" for KUAKE
}

// Load reads the question pairs in dir and builds a set of size entries.
//
// The files hold 19,114 distinct questions. Every query2 wording is either
// kept for the KB or held out to be asked, by a hash of its text, so that
// asked questions must be matched, not found verbatim. The KB holds the
// corpus, the standard questions (with kept paraphrases as similar
// questions), and the kept other wordings as entries of their own. As that
// is about 8,000 entries, the rest up to size are compound questions:
// two kept questions of one group joined, as maintainers write an entry
// that answers two related questions. No text is invented or repeated: every
// title is distinct and made of real questions. Each entry's content lists
// the other kept questions of its group (the files hold no answers).
func Load(dir string, size int) (*Set, error) {
	groups, err := readGroups(dir)
	if err != nil {
		return nil, err
	}
	recs, errs := ingest.ParseMarkdownFS(corpus.FS, ".")
	if len(errs) > 0 {
		return nil, fmt.Errorf("evalkb: corpus: %w", errors.Join(errs...))
	}
	isQuery1 := map[string]bool{}
	for _, g := range groups {
		isQuery1[g.query1] = true
	}
	heldOut := func(text string) bool {
		if isQuery1[text] {
			return false
		}
		h := fnv.New32a()
		io.WriteString(h, text)
		return h.Sum32()%2 == 0
	}

	set := &Set{}
	titles := map[string]bool{}
	add := func(e *kb.Entry) bool {
		if len(set.Entries) >= size || titles[e.Title] || utf8.RuneCountInString(e.Title) > kb.MaxTitleLength {
			return false
		}
		titles[e.Title] = true
		set.Entries = append(set.Entries, e)
		return true
	}
	for _, r := range recs {
		add(r.Entry)
	}

	// kept lists each group's KB-side texts: the standard question first.
	kept := make([][]string, len(groups))
	askedSeen := map[string]bool{}
	for i, g := range groups {
		kept[i] = []string{g.query1}
		for _, w := range append(append([]string{}, g.paraphrase...), g.other...) {
			if w == g.query1 {
				continue
			}
			if heldOut(w) {
				if !askedSeen[w] {
					askedSeen[w] = true
					set.Asked = append(set.Asked, w)
				}
				continue
			}
			kept[i] = appendNew(kept[i], w)
		}
	}
	content := func(i int, title string) string {
		var others []string
		for _, t := range kept[i] {
			if t != title {
				others = append(others, t)
			}
		}
		if len(others) == 0 {
			return title
		}
		return "相关问题：" + strings.Join(others, "；")
	}
	entry := func(i int, title string, similar []string) *kb.Entry {
		return &kb.Entry{Column: kb.ColumnFAQ, Title: title, Content: content(i, title), Department: Department,
			Similar: similar, Keywords: []string{}, Fields: map[string]string{}}
	}

	used := map[string]bool{}
	for i, g := range groups {
		var similar []string
		for _, w := range g.paraphrase {
			if w != g.query1 && !heldOut(w) && !used[w] && !isQuery1[w] {
				similar = appendNew(similar, w)
			}
		}
		if add(entry(i, g.query1, similar)) {
			used[g.query1] = true
			for _, w := range similar {
				used[w] = true
			}
		}
	}
	for i := range groups {
		for _, w := range kept[i][1:] {
			if !used[w] && add(entry(i, w, nil)) {
				used[w] = true
			}
		}
	}
	set.Real = len(set.Entries)
	// Compound questions, spread over every group: first each text with the
	// next one of its group, then with the one after, and so on.
	join := func(a, b string) string { return strings.TrimRight(a, "？?。. ") + "，" + b }
	for dist := 1; len(set.Entries) < size; dist++ {
		added := false
		for i := range groups {
			texts := kept[i]
			for a := 0; a+dist < len(texts) && len(set.Entries) < size; a++ {
				if add(entry(i, join(texts[a], texts[a+dist]), nil)) {
					added = true
				}
			}
		}
		if !added && dist > 200 {
			break
		}
	}
	// Beyond about 53,000 entries (KBs of up to 100,000 for sizing), two
	// questions of different groups on the same Tianchi topic, as an
	// entry on one disease answers two of its questions: groups paired
	// nearest first, so that every topic contributes early.
	byTopic := map[string][]int{}
	var topics []string
	for i, g := range groups {
		if g.topic == "" {
			continue
		}
		if byTopic[g.topic] == nil {
			topics = append(topics, g.topic)
		}
		byTopic[g.topic] = append(byTopic[g.topic], i)
	}
	for dist := 1; len(set.Entries) < size; dist++ {
		added := false
		for _, topic := range topics {
			members := byTopic[topic]
			for m := 0; m+dist < len(members) && len(set.Entries) < size; m++ {
				i, j := members[m], members[m+dist]
				for _, a := range kept[i] {
					for _, b := range kept[j] {
						if add(entry(i, join(a, b), nil)) {
							added = true
						}
					}
				}
			}
		}
		if !added {
			return nil, fmt.Errorf("evalkb: only %d distinct entries can be built, want %d", len(set.Entries), size)
		}
	}
	return set, nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// readGroups reads every file into groups, in the order of first appearance.
func readGroups(dir string) ([]*group, error) {
	var groups []*group
	byQuery1 := map[string]*group{}
	addPair := func(q1, q2, topic string, same bool) {
		q1, q2 = strings.TrimSpace(q1), strings.TrimSpace(q2)
		if q1 == "" || q2 == "" {
			return
		}
		g := byQuery1[q1]
		if g == nil {
			g = &group{query1: q1, topic: strings.TrimSpace(topic)}
			byQuery1[q1] = g
			groups = append(groups, g)
		}
		if same {
			g.paraphrase = appendNew(g.paraphrase, q2)
		} else {
			g.other = appendNew(g.other, q2)
		}
	}
	for _, name := range Files {
		path := filepath.Join(dir, name)
		var err error
		if strings.HasSuffix(name, ".csv") {
			err = readTianchi(path, addPair)
		} else {
			err = readKuake(path, addPair)
		}
		if err != nil {
			return nil, err
		}
	}
	return groups, nil
}

// readTianchi reads category,query1,query2,label rows; label 1 is a
// paraphrase.
func readTianchi(path string, addPair func(q1, q2, topic string, same bool)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("evalkb: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("evalkb: %s: %w", path, err)
	}
	for i, r := range rows {
		if i == 0 || len(r) < 4 {
			continue
		}
		addPair(r[1], r[2], r[0], strings.TrimSpace(r[3]) == "1")
	}
	return nil
}

// readKuake reads a JSON array of {query1, query2, label}; label 2 is a
// paraphrase.
func readKuake(path string, addPair func(q1, q2, topic string, same bool)) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("evalkb: %w", err)
	}
	var pairs []struct {
		Query1 string `json:"query1"`
		Query2 string `json:"query2"`
		Label  string `json:"label"`
	}
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return fmt.Errorf("evalkb: %s: %w", path, err)
	}
	for _, p := range pairs {
		addPair(p.Query1, p.Query2, "", p.Label == "2")
	}
	return nil
}
