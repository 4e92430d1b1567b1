package search_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xiaoshen/search"
)

// A small HMM model in gojieba's format: start, four transition rows,
// emissions of B, E, M and S.
const hmmHead = "#prob_start\n-0.26 -3.14e+100 -3.14e+100 -1.46\n#prob_trans\n" +
	"-3.14e+100 -0.51 -0.91 -3.14e+100\n-0.58 -3.14e+100 -3.14e+100 -0.80\n" +
	"-3.14e+100 -0.33 -1.26 -3.14e+100\n-0.72 -3.14e+100 -3.14e+100 -0.66\n"

const hmmEmit = "#prob_emit\n耀:-10.4,涉:-8.7\n耀:-9.2,涉:-9.0\n耀:-8.4,涉:-10.5\n耀:-10.0,涉:-10.5\n"

func TestHMMModelCheck(t *testing.T) {
	dir, err := search.ResolveDictDir("")
	if err != nil {
		t.Fatal(err)
	}
	if err := search.CheckHMMModel(filepath.Join(dir, "hmm_model.utf8")); err != nil {
		t.Fatalf("the shipped model: %v", err)
	}
	tmp := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"well formed", hmmHead + hmmEmit, ""},
		{"blank lines and trailing spaces", "\n" + strings.ReplaceAll(hmmHead, "\n", " \n\n") + hmmEmit + "\n", ""},
		{"trailing comma", hmmHead + strings.Replace(hmmEmit, "-8.7\n", "-8.7,\n", 1), ""},
		// Lines gojieba aborts the process on, reported instead.
		{"doubled space", strings.Replace(hmmHead, "-0.26 -3.14e+100", "-0.26  -3.14e+100", 1) + hmmEmit, "line 2: want the start probabilities as 4 numbers"},
		{"short transition row", strings.Replace(hmmHead, "-0.58 -3.14e+100 -3.14e+100 -0.80", "-0.58 -3.14e+100 -3.14e+100", 1) + hmmEmit, "line 5: want the transitions from E"},
		{"emission without a colon", hmmHead + strings.Replace(hmmEmit, "涉:-9.0", "涉-9.0", 1), "line 10: emission probabilities of E"},
		{"two characters", hmmHead + strings.Replace(hmmEmit, "耀:-8.4", "耀耀:-8.4", 1), "line 11: emission probabilities of M: want one character"},
		{"empty pair", hmmHead + strings.Replace(hmmEmit, "耀:-10.0,", "耀:-10.0,,", 1), "line 12: emission probabilities of S"},
		{"truncated", hmmHead + "#prob_emit\n耀:-10.4,涉:-8.7\n", "ends before the emission probabilities of E, M, S"},
		{"empty", "", "ends before the start probabilities"},
		// gojieba would read 0 and segment wrongly; a number is wanted.
		{"not a number", strings.Replace(hmmHead, "-0.51", "x", 1) + hmmEmit, "line 4: want the transitions from B as numbers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(tmp, strings.ReplaceAll(tt.name, " ", "-")+".utf8")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			err := search.CheckHMMModel(path)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckHMMModel = %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path)):
				t.Fatalf("CheckHMMModel = %v, want an error naming %s and %q", err, path, tt.want)
			}
		})
	}
	if err := search.CheckHMMModel(filepath.Join(tmp, "missing.utf8")); err == nil {
		t.Fatal("CheckHMMModel of a missing file succeeded")
	}
}

// BenchmarkCheckHMMModel reads the HMM model as every start does, before
// gojieba loads it.
func BenchmarkCheckHMMModel(b *testing.B) {
	dir, err := search.ResolveDictDir("")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := search.CheckHMMModel(filepath.Join(dir, "hmm_model.utf8")); err != nil {
			b.Fatal(err)
		}
	}
}
