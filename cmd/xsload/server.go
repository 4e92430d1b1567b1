package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// importRun is one timed bulk import.
type importRun struct {
	entries int
	elapsed time.Duration
	maxRSS  int64 // bytes
}

func (r importRun) rate() float64 { return float64(r.entries) / r.elapsed.Seconds() }

// runImport imports file into a new data directory with `xiaoshen import`,
// timing the whole process as an operator sees it.
func runImport(ctx context.Context, bin, dataDir, file string, entries int) (importRun, error) {
	if err := os.RemoveAll(dataDir); err != nil {
		return importRun{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "import", "--data", dataDir, file)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return importRun{}, fmt.Errorf("import: %w\n%s", err, out.String())
	}
	run := importRun{entries: entries, elapsed: elapsed}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.maxRSS = ru.Maxrss << 10 // Linux reports KiB
	}
	return run, nil
}

// startRun is one timed server start.
type startRun struct {
	ready time.Duration // process start → first /readyz 200
}

// server is a running `xiaoshen serve`.
type server struct {
	cmd       *exec.Cmd
	base      string // http://127.0.0.1:port
	pprofBase string // http://127.0.0.1:port of --pprof, if on
	started   time.Time
	ready     time.Duration
	done      chan error
	log       *os.File
}

// freePort asks the kernel for a free local port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serveFlags returns the flags this binary's serve understands that a load
// run needs: no rate limit, and a profiling listener when asked.
func serveFlags(bin string) (rateLimit, pprof bool) {
	out, _ := exec.Command(bin, "serve", "-h").CombinedOutput()
	return strings.Contains(string(out), "-rate-limit"), strings.Contains(string(out), "-pprof")
}

// startServer starts `xiaoshen serve` on dataDir and waits until /readyz
// answers 200, for at most a minute.
func startServer(ctx context.Context, bin, dataDir, logPath string, withPprof bool) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--data", dataDir, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--seed=false", "--log-format", "json"}
	hasRateLimit, hasPprof := serveFlags(bin)
	if hasRateLimit {
		args = append(args, "--rate-limit=0")
	}
	s := &server{base: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan error, 1)}
	if withPprof {
		if !hasPprof {
			return nil, errors.New("--cpuprofile: this binary's serve has no --pprof flag")
		}
		pp, err := freePort()
		if err != nil {
			return nil, err
		}
		s.pprofBase = fmt.Sprintf("http://127.0.0.1:%d", pp)
		args = append(args, "--pprof", fmt.Sprintf("127.0.0.1:%d", pp))
	}
	if s.log, err = os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.started = time.Now()
	if err := s.cmd.Start(); err != nil {
		s.log.Close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	deadline := s.started.Add(time.Minute)
	for {
		select {
		case err := <-s.done:
			s.log.Close()
			return nil, fmt.Errorf("serve exited before ready (%v); see %s", err, logPath)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := client.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.ready = time.Since(s.started)
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("serve not ready after a minute; see %s", logPath)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// timeStart starts a server, records its start to ready and stops it.
func timeStart(ctx context.Context, bin, dataDir, logPath string) (startRun, error) {
	s, err := startServer(ctx, bin, dataDir, logPath, false)
	if err != nil {
		return startRun{}, err
	}
	ready := s.ready
	if err := s.stop(); err != nil {
		return startRun{}, err
	}
	return startRun{ready: ready}, nil
}

// stop asks the server to shut down and waits for it, killing it after
// 15 seconds.
func (s *server) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	defer s.log.Close()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
	return nil
}

// cpuTime reads the CPU time the server has used, from /proc/PID/stat.
func (s *server) cpuTime() (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	rest := string(raw)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", s.cmd.Process.Pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", s.cmd.Process.Pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// waitIdle waits until the server uses under 5% of a core over half a
// second, for at most limit, and returns how long it was busy.
func (s *server) waitIdle(ctx context.Context, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit && ctx.Err() == nil {
		before, err := s.cpuTime()
		if err != nil {
			return 0
		}
		time.Sleep(500 * time.Millisecond)
		after, err := s.cpuTime()
		if err != nil || after-before < 25*time.Millisecond {
			return time.Since(start) - 500*time.Millisecond
		}
	}
	return time.Since(start)
}

// peakRSS reads the server's peak resident set size (VmHWM) in bytes.
func (s *server) peakRSS() (int64, error) {
	return procStatusBytes(s.cmd.Process.Pid, "VmHWM:")
}

// rss reads the server's current resident set size (VmRSS) in bytes.
func (s *server) rss() (int64, error) {
	return procStatusBytes(s.cmd.Process.Pid, "VmRSS:")
}

func procStatusBytes(pid int, key string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}
