// Command xsload is the reproducible load run of xiaoshen: it builds a
// 50,000-entry KB from the real question sets in shared/eval, times the
// bulk import, the start to ready of the server on that data, and
// POST /api/v1/ask at a fixed concurrency, samples the server's peak RSS,
// and prints the results as a Markdown table.
//
//	go run ./cmd/xsload --shared ../shared/eval
//
// Several binaries (e.g. before and after a change) are compared side by
// side in one run, their phases interleaved so that a noisy machine weighs
// on both alike:
//
//	go run ./cmd/xsload --bin before=/tmp/xiaoshen-old --bin after=/tmp/xiaoshen-new
//
// All traffic goes to 127.0.0.1 and every phase is bounded in count and
// time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"xiaoshen/ingest"
	"xiaoshen/internal/evalkb"
)

// config is the command line.
type config struct {
	shared      string
	work        string
	out         string
	entries     int
	imports     int
	restarts    int
	rounds      int
	duration    time.Duration
	warmup      time.Duration
	maxRequests int
	concurrency int
	cpuProfile  string
	keep        bool
	bins        binFlag
}

// binFlag collects --bin NAME=PATH.
type binFlag []binary

// binary is one xiaoshen build under test.
type binary struct {
	name, path string
}

func (b *binFlag) String() string {
	var parts []string
	for _, x := range *b {
		parts = append(parts, x.name+"="+x.path)
	}
	return strings.Join(parts, ",")
}

func (b *binFlag) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok {
		name, path = filepath.Base(v), v
	}
	if name == "" || path == "" {
		return fmt.Errorf("--bin %q: want NAME=PATH", v)
	}
	*b = append(*b, binary{name: name, path: path})
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "xsload: %v\n", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("xsload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.shared, "shared", "../shared/eval", "folder of tianchi-dev.csv and kuake-qqr-*.json")
	fs.StringVar(&cfg.work, "work", "", "working folder for the KB file and data directories (default: a new temporary folder, removed at the end)")
	fs.StringVar(&cfg.out, "out", "", "write the Markdown report here too")
	fs.IntVar(&cfg.entries, "entries", 50000, "entries in the KB")
	fs.IntVar(&cfg.imports, "imports", 1, "bulk imports per binary (each into a fresh data directory)")
	fs.IntVar(&cfg.restarts, "restarts", 5, "server starts timed per binary")
	fs.IntVar(&cfg.rounds, "rounds", 3, "load rounds per binary, interleaved between binaries")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "measured length of a load round")
	fs.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "unmeasured load before each round")
	fs.IntVar(&cfg.maxRequests, "max-requests", 200000, "stop a round after this many measured requests")
	fs.IntVar(&cfg.concurrency, "concurrency", 8, "concurrent keep-alive connections")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write the server's CPU profile of the first round here (needs serve --pprof)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the working folder")
	fs.Var(&cfg.bins, "bin", "xiaoshen binary under test as NAME=PATH; repeatable (default: build ./cmd/xiaoshen)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.entries <= 0 || cfg.concurrency <= 0 || cfg.imports <= 0 || cfg.restarts < 0 || cfg.rounds < 0 {
		return errors.New("--entries, --imports and --concurrency must be positive; --restarts and --rounds 0 skip those phases")
	}
	if cfg.work == "" {
		dir, err := os.MkdirTemp("", "xsload-")
		if err != nil {
			return err
		}
		cfg.work = dir
		if !cfg.keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(cfg.work, 0o750); err != nil {
		return err
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}

	if len(cfg.bins) == 0 {
		path := filepath.Join(cfg.work, "xiaoshen")
		logf("building ./cmd/xiaoshen")
		build := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/xiaoshen")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build xiaoshen (run xsload from the module root): %w", err)
		}
		cfg.bins = binFlag{{name: "current", path: path}}
	}

	set, err := evalkb.Load(cfg.shared, cfg.entries)
	if err != nil {
		return err
	}
	kbFile := filepath.Join(cfg.work, "kb.jsonl")
	if err := writeKB(kbFile, set); err != nil {
		return err
	}
	logf("KB file %s: %d entries (%d single real questions, %d compound), %d held-out questions to ask",
		kbFile, len(set.Entries), set.Real, len(set.Entries)-set.Real, len(set.Asked))

	results := make([]*result, len(cfg.bins))
	for i, b := range cfg.bins {
		results[i] = &result{bin: b}
	}
	// Phases run binary by binary within each repetition, so that both
	// see the same moments of a noisy machine.
	for rep := 0; rep < cfg.imports; rep++ {
		for _, r := range results {
			dir := filepath.Join(cfg.work, fmt.Sprintf("data-%s-%d", r.bin.name, rep))
			logf("%s: importing into %s", r.bin.name, dir)
			imp, err := runImport(ctx, r.bin.path, dir, kbFile, len(set.Entries))
			if err != nil {
				return fmt.Errorf("%s: %w", r.bin.name, err)
			}
			logf("%s: imported %d entries in %s (%.0f entries/s, peak RSS %d MB)", r.bin.name, imp.entries, imp.elapsed.Round(time.Millisecond), imp.rate(), imp.maxRSS>>20)
			r.imports = append(r.imports, imp)
			r.dataDir = dir
		}
	}
	for i := 0; i < cfg.restarts; i++ {
		for _, r := range results {
			st, err := timeStart(ctx, r.bin.path, r.dataDir, filepath.Join(cfg.work, r.bin.name+"-start.log"))
			if err != nil {
				return fmt.Errorf("%s: %w", r.bin.name, err)
			}
			logf("%s: start %d ready in %s", r.bin.name, i+1, st.ready.Round(time.Millisecond))
			r.starts = append(r.starts, st)
		}
	}
	servers := make([]*server, len(results))
	defer func() {
		for _, s := range servers {
			if s != nil {
				s.stop()
			}
		}
	}()
	// Every server stays up across its rounds, so that its caches are as
	// warm as in service; only one is driven at a time. Each first finishes
	// its background work (bleve merges the segments an import left), so
	// that an idle server takes no CPU from the one being driven.
	if cfg.rounds > 0 {
		for i, r := range results {
			s, err := startServer(ctx, r.bin.path, r.dataDir, filepath.Join(cfg.work, r.bin.name+"-serve.log"), cfg.cpuProfile != "")
			if err != nil {
				return fmt.Errorf("%s: %w", r.bin.name, err)
			}
			servers[i] = s
			if busy := s.waitIdle(ctx, 30*time.Second); busy > 0 {
				logf("%s: server settled after %s of background work", r.bin.name, busy.Round(100*time.Millisecond))
			}
		}
	}
	for round := 0; round < cfg.rounds; round++ {
		for i, r := range results {
			s := servers[i]
			var profile string
			if cfg.cpuProfile != "" && round == 0 {
				profile = cfg.cpuProfile
				if len(results) > 1 {
					profile = strings.TrimSuffix(cfg.cpuProfile, filepath.Ext(cfg.cpuProfile)) + "-" + r.bin.name + filepath.Ext(cfg.cpuProfile)
				}
			}
			lr, err := drive(ctx, s, set.Asked, round, cfg, profile)
			if err != nil {
				return fmt.Errorf("%s: %w", r.bin.name, err)
			}
			logf("%s: round %d: %.0f req/s, p50 %s p90 %s p99 %s, %d errors, %.0f%% answered", r.bin.name, round+1, lr.rate(),
				ms(lr.percentile(50)), ms(lr.percentile(90)), ms(lr.percentile(99)), lr.errors, 100*lr.answeredShare())
			r.rounds = append(r.rounds, lr)
		}
	}
	for i, r := range results {
		if servers[i] == nil {
			continue
		}
		r.peakRSS, err = servers[i].peakRSS()
		if err != nil {
			return err
		}
		servers[i].stop()
		servers[i] = nil
	}
	report := markdown(cfg, set, results)
	fmt.Fprint(stdout, report)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeKB writes the set's entries as a JSONL file that xiaoshen import
// reads.
func writeKB(path string, set *evalkb.Set) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := ingest.NewJSONLWriter(f, "")
	if err != nil {
		f.Close()
		return err
	}
	for _, e := range set.Entries {
		if err := w.Write(e); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
