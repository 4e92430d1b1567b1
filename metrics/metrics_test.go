package metrics_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"xiaoshen/kb"
	"xiaoshen/metrics"
)

func scrape(t *testing.T, reg *metrics.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	reg.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d", rec.Code)
	}
	return rec.Body.String()
}

func TestAskOutcomesExcludeEachOther(t *testing.T) {
	reg := metrics.New()
	for _, res := range []*kb.AskResult{
		{Answered: true, Confidence: 0.95},
		{Answered: true, Confidence: 0.72, Suggestions: []kb.Suggestion{{EntryID: 1}}}, // answered wins
		{Confidence: 0.41, Suggestions: []kb.Suggestion{{EntryID: 1}}},
		{Confidence: 0.12},
		{},
		{SmallTalk: true}, // a greeting: counted apart, no confidence
	} {
		reg.ObserveAsk(res)
	}
	body := scrape(t, reg)
	for _, want := range []string{
		`xiaoshen_asks_total{outcome="answered"} 2`,
		`xiaoshen_asks_total{outcome="suggested"} 1`,
		`xiaoshen_asks_total{outcome="unanswered"} 2`,
		`xiaoshen_asks_total{outcome="small_talk"} 1`,
		// Cumulative buckets of the five confidences 0.95, 0.72, 0.41, 0.12, 0.
		`xiaoshen_ask_confidence_bucket{le="0.1"} 1`,
		`xiaoshen_ask_confidence_bucket{le="0.2"} 2`,
		`xiaoshen_ask_confidence_bucket{le="0.5"} 3`,
		`xiaoshen_ask_confidence_bucket{le="0.8"} 4`,
		`xiaoshen_ask_confidence_bucket{le="1"} 5`,
		`xiaoshen_ask_confidence_count 5`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestFamiliesShowBeforeAnyTraffic(t *testing.T) {
	body := scrape(t, metrics.New())
	for _, want := range []string{`xiaoshen_asks_total{outcome="answered"} 0`, "xiaoshen_index_rebuilds_total 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("a fresh registry lacks %q", want)
		}
	}
}

func TestThresholdNamesItsCalibration(t *testing.T) {
	reg := metrics.New()
	reg.SetThreshold("corpus", 0.68)
	reg.SetThreshold("deployment", 0.648)
	body := scrape(t, reg)
	if !strings.Contains(body, `xiaoshen_answer_threshold{calibration="deployment"} 0.648`) || strings.Contains(body, `calibration="corpus"`) {
		t.Errorf("threshold gauge:\n%s", body)
	}
}

func TestObserveRequest(t *testing.T) {
	reg := metrics.New()
	reg.ObserveRequest("GET", "/api/v1/entries/:id", 200, 30*time.Millisecond)
	reg.ObserveRequest("GET", "/api/v1/entries/:id", 200, 3*time.Second)
	body := scrape(t, reg)
	for _, want := range []string{
		`xiaoshen_http_requests_total{method="GET",route="/api/v1/entries/:id",status="200"} 2`,
		`xiaoshen_http_request_duration_seconds_bucket{method="GET",route="/api/v1/entries/:id",status="200",le="0.05"} 1`,
		`xiaoshen_http_request_duration_seconds_count{method="GET",route="/api/v1/entries/:id",status="200"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
