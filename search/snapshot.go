package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// snapshot returns the scorch snapshot of a bleve index, to read its
// segments directly: stored fields and postings of every live document in
// tens of milliseconds on a 50k KB, where paging through a match-all search
// took half a second. The caller closes it.
func snapshot(bi bleve.Index) (*scorch.IndexSnapshot, error) {
	adv, err := bi.Advanced()
	if err != nil {
		return nil, err
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil, fmt.Errorf("index type %T is not scorch", adv)
	}
	reader, err := sc.Reader()
	if err != nil {
		return nil, err
	}
	snap, ok := reader.(*scorch.IndexSnapshot)
	if !ok {
		reader.Close()
		return nil, fmt.Errorf("reader type %T is not a scorch snapshot", reader)
	}
	return snap, nil
}

// visitLiveDocuments calls visit with the stored fields of every live
// document of the snapshot, segment by segment; visit gets the segment's
// position and the document's number in it, and returns false to skip the
// document's remaining fields.
func visitLiveDocuments(snap *scorch.IndexSnapshot, visit func(segment int, num uint64, field string, value []byte) bool) error {
	for s, ss := range snap.Segments() {
		live := ss.DocNumbersLive().Iterator()
		for live.HasNext() {
			num := uint64(live.Next())
			err := ss.VisitDocument(num, func(field string, _ byte, value []byte, _ []uint64) bool {
				return visit(s, num, field, value)
			})
			if err != nil {
				return fmt.Errorf("segment %d document %d: %w", s, num, err)
			}
		}
	}
	return nil
}
