package search

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// Names of the bleve tokenizers and analyzers registered by this package.
const (
	tokenizerSearch  = "xiaoshen_jieba_search"
	tokenizerPrecise = "xiaoshen_jieba_precise"
	analyzerIndex    = "xiaoshen_index"
	analyzerQuery    = "xiaoshen_query"
)

// tokenizer adapts the Segmenter to bleve's analysis.Tokenizer.
type tokenizer struct {
	seg  *Segmenter
	mode Mode
}

// Tokenize returns the normalised terms of input with byte offsets into it.
func (t *tokenizer) Tokenize(input []byte) analysis.TokenStream {
	tokens := t.seg.Tokens(string(input), t.mode)
	stream := make(analysis.TokenStream, len(tokens))
	for i, tok := range tokens {
		stream[i] = &analysis.Token{
			Term:     []byte(tok.Term),
			Start:    tok.Start,
			End:      tok.End,
			Position: i + 1,
			Type:     tokenType(tok.Term),
		}
	}
	return stream
}

func tokenType(term string) analysis.TokenType {
	for _, r := range term {
		if r >= 0x3400 {
			return analysis.Ideographic
		}
	}
	return analysis.AlphaNumeric
}

func tokenizerConstructor(mode Mode) registry.TokenizerConstructor {
	return func(map[string]interface{}, *registry.Cache) (analysis.Tokenizer, error) {
		processSegmenterMu.Lock()
		seg := processSegmenter
		processSegmenterMu.Unlock()
		if seg == nil {
			return nil, errNoSegmenter
		}
		return &tokenizer{seg: seg, mode: mode}, nil
	}
}

func init() {
	registry.RegisterTokenizer(tokenizerSearch, tokenizerConstructor(ModeSearch))
	registry.RegisterTokenizer(tokenizerPrecise, tokenizerConstructor(ModePrecise))
}
