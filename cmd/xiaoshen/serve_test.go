package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"xiaoshen/search"
)

// serveInProcess runs "serve" with args in this process and waits until
// /readyz answers 200; it stops the server when the test ends.
func serveInProcess(t *testing.T, args ...string) string {
	t.Helper()
	addr, stop := startServeInProcess(t, args...)
	t.Cleanup(func() {
		if code, logs := stop(); code != 0 {
			t.Errorf("serve exit %d; logs:\n%s", code, logs)
		}
	})
	return addr
}

// startServeInProcess runs "serve" with args in this process and waits until
// /readyz answers 200. stop signals it to stop, as SIGTERM does, waits for
// it and returns its exit status and logs.
func startServeInProcess(t *testing.T, args ...string) (addr string, stop func() (int, string)) {
	t.Helper()
	addr = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	logs := newSyncBuffer()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr, "--data", t.TempDir()}, args...), io.Discard, logs)
	}()
	stop = func() (int, string) {
		cancel()
		code := <-done
		done <- code
		return code, logs.String()
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d; logs:\n%s", code, logs)
		default:
		}
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready; logs:\n%s", logs)
		}
	}
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func TestServeWiresLimitsMetricsAndReadiness(t *testing.T) {
	addr := serveInProcess(t, "--rate-limit", "2")
	searchURL := "http://" + addr + "/api/v1/search?q=%E5%8C%96%E5%A6%86%E5%93%81"
	for i := range 2 {
		if code, _, body := get(t, searchURL); code != 200 {
			t.Fatalf("search %d: %d %s", i+1, code, body)
		}
	}
	code, h, body := get(t, searchURL)
	if code != 429 || h.Get("Retry-After") != "30" || !strings.Contains(body, `"code":"rate_limited"`) {
		t.Errorf("third search from the same address: %d, Retry-After %q, %s", code, h.Get("Retry-After"), body)
	}
	code, _, body = get(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		// A new data directory is seeded, so the index is built once.
		"xiaoshen_index_rebuilds_total 1",
		`xiaoshen_http_requests_total{method="GET",route="/api/v1/search",status="429"} 1`,
		`xiaoshen_asks_total{outcome="answered"} 0`,
		"xiaoshen_index_documents ",
		fmt.Sprintf(`xiaoshen_answer_threshold{calibration="%s"} %s`, search.DefaultModel.Profile, strconv.FormatFloat(search.DefaultModel.Threshold, 'g', -1, 64)),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, _, body := get(t, "http://"+addr+"/api/v1/openapi.json"); code != 200 || !strings.Contains(body, `"openapi":"3.`) {
		t.Errorf("/api/v1/openapi.json: %d %.80s", code, body)
	}
}

func TestServeWithoutMetricsOrLimit(t *testing.T) {
	t.Setenv("XIAOSHEN_METRICS", "false")
	t.Setenv("XIAOSHEN_RATE_LIMIT", "1")
	addr := serveInProcess(t, "--rate-limit=0")
	if code, _, _ := get(t, "http://"+addr+"/metrics"); code != 404 {
		t.Errorf("/metrics with XIAOSHEN_METRICS=false: %d, want 404", code)
	}
	for i := range 5 {
		if code, _, _ := get(t, "http://"+addr+"/api/v1/search?q=%E8%AE%B8%E5%8F%AF"); code != 200 {
			t.Fatalf("search %d with --rate-limit=0 overriding the environment: %d", i+1, code)
		}
	}
}

// With --drain, a stopping server tells the load balancer at once (/readyz
// 503) and keeps answering for the drain period before it closes.
func TestServeDrainsBeforeItStops(t *testing.T) {
	addr, stop := startServeInProcess(t, "--drain", "3s")
	stopped := make(chan int, 1)
	go func() { code, _ := stop(); stopped <- code }()
	readyFell := false
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && !readyFell; time.Sleep(20 * time.Millisecond) {
		code, _, _ := get(t, "http://"+addr+"/readyz")
		readyFell = code == 503
	}
	if !readyFell {
		t.Fatal("/readyz still 200 after the stop signal")
	}
	select {
	case code := <-stopped:
		t.Fatalf("serve exited (%d) before its drain period", code)
	default:
	}
	resp, err := http.Post("http://"+addr+"/api/v1/ask", "application/json", strings.NewReader(`{"question":"二类械注册要交哪些材料"}`))
	if err != nil {
		t.Fatalf("ask while draining: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"answered":true`) {
		t.Errorf("ask while draining: %d %s", resp.StatusCode, body)
	}
	select {
	case code := <-stopped:
		if code != 0 {
			t.Errorf("serve exit %d after draining", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after its drain period")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the server still accepts connections after it stopped")
	}
}

func TestServeRejectsBadLimits(t *testing.T) {
	tests := []struct {
		name string
		env  [2]string
		args []string
		want string
	}{
		{"negative rate limit", [2]string{}, []string{"--rate-limit", "-1"}, "--rate-limit"},
		{"malformed environment", [2]string{"XIAOSHEN_RATE_LIMIT", "many"}, nil, `XIAOSHEN_RATE_LIMIT="many"：应为整数`},
		{"malformed threshold in the environment", [2]string{"XIAOSHEN_THRESHOLD", "high"}, nil, `XIAOSHEN_THRESHOLD="high"：应为数字`},
		{"a timeout without a unit in the environment", [2]string{"XIAOSHEN_HANDLER_TIMEOUT", "15"}, nil, `XIAOSHEN_HANDLER_TIMEOUT="15"：应为时长，如 15s、2m`},
		{"an integer too large in the environment", [2]string{"XIAOSHEN_RATE_LIMIT", "99999999999999999999"}, nil, `XIAOSHEN_RATE_LIMIT="99999999999999999999"：数值超出范围`},
		{"a timeout without a unit", [2]string{}, []string{"--handler-timeout", "15"}, `--handler-timeout="15"：应为时长，如 15s、2m`},
		{"malformed rate limit", [2]string{}, []string{"--rate-limit=abc"}, `--rate-limit="abc"：应为整数`},
		{"malformed threshold", [2]string{}, []string{"-threshold", "high"}, `--threshold="high"：应为数字`},
		{"a switch given maybe", [2]string{}, []string{"--seed=maybe"}, `--seed="maybe"：应为 true 或 false`},
		{"NaN threshold", [2]string{}, []string{"--threshold", "NaN"}, "--threshold"},
		{"unknown log level", [2]string{"XIAOSHEN_LOG_LEVEL", "verbose"}, nil, "--log-level（环境变量 XIAOSHEN_LOG_LEVEL）应为 debug、info、warn 或 error"},
		{"unknown log format", [2]string{}, []string{"--log-format", "xml"}, "--log-format（环境变量 XIAOSHEN_LOG_FORMAT）应为 text 或 json"},
		{"a switch that is not true or false", [2]string{"XIAOSHEN_METRICS", "no"}, nil, `XIAOSHEN_METRICS="no"：应为 true 或 false`},
		{"handler timeout past the write deadline", [2]string{}, []string{"--handler-timeout", "30s", "--write-timeout", "30s"}, "--handler-timeout"},
		{"zero read timeout", [2]string{"XIAOSHEN_READ_TIMEOUT", "0s"}, nil, "--read-timeout"},
		{"negative drain", [2]string{}, []string{"--drain", "-1s"}, "--drain（环境变量 XIAOSHEN_DRAIN）应在 0 到 5m0s 之间"},
		{"a drain of hours", [2]string{"XIAOSHEN_DRAIN", "5h"}, nil, "--drain（环境变量 XIAOSHEN_DRAIN）应在 0 到 5m0s 之间"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env[0] != "" {
				t.Setenv(tt.env[0], tt.env[1])
			}
			var stderr bytes.Buffer
			args := append([]string{"serve", "--data", t.TempDir(), "--addr", freeAddr(t)}, tt.args...)
			if code := run(t.Context(), args, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 naming %s", code, stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), "parse error") {
				t.Errorf("stderr shows Go's parse error: %q", stderr.String())
			}
		})
	}
}
