package search_test

import (
	"context"
	"reflect"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// TestSearchFacetsIgnoreColumnFilter checks that the column counts are the
// same with and without a column filter and add up to the unfiltered
// total, and that the filter narrows the hits.
func TestSearchFacetsIgnoreColumnFilter(t *testing.T) {
	ctx := context.Background()
	env := testkb.New(t, testkb.Options{})
	for _, q := range []string{"许可证", "化妆品生产许可证", "二类医疗器械注册要交哪些材料"} {
		all, err := env.Index.Search(ctx, kb.SearchRequest{Query: q, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, n := range all.Columns {
			sum += n
		}
		if sum != all.Total || all.Total == 0 {
			t.Errorf("%q: column counts %v add up to %d, total %d", q, all.Columns, sum, all.Total)
		}
		for _, col := range []kb.Column{kb.ColumnFAQ, kb.ColumnPolicy} {
			got, err := env.Index.Search(ctx, kb.SearchRequest{Query: q, Column: col, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Columns, all.Columns) {
				t.Errorf("%q in %s: column counts %v, want %v as without the filter", q, col, got.Columns, all.Columns)
			}
			if got.Total != all.Columns[col] {
				t.Errorf("%q in %s: total %d, want the column's count %d", q, col, got.Total, all.Columns[col])
			}
			for _, h := range got.Hits {
				if h.Column != col {
					t.Errorf("%q in %s: hit %d is in %s", q, col, h.EntryID, h.Column)
				}
			}
		}
	}
}
