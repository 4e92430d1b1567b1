package ingest

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// readAll collects what ReadTable gives, one "row:cell|cell" a row.
func readAll(t *testing.T, name string, data []byte) ([]string, error) {
	t.Helper()
	var got []string
	err := ReadTable(name, bytes.NewReader(data), func(row int, cells []string) error {
		got = append(got, strings.Join(append([]string{strconv.Itoa(row)}, cells...), "|"))
		return nil
	})
	return got, err
}

func TestReadTable(t *testing.T) {
	// A GBK CSV, as Excel in China saves it, with a blank line that keeps
	// its number and a cell with a line break.
	csv := gbk(t, "问题,预期条目\n二类械注册要交哪些材料,faq-dev2-materials\n\n\"化妆品许可\n多久能办\",-\n")
	got, err := readAll(t, "q.csv", csv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1|问题|预期条目", "2|二类械注册要交哪些材料|faq-dev2-materials", "4|化妆品许可\n多久能办|-"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("csv rows:\n%q\nwant\n%q", got, want)
	}

	xlsx := mustXLSX(t, sheetRows{name: "问题", rows: map[int][]any{
		1: {"问题", "预期条目"},
		2: {"二类械注册要交哪些材料", "faq-dev2-materials"},
		4: {"护照过期了怎么办", "-"},
	}})
	got, err = readAll(t, "q.xlsx", xlsx)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"1|问题|预期条目", "2|二类械注册要交哪些材料|faq-dev2-materials", "3", "4|护照过期了怎么办|-"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("xlsx rows:\n%q\nwant\n%q", got, want)
	}

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"q.csv", []byte("问题,预期条目\n\"未闭合,faq-a\n"), "q.csv:2: CSV 格式有误"},
		{"q.csv", nil, "q.csv: 文件是空的"},
		{"q.xlsx", []byte("问题,预期条目\n"), "q.xlsx: 不是 XLSX 文件"},
		{"q.xls", []byte{0xd0, 0xcf, 0x11, 0xe0, 0, 0, 0, 0}, "q.xls: 不支持的表格格式"},
	} {
		if _, err := readAll(t, tc.name, tc.data); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q…", tc.name, err, tc.want)
		}
	}
}
