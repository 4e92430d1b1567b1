package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// loadRound is one measured round of asks.
type loadRound struct {
	elapsed   time.Duration
	latencies []time.Duration // of successful requests, sorted
	errors    int
	answered  int
	rssAfter  int64
}

func (r *loadRound) rate() float64 {
	return float64(len(r.latencies)+r.errors) / r.elapsed.Seconds()
}

// percentile returns the p-th percentile latency (nearest rank).
func (r *loadRound) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p/100*float64(len(r.latencies))+0.5) - 1
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

func (r *loadRound) answeredShare() float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	return float64(r.answered) / float64(len(r.latencies))
}

// answeredMark is how a response says the question was answered; the
// generator looks for it instead of decoding, to spend little CPU on the
// machine it shares with the server.
var answeredMark = []byte(`"answered":true`)

// drive sends POST /api/v1/ask from cfg.concurrency keep-alive connections:
// cfg.warmup unmeasured, then cfg.duration (or cfg.maxRequests) measured.
// Each round starts at another place in the question list, so that later
// rounds ask questions the server has not seen yet as long as there are
// any. With profile set, it records the server's CPU profile meanwhile.
func drive(ctx context.Context, s *server, questions []string, round int, cfg config, profile string) (*loadRound, error) {
	bodies := make([][]byte, len(questions))
	for i, q := range questions {
		b, err := json.Marshal(map[string]string{"question": q, "channel": "load"})
		if err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	transport := &http.Transport{MaxIdleConns: cfg.concurrency, MaxIdleConnsPerHost: cfg.concurrency, MaxConnsPerHost: cfg.concurrency, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	url := s.base + "/api/v1/ask"

	var next atomic.Int64
	next.Store(int64(round * len(bodies) / max(cfg.rounds, 1)))
	ask := func(buf *bytes.Buffer) (time.Duration, bool, error) {
		body := bodies[int(next.Add(1))%len(bodies)]
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, false, err
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil {
			return 0, false, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, false, fmt.Errorf("status %d: %.200s", resp.StatusCode, buf.String())
		}
		return took, bytes.Contains(buf.Bytes(), answeredMark), nil
	}

	// Warm-up: the connections open and the server's caches fill as in
	// service.
	warmCtx, cancel := context.WithTimeout(ctx, cfg.warmup)
	var wg sync.WaitGroup
	for w := 0; w < cfg.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for warmCtx.Err() == nil {
				ask(&buf)
			}
		}()
	}
	wg.Wait()
	cancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	var profileErr chan error
	if profile != "" {
		profileErr = make(chan error, 1)
		go func() { profileErr <- fetchProfile(ctx, s, profile, cfg.duration) }()
	}
	runCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var left atomic.Int64
	left.Store(int64(cfg.maxRequests))
	type worker struct {
		latencies []time.Duration
		errors    int
		answered  int
		firstErr  error
	}
	workers := make([]*worker, cfg.concurrency)
	start := time.Now()
	for w := range workers {
		wk := &worker{latencies: make([]time.Duration, 0, 4096)}
		workers[w] = wk
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for runCtx.Err() == nil && left.Add(-1) >= 0 {
				took, answered, err := ask(&buf)
				if err != nil {
					if runCtx.Err() != nil {
						return // cut off by the end of the round
					}
					wk.errors++
					if wk.firstErr == nil {
						wk.firstErr = err
					}
					continue
				}
				wk.latencies = append(wk.latencies, took)
				if answered {
					wk.answered++
				}
			}
		}()
	}
	wg.Wait()
	r := &loadRound{elapsed: time.Since(start)}
	for _, wk := range workers {
		r.latencies = append(r.latencies, wk.latencies...)
		r.errors += wk.errors
		r.answered += wk.answered
		if wk.firstErr != nil {
			fmt.Fprintf(os.Stderr, "first error of a connection: %v\n", wk.firstErr)
		}
	}
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	r.rssAfter, _ = s.rss()
	if profileErr != nil {
		if err := <-profileErr; err != nil {
			return nil, err
		}
	}
	return r, nil
}

// fetchProfile saves the server's CPU profile over d from its --pprof
// listener.
func fetchProfile(ctx context.Context, s *server, path string, d time.Duration) error {
	secs := max(int(d.Seconds()), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", s.pprofBase, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile: %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	return f.Close()
}
