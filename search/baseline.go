package search

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/mapping"
	bleveindex "github.com/blevesearch/bleve_index_api"

	"xiaoshen/kb"
)

// Baseline kinds that the evaluation compares the matcher with.
const (
	BaselineCJK   = "cjk-bigram" // bleve's built-in cjk analyzer, default settings
	BaselineJieba = "jieba-bm25" // gojieba terms, BM25, no synonyms or rescoring
)

// Baseline is a plain full-text index over entry titles, ranked by score;
// its confidence is the top score normalised by the largest top score seen.
type Baseline struct {
	Name string
	bi   bleve.Index
}

// NewBaseline indexes entries in a new index in dir.
func NewBaseline(dir, kind string, entries []*kb.Entry) (*Baseline, error) {
	im := bleve.NewIndexMapping()
	field := bleve.NewTextFieldMapping()
	switch kind {
	case BaselineCJK:
		field.Analyzer = cjk.AnalyzerName
	case BaselineJieba:
		im.ScoringModel = bleveindex.BM25Scoring
		for name, tok := range map[string]string{analyzerIndex: tokenizerSearch, analyzerQuery: tokenizerPrecise} {
			if err := im.AddCustomAnalyzer(name, map[string]interface{}{"type": "custom", "tokenizer": tok}); err != nil {
				return nil, err
			}
		}
		field.Analyzer = analyzerIndex
	default:
		return nil, fmt.Errorf("search: unknown baseline %q", kind)
	}
	doc := mapping.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt("title", field)
	im.DefaultMapping = doc
	bi, err := bleve.New(dir, im)
	if err != nil {
		return nil, fmt.Errorf("search: baseline: %w", err)
	}
	b := bi.NewBatch()
	for _, e := range entries {
		if err := b.Index(e.ExternalID, map[string]interface{}{"title": e.Title}); err != nil {
			return nil, err
		}
	}
	if err := bi.Batch(b); err != nil {
		return nil, fmt.Errorf("search: baseline: %w", err)
	}
	return &Baseline{Name: kind, bi: bi}, nil
}

// Close closes the baseline's index.
func (b *Baseline) Close() error { return b.bi.Close() }

// Rank returns the top five entries by raw score (Confidence holds the raw
// score; NormaliseTopScores turns it into a confidence).
func (b *Baseline) Rank(ctx context.Context, question string) ([]Ranked, error) {
	q := bleve.NewMatchQuery(question)
	q.SetField("title")
	if b.Name == BaselineJieba {
		q.Analyzer = analyzerQuery
	}
	res, err := b.bi.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, 5, 0, false))
	if err != nil {
		return nil, err
	}
	out := make([]Ranked, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = Ranked{Key: h.ID, Confidence: h.Score}
	}
	return out, nil
}

// NormaliseTopScores divides every score by the largest top-1 score over
// all questions, giving a baseline confidence in 0..1.
func NormaliseTopScores(rankings [][]Ranked) {
	var top float64
	for _, r := range rankings {
		if len(r) > 0 && r[0].Confidence > top {
			top = r[0].Confidence
		}
	}
	if top == 0 {
		return
	}
	for _, r := range rankings {
		for i := range r {
			r[i].Confidence /= top
		}
	}
}
