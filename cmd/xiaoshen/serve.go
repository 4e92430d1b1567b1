package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"xiaoshen/api"
	"xiaoshen/kb"
	"xiaoshen/metrics"
	"xiaoshen/search"
)

// defaultRateLimit is the requests per minute one address may make to the
// public endpoints: a person types a question every few seconds at most,
// while a script looping on /ask is stopped within a minute.
const defaultRateLimit = 120

// readHeaderTimeout bounds how long a client may take to send its request
// headers, against slow-header attacks; no honest client needs longer.
const readHeaderTimeout = 5 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "监听地址（环境变量 XIAOSHEN_ADDR）")
	data := fs.String("data", "./data", "数据目录（环境变量 XIAOSHEN_DATA）")
	dict := fs.String("dict", "", "gojieba 词典目录（环境变量 XIAOSHEN_DICT；默认：程序旁的 dict 目录，其次 Go 模块缓存）")
	seed := fs.Bool("seed", true, "新的空数据目录先载入内置知识库")
	threshold := fs.Float64("threshold", 0, "直接答复所需的最低置信度，0 到 1（环境变量 XIAOSHEN_THRESHOLD；默认：校准得出的阈值）")
	logFormat := fs.String("log-format", "text", "日志格式：text 或 json（环境变量 XIAOSHEN_LOG_FORMAT）")
	logLevel := fs.String("log-level", "info", "日志级别：debug、info、warn、error（环境变量 XIAOSHEN_LOG_LEVEL）")
	rateLimit := fs.Int("rate-limit", defaultRateLimit, "每个客户端地址每分钟对 /api/v1/ask、/api/v1/search 和 /api/v1/feedback 的请求上限；0 为不限；chatbot 令牌不受限（环境变量 XIAOSHEN_RATE_LIMIT）")
	trustProxy := fs.Bool("trust-proxy", false, "请求来自本机、链路本地或内网地址上的代理时，从 X-Forwarded-For 或 X-Real-IP 取客户端地址（环境变量 XIAOSHEN_TRUST_PROXY）")
	secureCookies := fs.Bool("secure-cookies", false, "审核页会话 Cookie 加 Secure 标记；经 HTTPS 访问时开启（环境变量 XIAOSHEN_SECURE_COOKIES）")
	metricsOn := fs.Bool("metrics", true, "在 /metrics 提供 Prometheus 指标（环境变量 XIAOSHEN_METRICS）")
	readTimeout := fs.Duration("read-timeout", 15*time.Second, "读取整个请求（含请求体）的最长时间（环境变量 XIAOSHEN_READ_TIMEOUT）")
	writeTimeout := fs.Duration("write-timeout", 30*time.Second, "从请求头读完到响应写完的最长时间（环境变量 XIAOSHEN_WRITE_TIMEOUT）")
	handlerTimeout := fs.Duration("handler-timeout", 15*time.Second, "处理一个请求的最长时间，超时答复 503；须小于 --write-timeout（环境变量 XIAOSHEN_HANDLER_TIMEOUT）")
	idleTimeout := fs.Duration("idle-timeout", 120*time.Second, "空闲的长连接保持多久（环境变量 XIAOSHEN_IDLE_TIMEOUT）")
	drain := fs.Duration("drain", 0, "收到停止信号后先这样长的时间照常答复、只让 /readyz 答复 503，好让负载均衡把流量移走，再停止接受连接；在负载均衡后面时设为其健康检查间隔的两三倍；再收到一次信号即结束等待（环境变量 XIAOSHEN_DRAIN）")
	pprofAddr := fs.String("pprof", "", "在此本机地址上提供 Go 性能剖析（/debug/pprof/），如 127.0.0.1:6060；默认关闭")
	var calendars stringsFlag
	fs.Var(&calendars, "calendar", "额外的节假日安排文件（JSON），可重复")
	if err := setFromEnv(fs, map[string]string{
		"addr": "XIAOSHEN_ADDR", "data": "XIAOSHEN_DATA", "threshold": "XIAOSHEN_THRESHOLD",
		"log-format": "XIAOSHEN_LOG_FORMAT", "log-level": "XIAOSHEN_LOG_LEVEL",
		"rate-limit": "XIAOSHEN_RATE_LIMIT", "trust-proxy": "XIAOSHEN_TRUST_PROXY", "metrics": "XIAOSHEN_METRICS", "secure-cookies": "XIAOSHEN_SECURE_COOKIES",
		"read-timeout": "XIAOSHEN_READ_TIMEOUT", "write-timeout": "XIAOSHEN_WRITE_TIMEOUT",
		"handler-timeout": "XIAOSHEN_HANDLER_TIMEOUT", "idle-timeout": "XIAOSHEN_IDLE_TIMEOUT", "drain": "XIAOSHEN_DRAIN",
	}); err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !(*threshold >= 0 && *threshold <= 1) { // NaN too
		return usageError{fmt.Errorf("--threshold 应在 0 到 1 之间")}
	}
	*logFormat, *logLevel = strings.ToLower(*logFormat), strings.ToLower(*logLevel) // WARN and JSON as before
	if *logFormat != "text" && *logFormat != "json" {
		return usageError{fmt.Errorf("--log-format（环境变量 XIAOSHEN_LOG_FORMAT）应为 text 或 json，而不是 %q", *logFormat)}
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, *logLevel) {
		return usageError{fmt.Errorf("--log-level（环境变量 XIAOSHEN_LOG_LEVEL）应为 debug、info、warn 或 error，而不是 %q", *logLevel)}
	}
	if *rateLimit < 0 {
		return usageError{fmt.Errorf("--rate-limit 不能为负数（0 表示不限流）")}
	}
	for name, d := range map[string]time.Duration{"read-timeout": *readTimeout, "write-timeout": *writeTimeout,
		"handler-timeout": *handlerTimeout, "idle-timeout": *idleTimeout} {
		if d <= 0 {
			return usageError{fmt.Errorf("--%s 应大于 0", name)}
		}
	}
	if *drain < 0 || *drain > maxDrain {
		return usageError{fmt.Errorf("--drain（环境变量 XIAOSHEN_DRAIN）应在 0 到 %s 之间，而不是 %s", maxDrain, *drain)}
	}
	if *handlerTimeout >= *writeTimeout {
		// Past the write deadline the connection is cut and the client sees
		// no answer at all, instead of the 503 the handler timeout gives.
		return usageError{fmt.Errorf("--handler-timeout（%s）应小于 --write-timeout（%s）", *handlerTimeout, *writeTimeout)}
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
	// The listener answers from the start: while the app opens (an index
	// rebuild takes seconds on a large KB) /healthz is alive and the rest
	// is 503, rather than connections hanging unanswered.
	var handler atomic.Pointer[http.Handler]
	starting := api.Starting()
	handler.Store(&starting)
	httpSrv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       *readTimeout,
		WriteTimeout:      *writeTimeout,
		IdleTimeout:       *idleTimeout,
	}
	errc := make(chan error, 2)
	go func() { errc <- httpSrv.Serve(ln) }()
	var reg *metrics.Registry
	if *metricsOn {
		reg = metrics.New()
	}
	a, err := openApp(ctx, appConfig{DataDir: *data, DictDir: *dict, CalendarFiles: calendars, Seed: *seed, Logger: logger, Metrics: reg,
		Calibration: filepath.Join(*data, search.CalibrationFileName)})
	if err != nil {
		httpSrv.Close()
		return err
	}
	defer a.Close()
	if *threshold > 0 {
		a.service.Threshold = *threshold
	}
	if reg != nil {
		a.service.Observer = reg
		if err := reg.Watch(a.service); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		reg.SetThreshold(a.index.Model().Profile, a.service.Threshold)
	}
	srv := api.New(a.service, a.store, logger, api.Options{RateLimit: *rateLimit, TrustProxy: *trustProxy, Metrics: reg, SecureCookies: *secureCookies})
	ready := api.TimeoutHandler(srv, *handlerTimeout)
	handler.Store(&ready)
	srv.SetReady(true)
	n, _ := a.index.Count()
	logger.Info("xiaoshen ready", "addr", ln.Addr().String(), "data", *data, "entries", n, "threshold", a.service.Threshold, "calibration", a.index.Model().Profile,
		"rate_limit", *rateLimit, "trust_proxy", *trustProxy, "metrics", *metricsOn, "startup_ms", time.Since(start).Milliseconds())

	// The repair outlives the stop signal: writes are taken until the
	// drain ends, and it stops with the function.
	repairCtx, stopRepair := context.WithCancel(context.WithoutCancel(ctx))
	repairDone := make(chan struct{})
	go func() {
		defer close(repairDone)
		repairIndexQueue(repairCtx, a, indexRepairInterval)
	}()
	defer func() { stopRepair(); <-repairDone }()

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
	srv.SetReady(false)
	if *drain > 0 {
		logger.Info("draining: /readyz answers 503 while requests are still served", "drain", drain.String())
		waitDrain(*drain)
	}
	logger.Info("shutting down")
	// Every request in flight either finishes or is answered by its own
	// timeout before the process exits: cut off sooner, an upload could
	// commit while its client is told the connection failed.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *handlerTimeout+2*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// maxDrain bounds --drain: a load balancer takes a server out within a few
// health checks, and a stop must not hang on a typo such as 5h.
const maxDrain = 5 * time.Minute

// waitDrain waits d, or until another interrupt or SIGTERM: an operator who
// signals again wants the server stopped now.
func waitDrain(d time.Duration) {
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-again:
	}
}

// setFromEnv sets flags from their environment variables, before the
// command line is parsed so that the command line wins; a malformed value
// is a usage error naming the variable.
func setFromEnv(fs *flag.FlagSet, vars map[string]string) error {
	for name, env := range vars {
		if v := os.Getenv(env); v != "" {
			if err := fs.Set(name, v); err != nil {
				if want := expectedValue(fs.Lookup(name).Value, err); want != "" {
					return usageError{fmt.Errorf("%s=%q：%s", env, v, want)}
				}
				return usageError{fmt.Errorf("%s=%q: %w", env, v, err)}
			}
		}
	}
	return nil
}

// indexRepairInterval is how often serve looks for index updates that
// failed after their write committed.
const indexRepairInterval = 30 * time.Second

// repairIndexQueue indexes, every interval, the changes that stayed queued
// longer than kb.RetryAfter because their index update failed, until ctx
// ends.
func repairIndexQueue(ctx context.Context, a *app, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		n, err := a.service.RepairQueue(ctx, time.Now().Add(-kb.RetryAfter))
		if err != nil {
			a.cfg.Logger.Error("index repair failed; retrying later", "error", err.Error())
		} else if n > 0 {
			a.cfg.Logger.Warn("index repaired: queued changes indexed", "entries", n)
		}
	}
}

// envThreshold is the deployment's answer threshold from the environment,
// 0 when unset: serve answers by it, and calibrate, eval and explain on a
// data directory judge by it. A value serve would refuse is an error here
// too, not a silent fall back to the model's threshold.
func envThreshold() (float64, error) {
	v := os.Getenv("XIAOSHEN_THRESHOLD")
	if v == "" {
		return 0, nil
	}
	th, err := strconv.ParseFloat(v, 64)
	if err != nil || !(th >= 0 && th <= 1) { // NaN too
		return 0, usageError{fmt.Errorf("环境变量 XIAOSHEN_THRESHOLD=%q 应为 0 到 1 之间的数", v)}
	}
	return th, nil
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
