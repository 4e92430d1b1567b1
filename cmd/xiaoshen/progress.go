package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// progress draws a progress bar on a terminal and stays quiet otherwise.
type progress struct {
	w     io.Writer
	label string
	total int
	on    bool
	last  time.Time
	start time.Time
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, label: label, total: total, on: isTerminal(w), start: time.Now()}
}

// Set reports that n items are done.
func (p *progress) Set(n int) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond && n < p.total {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := width
	pct := 100.0
	if p.total > 0 {
		filled = width * min(n, p.total) / p.total
		pct = 100 * float64(min(n, p.total)) / float64(p.total)
	}
	rate := float64(n) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%s [%s%s] %5.1f%% %d/%d %.0f/s", p.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pct, n, p.total, rate)
}

// Done ends the bar's line.
func (p *progress) Done() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}
