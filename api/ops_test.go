package api_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"xiaoshen/api"
	"xiaoshen/kb"
	"xiaoshen/metrics"
)

// mustStartServerWithMetrics wires the metrics as serve does: the service
// reports asks, the registry watches the service, and the start-up rebuild
// is counted.
func mustStartServerWithMetrics(t *testing.T) (*testServer, *metrics.Registry) {
	t.Helper()
	now := fixedNow
	reg := metrics.New()
	ts := mustStartServerWithOptions(t, &now, api.Options{Metrics: reg})
	ts.env.Service.Observer = reg
	if err := reg.Watch(ts.env.Service); err != nil {
		t.Fatal(err)
	}
	reg.IndexRebuilt()
	return ts, reg
}

func TestMetricsExposeEveryFamily(t *testing.T) {
	ts, _ := mustStartServerWithMetrics(t)
	answered := ts.ask(t, "二类械注册要交哪些材料")
	unanswered := ts.ask(t, "护照过期了怎么办")
	if !answered.Answered || unanswered.Unanswered == nil {
		t.Fatalf("asks: %+v / %+v", answered, unanswered)
	}
	ts.run(t, scenario{method: "GET", url: "/api/v1/entries/" + itoa(answered.Answer.EntryID), wantStatus: 200})
	ts.run(t, scenario{method: "GET", url: "/api/v1/entries/999999", wantStatus: 404})
	ts.run(t, scenario{method: "GET", url: "/no/such/page", wantStatus: 404})
	ts.run(t, scenario{method: "GET", url: searchURL, wantStatus: 200})

	indexed, err := ts.env.Index.Count()
	if err != nil {
		t.Fatal(err)
	}
	rec := ts.run(t, scenario{method: "GET", url: "/metrics", wantStatus: 200})
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`xiaoshen_http_requests_total{method="POST",route="/api/v1/ask",status="200"} 2`,
		`xiaoshen_http_requests_total{method="GET",route="/api/v1/entries/:id",status="200"} 1`,
		`xiaoshen_http_requests_total{method="GET",route="/api/v1/entries/:id",status="404"} 1`,
		`xiaoshen_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`xiaoshen_http_request_duration_seconds_bucket{method="GET",route="/api/v1/search",status="200",le="+Inf"} 1`,
		`xiaoshen_asks_total{outcome="answered"} 1`,
		`xiaoshen_asks_total{outcome="suggested"}`,
		`xiaoshen_asks_total{outcome="unanswered"}`,
		fmt.Sprintf(`xiaoshen_review_items_open{department="%s"} 1`, unanswered.Unanswered.Department),
		fmt.Sprintf(`xiaoshen_review_items_overdue{department="%s"} 0`, unanswered.Unanswered.Department),
		fmt.Sprintf("xiaoshen_index_documents %d", indexed),
		"xiaoshen_index_rebuilds_total 1",
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, `route="/api/v1/entries/`+itoa(answered.Answer.EntryID)) || strings.Contains(body, "/no/such/page") {
		t.Error("a raw path became a route label")
	}
	if got := countOf(body, `xiaoshen_asks_total{outcome="suggested"}`) + countOf(body, `xiaoshen_asks_total{outcome="unanswered"}`); got != 1 {
		t.Errorf("suggested + unanswered = %d, want 1", got)
	}
}

// countOf reads the value of a sample line that starts with series.
func countOf(body, series string) int {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var n int
			fmt.Sscan(rest, &n)
			return n
		}
	}
	return -1
}

func TestOverdueItemsInMetrics(t *testing.T) {
	now := fixedNow
	reg := metrics.New()
	ts := mustStartServerWithOptions(t, &now, api.Options{Metrics: reg})
	if err := reg.Watch(ts.env.Service); err != nil {
		t.Fatal(err)
	}
	res := ts.ask(t, "护照过期了怎么办")
	now = res.Unanswered.DueAt.Add(time.Second)
	body := ts.run(t, scenario{method: "GET", url: "/metrics", wantStatus: 200}).Body.String()
	if want := fmt.Sprintf(`xiaoshen_review_items_overdue{department="%s"} 1`, res.Unanswered.Department); !strings.Contains(body, want) {
		t.Errorf("metrics lack %q", want)
	}
}

func TestMetricsCanBeTurnedOff(t *testing.T) {
	ts := mustStartServer(t)
	ts.run(t, scenario{method: "GET", url: "/metrics", wantStatus: 404, want: []string{`"code":"not_found"`}})
}

func TestReadiness(t *testing.T) {
	ts := mustStartServer(t)
	ts.run(t, scenario{name: "ready", method: "GET", url: "/readyz", wantStatus: 200, want: []string{`"status":"ok"`}})

	ts.SetReady(false)
	rec := ts.run(t, scenario{method: "GET", url: "/readyz", wantStatus: 503})
	if msg := mustErrorBody(t, rec, kb.EUNAVAILABLE); !strings.Contains(msg, "启动或停止") {
		t.Errorf("draining: message %q", msg)
	}
	ts.run(t, scenario{method: "GET", url: "/healthz", wantStatus: 200, want: []string{`"status":"ok"`}})

	ts.SetReady(true)
	ts.env.Store.Close()
	rec = ts.run(t, scenario{method: "GET", url: "/readyz", wantStatus: 503})
	if msg := mustErrorBody(t, rec, kb.EUNAVAILABLE); msg != "数据库不可用" {
		t.Errorf("store down: message %q", msg)
	}
	ts.run(t, scenario{method: "GET", url: "/healthz", wantStatus: 200})
}

// brokenIndex is an index that can no longer be read, as after its files
// were lost.
type brokenIndex struct{ kb.Index }

func (brokenIndex) Count() (uint64, error) { return 0, errors.New("bleve: index closed") }

func TestReadinessWithoutIndex(t *testing.T) {
	ts := mustStartServer(t)
	ts.env.Service.Index = brokenIndex{ts.env.Index}
	rec := ts.run(t, scenario{method: "GET", url: "/readyz", wantStatus: 503})
	if msg := mustErrorBody(t, rec, kb.EUNAVAILABLE); msg != "检索索引不可用" {
		t.Errorf("index closed: message %q", msg)
	}
}

func TestTimeoutHandler(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	rec := httptest.NewRecorder()
	api.TimeoutHandler(slow, 20*time.Millisecond).ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/ask", nil))
	if rec.Code != 503 {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	if msg := mustErrorBody(t, rec, kb.EUNAVAILABLE); !strings.Contains(msg, "超时") {
		t.Errorf("message %q", msg)
	}

	fast := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<p>ok</p>")
	})
	rec = httptest.NewRecorder()
	api.TimeoutHandler(fast, time.Second).ServeHTTP(rec, httptest.NewRequest("GET", "/review", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("a response in time: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestMetricsSurviveAStoreFailure(t *testing.T) {
	ts, _ := mustStartServerWithMetrics(t)
	ts.ask(t, "护照过期了怎么办")
	ts.env.Store.Close()
	rec := ts.run(t, scenario{method: "GET", url: "/metrics", wantStatus: 200,
		want: []string{"xiaoshen_index_documents ", "xiaoshen_asks_total", "xiaoshen_http_requests_total"}})
	if strings.Contains(rec.Body.String(), "xiaoshen_review_items_open{") {
		t.Error("review gauges served although the store is closed")
	}
}

// While the service starts, the liveness check says it is alive and
// everything else says to come back, instead of hanging.
func TestStartingHandler(t *testing.T) {
	h := api.Starting()
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/healthz", 200}, {"GET", "/readyz", 503}, {"POST", "/api/v1/ask", 503}, {"GET", "/review", 503},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %q", tt.method, tt.path, rec.Code, rec.Header().Get("Content-Type"))
		}
		if tt.want == 503 {
			if rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"code":"unavailable"`) {
				t.Errorf("%s %s: %v %s", tt.method, tt.path, rec.Header(), rec.Body)
			}
		}
	}
}
