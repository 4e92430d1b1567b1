package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"xiaoshen/internal/evalkb"
)

// result is everything measured of one binary.
type result struct {
	bin     binary
	dataDir string
	imports []importRun
	starts  []startRun
	rounds  []*loadRound
	peakRSS int64
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// row is one line of the results table: a measure, its value per binary,
// and the target.
type row struct {
	name   string
	value  func(r *result) string
	target string
}

func markdown(cfg config, set *evalkb.Set, results []*result) string {
	medianOf := func(r *result, f func(*loadRound) float64) float64 {
		var xs []float64
		for _, lr := range r.rounds {
			xs = append(xs, f(lr))
		}
		return median(xs)
	}
	latency := func(p float64) func(r *result) string {
		return func(r *result) string {
			return fmt.Sprintf("%.2f ms", medianOf(r, func(lr *loadRound) float64 { return float64(lr.percentile(p)) / 1e6 }))
		}
	}
	rows := []row{
		{"bulk import, entries/s (median)", func(r *result) string {
			var xs []float64
			for _, im := range r.imports {
				xs = append(xs, im.rate())
			}
			return fmt.Sprintf("%.0f", median(xs))
		}, "≥ 2,000"},
		{"bulk import, wall time (median)", func(r *result) string {
			var xs []float64
			for _, im := range r.imports {
				xs = append(xs, im.elapsed.Seconds())
			}
			return fmt.Sprintf("%.1f s", median(xs))
		}, ""},
		{"bulk import, peak RSS (max)", func(r *result) string {
			var m int64
			for _, im := range r.imports {
				m = max(m, im.maxRSS)
			}
			return fmt.Sprintf("%d MB", m>>20)
		}, ""},
		{fmt.Sprintf("start to ready, median of %d", cfg.restarts), func(r *result) string {
			var xs []float64
			for _, st := range r.starts {
				xs = append(xs, st.ready.Seconds())
			}
			return fmt.Sprintf("%.2f s", median(xs))
		}, "≤ 1.5 s"},
		{fmt.Sprintf("/ask req/s at concurrency %d (median of %d rounds)", cfg.concurrency, cfg.rounds), func(r *result) string {
			return fmt.Sprintf("%.0f", medianOf(r, (*loadRound).rate))
		}, "≥ 1,500"},
		{"/ask p50", latency(50), ""},
		{"/ask p90", latency(90), ""},
		{"/ask p99", latency(99), "≤ 20 ms"},
		{"/ask requests, errors (all rounds)", func(r *result) string {
			n, e := 0, 0
			for _, lr := range r.rounds {
				n += len(lr.latencies) + lr.errors
				e += lr.errors
			}
			return fmt.Sprintf("%d, %d", n, e)
		}, "0 errors"},
		{"/ask answered share", func(r *result) string {
			return fmt.Sprintf("%.1f%%", 100*medianOf(r, (*loadRound).answeredShare))
		}, ""},
		{"server peak RSS (VmHWM)", func(r *result) string { return fmt.Sprintf("%d MB", r.peakRSS>>20) }, "≤ 400 MB"},
	}

	var b strings.Builder
	fmt.Fprintf(&b, "### xsload, %s\n\n", time.Now().Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "Machine: %s. Load average at the end: %s.\n\n", machine(), loadAverage())
	fmt.Fprintf(&b, "KB: %d entries (%d with one real question as title, %d compound), %d held-out questions asked; "+
		"%d load rounds of %s after %s warm-up, %d keep-alive connections.\n\n",
		len(set.Entries), set.Real, len(set.Entries)-set.Real, len(set.Asked), cfg.rounds, cfg.duration, cfg.warmup, cfg.concurrency)
	b.WriteString("| measure |")
	for _, r := range results {
		fmt.Fprintf(&b, " %s |", r.bin.name)
	}
	b.WriteString(" target |\n|---|")
	for range results {
		b.WriteString("---:|")
	}
	b.WriteString("---|\n")
	for _, rw := range rows {
		fmt.Fprintf(&b, "| %s |", rw.name)
		for _, r := range results {
			fmt.Fprintf(&b, " %s |", rw.value(r))
		}
		fmt.Fprintf(&b, " %s |\n", rw.target)
	}
	b.WriteString("\nPer round (req/s, p50, p99):\n\n")
	for _, r := range results {
		fmt.Fprintf(&b, "- %s:", r.bin.name)
		for _, lr := range r.rounds {
			fmt.Fprintf(&b, " %.0f/%s/%s;", lr.rate(), ms(lr.percentile(50)), ms(lr.percentile(99)))
		}
		b.WriteString(" starts:")
		for _, st := range r.starts {
			fmt.Fprintf(&b, " %.2f s", st.ready.Seconds())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// machine describes the CPU, cores, memory and Go version.
func machine() string {
	cpu, mem := "unknown CPU", "unknown memory"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				var kb int64
				fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
				mem = fmt.Sprintf("%.0f GB", float64(kb)/(1<<20))
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%s, %d cores, %s, %s/%s, %s", cpu, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
