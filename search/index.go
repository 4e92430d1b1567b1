package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/numeric"
	"github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveindex "github.com/blevesearch/bleve_index_api"

	"xiaoshen/kb"
)

// mappingRevision changes whenever the mapping or the analyzers change in
// a way that needs the index rebuilt.
const mappingRevision = "8" // 4: typos mended before cutting; 5: content indexed as citizens read it; 6: Latin words and numbers kept whole; 7: a policy's 文号 among its keywords; 8: no pieces of 要不要, 能不能, 不一样

// MappingVersion is stored in the index: mappingRevision and a digest of
// the embedded user dictionary and synonym table. Both change how text is
// cut (every synonym is a segmenter word), so editing either rebuilds the
// index on the next start without anyone having to remember to.
var MappingVersion = mappingVersion(userDict, synonymTable)

func mappingVersion(userDict []byte, synonyms string) string {
	h := sha256.New()
	h.Write(userDict)
	h.Write([]byte{0})
	h.Write([]byte(synonyms))
	return mappingRevision + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

var (
	internalVersionKey = []byte("xiaoshen_mapping_version")
	// ErrRebuildNeeded is returned by Open when the index is missing,
	// unreadable or built by another mapping version.
	ErrRebuildNeeded = errors.New("search: index needs a rebuild")
)

// Index fields and their boosts: the standard question and its similar
// wordings far above keywords, and keywords above the body text.
const (
	fieldTitle      = "title"
	fieldSimilar    = "similar"
	fieldQuestions  = "questions" // title + similar, for document frequencies
	fieldKeywords   = "keywords"
	fieldContent    = "content"
	fieldColumn     = "column"
	fieldDepartment = "department"
	fieldMatter     = "matter"
	fieldVersion    = "version" // stored only: the entry version indexed, for consistency checks
)

var fieldBoosts = []struct {
	field string
	boost float64
}{
	{fieldTitle, 6}, {fieldSimilar, 5}, {fieldKeywords, 2}, {fieldContent, 1},
}

// Index is the bleve index of the KB. SQLite is the source of truth; the
// index can always be rebuilt from it.
type Index struct {
	dir string
	seg *Segmenter
	// candidates caches the analysed question texts of candidates; nil
	// turns the cache off.
	candidates *analysisCache

	// writeMu orders writers. mu guards the fields below it: searches hold
	// it shared, and writers take it only to swap in new statistics, so a
	// long upload does not hold up questions.
	writeMu sync.Mutex
	mu      sync.RWMutex
	bi      bleve.Index
	stats   *termStats
	model   *Model
	// questions picks the matcher's candidates; nil while Build fills a
	// new index, which Open then loads.
	questions *questionIndex
}

// SetModel replaces the matcher's model (for fitting and evaluation).
func (idx *Index) SetModel(m *Model) {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	idx.model = m
}

// Model returns the matcher's model.
func (idx *Index) Model() *Model {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	return idx.model
}

var _ kb.Index = (*Index)(nil)

// Open opens the index in dir. It returns ErrRebuildNeeded (and no index)
// when the folder is missing, unreadable, corrupt (a segment fails its
// checksum) or of another mapping version.
func Open(dir string, seg *Segmenter) (idx *Index, err error) {
	// bleve's storage panics on some corrupt files rather than failing.
	defer func() {
		if p := recover(); p != nil {
			idx, err = nil, fmt.Errorf("%w: open %s: %v", ErrRebuildNeeded, dir, p)
		}
	}()
	bi, err := bleve.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %v", ErrRebuildNeeded, dir, err)
	}
	v, err := bi.GetInternal(internalVersionKey)
	if err != nil || string(v) != MappingVersion {
		bi.Close()
		return nil, fmt.Errorf("%w: %s has mapping version %q, want %q", ErrRebuildNeeded, dir, v, MappingVersion)
	}
	if err := verifySegments(bi); err != nil {
		bi.Close()
		return nil, fmt.Errorf("%w: %v", ErrRebuildNeeded, err)
	}
	idx = &Index{dir: dir, seg: seg, bi: bi, model: DefaultModel, candidates: &analysisCache{}}
	if err := idx.refreshStats(); err != nil {
		bi.Close()
		return nil, fmt.Errorf("%w: %v", ErrRebuildNeeded, err)
	}
	if idx.questions, err = loadQuestionIndex(idx); err != nil {
		bi.Close()
		return nil, fmt.Errorf("%w: %v", ErrRebuildNeeded, err)
	}
	return idx, nil
}

// Build creates a new index in dir from the entries that feed yields,
// replacing any index there only once the new one is complete. progress, if
// not nil, is called after each batch with the number indexed so far.
func Build(ctx context.Context, dir string, seg *Segmenter, feed func(yield func(*kb.Entry) error) error, progress func(n int)) (*Index, error) {
	tmp := dir + ".building"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	bi, err := bleve.New(tmp, newMapping())
	if err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	idx := &Index{dir: tmp, seg: seg, bi: bi, model: DefaultModel}
	batch := make([]*kb.Entry, 0, putBatch)
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// No statistics until the end: Open computes them once.
		if err := idx.batch(batch); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		if progress != nil {
			progress(n)
		}
		return ctx.Err()
	}
	err = feed(func(e *kb.Entry) error {
		batch = append(batch, e)
		if len(batch) == putBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = bi.SetInternal(internalVersionKey, []byte(MappingVersion))
	}
	if cerr := bi.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("search: build: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("search: build: replace old index: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	return Open(dir, seg)
}

func newMapping() mapping.IndexMapping {
	im := bleve.NewIndexMapping()
	im.ScoringModel = bleveindex.BM25Scoring
	for name, tok := range map[string]string{analyzerIndex: tokenizerSearch, analyzerQuery: tokenizerPrecise} {
		if err := im.AddCustomAnalyzer(name, map[string]interface{}{
			"type":      custom.Name,
			"tokenizer": tok,
		}); err != nil {
			panic(err)
		}
	}
	im.DefaultAnalyzer = analyzerIndex

	text := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerIndex
		f.Store = store
		f.IncludeTermVectors = store // highlighting needs term vectors
		f.IncludeInAll = false
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = true
		f.IncludeInAll = false
		return f
	}
	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fieldTitle, text(true))
	doc.AddFieldMappingsAt(fieldSimilar, text(true))
	doc.AddFieldMappingsAt(fieldQuestions, text(false))
	doc.AddFieldMappingsAt(fieldKeywords, text(false))
	doc.AddFieldMappingsAt(fieldContent, text(true))
	doc.AddFieldMappingsAt(fieldColumn, kw())
	doc.AddFieldMappingsAt(fieldDepartment, kw())
	doc.AddFieldMappingsAt(fieldMatter, kw())
	version := bleve.NewNumericFieldMapping()
	version.Index = false
	version.Store = true
	version.DocValues = false
	version.IncludeInAll = false
	doc.AddFieldMappingsAt(fieldVersion, version)
	im.DefaultMapping = doc
	return im
}

func docID(id int64) string { return strconv.FormatInt(id, 10) }

func document(e *kb.Entry) map[string]interface{} {
	return map[string]interface{}{
		fieldTitle:     e.Title,
		fieldSimilar:   e.Similar,
		fieldQuestions: e.Questions(),
		fieldKeywords:  e.SearchKeywords(),
		// As citizens read it: a snippet highlighted inside a placeholder
		// (申请表怎么填写 against 【待维护人员填写：…】) would show it.
		fieldContent:    kb.ForCitizens(e.Content),
		fieldColumn:     string(e.Column),
		fieldDepartment: e.Department,
		fieldMatter:     e.Matter,
		fieldVersion:    float64(e.Version),
	}
}

// putBatch is how many entries go into one bleve batch, to bound the
// memory of a large upload.
const putBatch = 500

// Put indexes entries in batches, removing deleted ones, and then
// refreshes the term statistics once. Searches go on meanwhile: bleve
// serves them from the last complete batch.
func (idx *Index) Put(ctx context.Context, entries ...*kb.Entry) error {
	idx.writeMu.Lock()
	defer idx.writeMu.Unlock()
	for i := 0; i < len(entries); i += putBatch {
		if err := idx.batch(entries[i:min(i+putBatch, len(entries))]); err != nil {
			return err
		}
	}
	return idx.refreshStats()
}

// batch indexes entries in one bleve batch, and then in the question
// index; deleted entries are removed. The caller holds idx.writeMu (or owns
// idx exclusively).
func (idx *Index) batch(entries []*kb.Entry) error {
	// Cut the texts for the question index while bleve analyses the batch
	// on its own goroutines.
	var ups []questionUpdate
	prepared := make(chan struct{})
	go func() {
		defer close(prepared)
		if idx.questions != nil {
			ups = idx.questions.prepare(idx.seg, entries)
		}
	}()
	defer func() { <-prepared }()
	b := idx.bi.NewBatch()
	for _, e := range entries {
		if e.DeletedAt != nil {
			b.Delete(docID(e.ID))
			continue
		}
		if err := b.Index(docID(e.ID), document(e)); err != nil {
			return fmt.Errorf("search: index entry %d: %w", e.ID, err)
		}
	}
	if err := idx.bi.Batch(b); err != nil {
		return fmt.Errorf("search: index batch: %w", err)
	}
	<-prepared
	if idx.questions != nil {
		idx.mu.Lock()
		idx.questions.apply(ups)
		idx.mu.Unlock()
	}
	return nil
}

// Remove drops entries from the index.
func (idx *Index) Remove(ctx context.Context, ids ...int64) error {
	idx.writeMu.Lock()
	defer idx.writeMu.Unlock()
	b := idx.bi.NewBatch()
	for _, id := range ids {
		b.Delete(docID(id))
	}
	if err := idx.bi.Batch(b); err != nil {
		return fmt.Errorf("search: remove: %w", err)
	}
	if idx.questions != nil {
		ups := make([]questionUpdate, len(ids))
		for i, id := range ids {
			ups[i].id = id
		}
		idx.mu.Lock()
		idx.questions.apply(ups)
		idx.mu.Unlock()
	}
	return idx.refreshStats()
}

// Count returns the number of indexed entries.
func (idx *Index) Count() (uint64, error) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	return idx.bi.DocCount()
}

// Versions returns the entry version stored with every indexed document,
// by entry id.
func (idx *Index) Versions(ctx context.Context) (map[int64]int, error) {
	idx.mu.RLock()
	defer idx.mu.RUnlock()
	snap, err := snapshot(idx.bi)
	if err != nil {
		return nil, fmt.Errorf("search: versions: %w", err)
	}
	defer snap.Close()
	out := map[int64]int{}
	var id int64
	var idErr error
	err = visitLiveDocuments(snap, func(_ int, _ uint64, field string, value []byte) bool {
		switch field {
		case "_id":
			id, idErr = strconv.ParseInt(string(value), 10, 64)
			if idErr != nil {
				idErr = fmt.Errorf("document id %q: %w", value, idErr)
			}
			out[id] = 0
		case fieldVersion:
			v, err := numeric.PrefixCoded(value).Int64()
			if err != nil {
				idErr = fmt.Errorf("document %d: version: %w", id, err)
			} else {
				out[id] = int(numeric.Int64ToFloat64(v))
			}
		}
		return idErr == nil && ctx.Err() == nil
	})
	if err == nil {
		err = idErr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("search: versions: %w", err)
	}
	return out, nil
}

// Close closes the index.
func (idx *Index) Close() error {
	idx.writeMu.Lock()
	defer idx.writeMu.Unlock()
	idx.mu.Lock()
	defer idx.mu.Unlock()
	return idx.bi.Close()
}

// Dir returns the index folder.
func (idx *Index) Dir() string { return filepath.Clean(idx.dir) }

// termStats holds document frequencies of question terms, for idf weights.
type termStats struct {
	docs    int
	df      map[string]int
	bigrams *bigramIDF // estimated from df once per version, for the features
}

// newTermStats returns statistics over docs questions with the given
// document frequencies.
func newTermStats(docs int, df map[string]int) *termStats {
	st := &termStats{docs: docs, df: df}
	st.bigrams = estimateBigrams(st)
	return st
}

// refreshStats reloads document frequencies from the term dictionary of the
// questions field and swaps them in. The caller holds idx.writeMu (or owns
// idx exclusively).
func (idx *Index) refreshStats() error {
	n, err := idx.bi.DocCount()
	if err != nil {
		return fmt.Errorf("search: stats: %w", err)
	}
	dict, err := idx.bi.FieldDict(fieldQuestions)
	if err != nil {
		return fmt.Errorf("search: stats: %w", err)
	}
	defer dict.Close()
	df := make(map[string]int, 1024)
	for {
		de, err := dict.Next()
		if err != nil {
			return fmt.Errorf("search: stats: %w", err)
		}
		if de == nil {
			break
		}
		df[de.Term] = int(de.Count)
	}
	stats := newTermStats(int(n), df)
	idx.mu.Lock()
	idx.stats = stats
	idx.mu.Unlock()
	return nil
}

// termQuery matches one term in one field with a boost.
func termQuery(field, term string, boost float64) query.Query {
	q := bleve.NewTermQuery(term)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

// filterQuery narrows a query to a column, department and matter.
func filterQuery(q query.Query, column kb.Column, department, matter string) query.Query {
	must := []query.Query{q}
	if column != "" {
		must = append(must, termQuery(fieldColumn, string(column), 0))
	}
	if department != "" {
		must = append(must, termQuery(fieldDepartment, department, 0))
	}
	if matter != "" {
		must = append(must, termQuery(fieldMatter, matter, 0))
	}
	if len(must) == 1 {
		return q
	}
	return bleve.NewConjunctionQuery(must...)
}

// textQuery is the weighted disjunction of a question's terms and their
// synonyms over the text fields.
func (idx *Index) textQuery(terms []string) query.Query {
	var disjuncts []query.Query
	seen := map[string]bool{}
	syn := idx.seg.Synonyms()
	for _, t := range terms {
		for _, alt := range syn.Expand(t) {
			if seen[alt] {
				continue
			}
			seen[alt] = true
			boost := 1.0
			if alt != t {
				boost = 0.8 // a synonym is good evidence, the user's own word better
			}
			for _, fb := range fieldBoosts {
				disjuncts = append(disjuncts, termQuery(fb.field, alt, fb.boost*boost))
			}
		}
	}
	if len(disjuncts) == 0 {
		return bleve.NewMatchNoneQuery()
	}
	return bleve.NewDisjunctionQuery(disjuncts...)
}

// Search runs a full-text search with filters, highlights and column facets.
func (idx *Index) Search(ctx context.Context, req kb.SearchRequest) (*kb.SearchResult, error) {
	terms := idx.queryTerms(req.Query)
	q := filterQuery(idx.textQuery(terms), req.Column, req.Department, req.Matter)
	limit := req.Limit
	if limit <= 0 {
		limit = 10
	}
	sr := bleve.NewSearchRequestOptions(q, limit, req.Offset, false)
	sr.Fields = []string{fieldTitle, fieldColumn, fieldDepartment}
	sr.Highlight = bleve.NewHighlightWithStyle(html.Name)
	sr.Highlight.Fields = []string{fieldContent, fieldTitle}
	// Facet counts ignore the column filter, so a user can see what the other
	// columns hold for the same words. Without a column filter that is the
	// same query, and one search gives both.
	facetReq := sr
	if req.Column != "" {
		facetReq = bleve.NewSearchRequestOptions(filterQuery(idx.textQuery(terms), "", req.Department, req.Matter), 0, 0, false)
	}
	facetReq.AddFacet(fieldColumn, bleve.NewFacetRequest(fieldColumn, len(kb.Columns)))

	idx.mu.RLock()
	res, err := idx.bi.SearchInContext(ctx, sr)
	facetRes := res
	if err == nil && facetReq != sr {
		facetRes, err = idx.bi.SearchInContext(ctx, facetReq)
	}
	idx.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &kb.SearchResult{Total: int(res.Total), Hits: []kb.SearchHit{}, Columns: map[kb.Column]int{}}
	for _, c := range kb.Columns {
		out.Columns[c] = 0
	}
	if f, ok := facetRes.Facets[fieldColumn]; ok && f.Terms != nil {
		for _, t := range f.Terms.Terms() {
			out.Columns[kb.Column(t.Term)] = t.Count
		}
	}
	for _, h := range res.Hits {
		id, _ := strconv.ParseInt(h.ID, 10, 64)
		col := kb.Column(str(h.Fields[fieldColumn]))
		hit := kb.SearchHit{
			EntryID: id, Title: str(h.Fields[fieldTitle]), Column: col, ColumnName: col.Name(),
			Department: str(h.Fields[fieldDepartment]), Score: h.Score,
		}
		if frags := h.Fragments[fieldContent]; len(frags) > 0 {
			hit.Snippet = frags[0]
		} else if frags := h.Fragments[fieldTitle]; len(frags) > 0 {
			hit.Snippet = frags[0]
		}
		out.Hits = append(out.Hits, hit)
	}
	return out, nil
}

func str(v interface{}) string {
	s, _ := v.(string)
	return s
}
