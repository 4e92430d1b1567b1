package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"xiaoshen/api"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	addr := fs.String("addr", envOr("XIAOSHEN_ADDR", "127.0.0.1:8080"), "listen address (env XIAOSHEN_ADDR)")
	data := fs.String("data", envOr("XIAOSHEN_DATA", "./data"), "data directory (env XIAOSHEN_DATA)")
	dict := fs.String("dict", "", "gojieba dictionary folder (env XIAOSHEN_DICT; default: ./dict next to the binary, then the Go module)")
	seed := fs.Bool("seed", true, "load the embedded corpus into a new, empty data directory")
	threshold := fs.Float64("threshold", envFloat("XIAOSHEN_THRESHOLD", 0), "least confidence for an answer, 0..1 (env XIAOSHEN_THRESHOLD; default: the built-in calibrated value)")
	logFormat := fs.String("log-format", envOr("XIAOSHEN_LOG_FORMAT", "text"), "log format: text or json")
	logLevel := fs.String("log-level", envOr("XIAOSHEN_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	pprofAddr := fs.String("pprof", "", "serve Go profiles (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060; off by default")
	var calendars stringsFlag
	fs.Var(&calendars, "calendar", "extra holiday arrangement file (JSON); repeatable")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *threshold < 0 || *threshold > 1 {
		return usageError{fmt.Errorf("--threshold 应在 0 到 1 之间")}
	}
	if *pprofAddr != "" && !isLoopback(*pprofAddr) {
		return usageError{fmt.Errorf("--pprof 只能监听本机地址（如 127.0.0.1:6060）")}
	}
	logger := newLogger(stderr, *logFormat, *logLevel)
	start := time.Now()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	a, err := openApp(ctx, appConfig{DataDir: *data, DictDir: *dict, CalendarFiles: calendars, Seed: *seed, Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	if *threshold > 0 {
		a.service.Threshold = *threshold
	}
	srv := api.New(a.service, a.store, logger, api.Options{})
	httpSrv := &http.Server{
		Handler:           http.TimeoutHandler(srv, 15*time.Second, `{"error":{"code":"internal","message":"请求处理超时"}}`),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	srv.SetReady(true)
	n, _ := a.index.Count()
	logger.Info("xiaoshen ready", "addr", ln.Addr().String(), "data", *data, "entries", n, "threshold", a.service.Threshold,
		"startup_ms", time.Since(start).Milliseconds())

	errc := make(chan error, 2)
	go func() { errc <- httpSrv.Serve(ln) }()
	if *pprofAddr != "" {
		pprofSrv, err := servePprof(*pprofAddr, errc)
		if err != nil {
			return err
		}
		defer pprofSrv.Close()
		logger.Info("profiling on", "addr", *pprofAddr)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	srv.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(envOr(name, ""), 64); err == nil {
		return v
	}
	return def
}

// isLoopback reports whether addr listens on the loopback interface only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// servePprof serves the Go profiles on addr, for measuring the server under
// load; its errors go to errc.
func servePprof(addr string, errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("pprof: %w", err)
		}
	}()
	return srv, nil
}
