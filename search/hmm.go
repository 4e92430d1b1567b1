package search

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// hmmStates is the number of states of gojieba's HMM (B, E, M, S).
const hmmStates = 4

// checkHMMModel reads gojieba's HMM model file the way gojieba will and
// reports the first line it would reject. gojieba aborts the whole process
// on a malformed model, so a hand-edited or truncated file must be caught
// before it is handed over.
//
// Blank lines and lines starting with # are skipped (after trimming
// spaces). Then come one line of start probabilities and four lines of
// transition probabilities, each four numbers separated by single spaces,
// and four lines of emission probabilities, one per state, each a list of
// "character:number" separated by commas.
func checkHMMModel(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("search: gojieba HMM model: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 16<<20) // emission lines are ~200 kB
	lineNo := 0
	next := func() (string, bool) {
		for sc.Scan() {
			lineNo++
			line := strings.Trim(sc.Text(), " \t\r\n\v\f")
			if line != "" && !strings.HasPrefix(line, "#") {
				return line, true
			}
		}
		return "", false
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("search: gojieba HMM model %s line %d: "+format, append([]any{path, lineNo}, args...)...)
	}
	sections := []string{"start probabilities", "transitions from B", "transitions from E", "transitions from M", "transitions from S"}
	for _, what := range sections {
		line, ok := next()
		if !ok {
			break
		}
		n, bad := 0, ""
		eachField(line, ' ', func(field string) bool {
			n++
			if _, err := strconv.ParseFloat(field, 64); err != nil && bad == "" {
				bad = field
			}
			return true
		})
		if n != hmmStates {
			return fail("want the %s as %d numbers separated by single spaces, got %d fields", what, hmmStates, n)
		}
		if bad != "" {
			return fail("want the %s as numbers, got %q", what, bad)
		}
		sections = sections[1:]
	}
	emissions := []string{"B", "E", "M", "S"}
	for len(sections) == 0 && len(emissions) > 0 {
		line, ok := next()
		if !ok {
			break
		}
		var err error
		eachField(line, ',', func(pair string) bool {
			var parts [2]string
			n := 0
			eachField(pair, ':', func(part string) bool {
				if n < len(parts) {
					parts[n] = part
				}
				n++
				return true
			})
			switch {
			case n != 2:
				err = fail("emission probabilities of %s: want \"character:number\", got %q", emissions[0], pair)
			case !utf8.ValidString(parts[0]) || utf8.RuneCountInString(parts[0]) != 1:
				err = fail("emission probabilities of %s: want one character before the colon, got %q", emissions[0], pair)
			default:
				if _, perr := strconv.ParseFloat(parts[1], 64); perr != nil {
					err = fail("emission probabilities of %s: want a number after the colon, got %q", emissions[0], pair)
				}
			}
			return err == nil
		})
		if err != nil {
			return err
		}
		emissions = emissions[1:]
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("search: gojieba HMM model %s: %w", path, err)
	}
	if len(sections) > 0 || len(emissions) > 0 {
		missing := strings.Join(sections, ", ")
		if len(emissions) > 0 {
			missing = strings.TrimPrefix(missing+", emission probabilities of "+strings.Join(emissions, ", "), ", ")
		}
		return fmt.Errorf("search: gojieba HMM model %s ends before the %s", path, missing)
	}
	return nil
}

// eachField calls fn with each field of s split at every sep as gojieba
// splits: empty fields between two separators count, a single trailing
// separator adds no field, and an empty string has no fields. It stops when
// fn returns false.
func eachField(s string, sep byte, fn func(string) bool) {
	for start := 0; start < len(s); {
		i := strings.IndexByte(s[start:], sep)
		if i < 0 {
			fn(s[start:])
			return
		}
		if !fn(s[start : start+i]) {
			return
		}
		start += i + 1
	}
}
