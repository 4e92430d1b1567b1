package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/blevesearch/bleve/v2"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// errSegmentChecksum marks a segment file whose content does not match the
// checksum in its footer.
var errSegmentChecksum = errors.New("segment checksum mismatch")

// verifySegments checks every segment file of the index's current snapshot
// against the CRC-32 that zap writes as its last four bytes. bleve checks a
// segment's footer when it opens it, but not the checksum, so a garbled
// segment would otherwise surface only in the query that reads the garbled
// part. Segment files that a crash left half-written are not in the
// snapshot and are not checked; bleve removes them.
func verifySegments(bi bleve.Index) error {
	snap, err := snapshot(bi)
	if err != nil {
		return fmt.Errorf("verify segments: %w", err)
	}
	defer snap.Close()
	for _, ss := range snap.Segments() {
		if ps, ok := ss.Segment().(segment.PersistedSegment); ok {
			if err := verifySegmentFile(ps.Path()); err != nil {
				return err
			}
		}
	}
	return nil
}

// verifySegmentFile compares the CRC-32 (IEEE) of a zap file's content with
// the one stored in its last four bytes.
func verifySegmentFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("verify segment: %w", err)
	}
	if fi.Size() < 4 {
		return fmt.Errorf("verify segment %s: %w: file of %d bytes", path, errSegmentChecksum, fi.Size())
	}
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, io.LimitReader(f, fi.Size()-4)); err != nil {
		return fmt.Errorf("verify segment %s: %w", path, err)
	}
	var stored [4]byte
	if _, err := io.ReadFull(f, stored[:]); err != nil {
		return fmt.Errorf("verify segment %s: %w", path, err)
	}
	if got, want := h.Sum32(), binary.BigEndian.Uint32(stored[:]); got != want {
		return fmt.Errorf("verify segment %s: %w: content %08x, footer %08x", path, errSegmentChecksum, got, want)
	}
	return nil
}
