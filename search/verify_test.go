package search_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
	"xiaoshen/search"
)

func TestOpenRejectsACorruptIndex(t *testing.T) {
	seg := testkb.MustSegmenter(t)
	build := func(t *testing.T) string {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "index")
		idx, err := search.Build(context.Background(), dir, seg, func(yield func(*kb.Entry) error) error {
			for i, title := range []string{"二类械注册要交哪些材料", "化妆品生产许可证怎么办理", "药品经营许可证到期换证"} {
				if err := yield(&kb.Entry{ID: int64(i + 1), Version: 1, Column: kb.ColumnFAQ, Title: title, Content: "答复口径。", Department: "综合处"}); err != nil {
					return err
				}
			}
			return nil
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		idx.Close()
		return dir
	}
	segmentFile := func(t *testing.T, dir string) string {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
		if len(files) == 0 {
			t.Fatal("no segment file")
		}
		return files[0]
	}
	tests := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
	}{
		{"folder deleted", func(t *testing.T, dir string) { os.RemoveAll(dir) }},
		{"segment garbled in the middle", func(t *testing.T, dir string) {
			f, err := os.OpenFile(segmentFile(t, dir), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			f.WriteAt([]byte("garbage!"), fi.Size()/2)
		}},
		{"segment truncated", func(t *testing.T, dir string) {
			p := segmentFile(t, dir)
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()/2)
		}},
		{"segment emptied", func(t *testing.T, dir string) { os.Truncate(segmentFile(t, dir), 0) }},
		{"segment deleted", func(t *testing.T, dir string) { os.Remove(segmentFile(t, dir)) }},
		{"bolt root garbled", func(t *testing.T, dir string) {
			// Both meta pages: which data pages are live varies between runs.
			f, err := os.OpenFile(filepath.Join(dir, "store", "root.bolt"), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			junk := make([]byte, 8192)
			for i := range junk {
				junk[i] = byte(i*7 + 3)
			}
			f.WriteAt(junk, 0)
		}},
		{"metadata garbled", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "index_meta.json"), []byte("garbage"), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := build(t)
			idx, err := search.Open(dir, seg)
			if err != nil {
				t.Fatalf("sound index: %v", err)
			}
			idx.Close()
			tt.corrupt(t, dir)
			idx, err = search.Open(dir, seg)
			if !errors.Is(err, search.ErrRebuildNeeded) {
				if idx != nil {
					idx.Close()
				}
				t.Fatalf("Open = %v, want ErrRebuildNeeded", err)
			}
		})
	}
}

// Editing the embedded dictionaries changes how text is cut, so it changes
// the mapping version, and an index of another version is rebuilt.
func TestMappingVersionFollowsTheDictionaries(t *testing.T) {
	user, syn := []byte("第二类医疗器械 20000 n\n"), "多久 多长时间 几天\n"
	v := search.MappingVersionOf(user, syn)
	if v != search.MappingVersionOf(user, syn) {
		t.Fatal("the mapping version is not a function of the dictionaries")
	}
	if search.MappingVersionOf(user, syn+"过敏原 过敏源\n") == v {
		t.Error("a new synonym group left the mapping version unchanged")
	}
	if search.MappingVersionOf([]byte("第三类医疗器械 20000 n\n"), syn) == v {
		t.Error("another user dictionary left the mapping version unchanged")
	}

	seg := testkb.MustSegmenter(t)
	dir := filepath.Join(t.TempDir(), "index")
	idx, err := search.Build(context.Background(), dir, seg, func(yield func(*kb.Entry) error) error {
		return yield(&kb.Entry{ID: 1, Version: 1, Column: kb.ColumnFAQ, Title: "二类械注册要交哪些材料", Content: "答复口径。", Department: "综合处"})
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	idx.Close()
	if err := search.StoreMappingVersion(dir, "3-000000000000"); err != nil {
		t.Fatal(err)
	}
	if idx, err := search.Open(dir, seg); !errors.Is(err, search.ErrRebuildNeeded) {
		if idx != nil {
			idx.Close()
		}
		t.Fatalf("Open of an index built with other dictionaries = %v, want ErrRebuildNeeded", err)
	}
	if err := search.StoreMappingVersion(dir, search.MappingVersion); err != nil {
		t.Fatal(err)
	}
	idx, err = search.Open(dir, seg)
	if err != nil {
		t.Fatalf("Open with the current mapping version: %v", err)
	}
	idx.Close()
}
