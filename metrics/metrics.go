// Package metrics keeps the service's counters and gauges and serves them in
// the Prometheus text format, with the official client library.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"xiaoshen/kb"
)

// Outcomes of a question, as the asks counter labels them. They exclude
// each other: a question with 猜你想问 suggestions counts as suggested, not
// unanswered, although both are recorded for backfill.
const (
	OutcomeAnswered   = "answered"
	OutcomeSuggested  = "suggested"
	OutcomeUnanswered = "unanswered"
	OutcomeSmallTalk  = "small_talk" // a greeting or thanks: neither answered nor recorded
)

// scrapeTimeout bounds the store query a scrape runs.
const scrapeTimeout = 5 * time.Second

// Registry holds the service's metrics and serves them for scraping.
type Registry struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	asks     *prometheus.CounterVec
	// confidence is the top candidate's confidence of every question: its
	// spread drifting while the KB grows is the sign to run xiaoshen
	// calibrate again.
	confidence  prometheus.Histogram
	calibration *prometheus.GaugeVec
	rebuilds    prometheus.Counter
}

// New returns a registry with the HTTP, question and index metrics and the
// Go runtime and process collectors.
func New() *Registry {
	r := &Registry{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xiaoshen_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "xiaoshen_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method, route template and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		asks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xiaoshen_asks_total",
			Help: "Questions asked, by outcome: answered, suggested (not answered, 猜你想问 offered), unanswered, or small_talk (a greeting or thanks, not recorded).",
		}, []string{"outcome"}),
		confidence: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xiaoshen_ask_confidence",
			Help:    "Confidence of the best live candidate of each question (0 when there is none), answered or not.",
			Buckets: []float64{.1, .2, .3, .4, .5, .6, .7, .8, .9, 1},
		}),
		calibration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "xiaoshen_answer_threshold",
			Help: "Least confidence for an answer, labelled by the calibration in use: deployment (calibration.json) or the built-in profile's name.",
		}, []string{"calibration"}),
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xiaoshen_index_rebuilds_total",
			Help: "Full rebuilds of the search index from the store since the process started.",
		}),
	}
	for _, o := range []string{OutcomeAnswered, OutcomeSuggested, OutcomeUnanswered, OutcomeSmallTalk} {
		r.asks.WithLabelValues(o)
	}
	r.registry.MustRegister(r.requests, r.latency, r.asks, r.confidence, r.calibration, r.rebuilds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// ObserveRequest counts a served request. route is the router's template
// (such as /api/v1/entries/:id), never the raw path, so that the number of
// series stays bounded.
func (r *Registry) ObserveRequest(method, route string, status int, elapsed time.Duration) {
	code := strconv.Itoa(status)
	r.requests.WithLabelValues(method, route, code).Inc()
	r.latency.WithLabelValues(method, route, code).Observe(elapsed.Seconds())
}

// ObserveAsk counts a question by its outcome; it makes the registry a
// kb.AskObserver.
func (r *Registry) ObserveAsk(res *kb.AskResult) {
	if res.SmallTalk {
		r.asks.WithLabelValues(OutcomeSmallTalk).Inc()
		return
	}
	r.confidence.Observe(res.Confidence)
	switch {
	case res.Answered:
		r.asks.WithLabelValues(OutcomeAnswered).Inc()
	case len(res.Suggestions) > 0:
		r.asks.WithLabelValues(OutcomeSuggested).Inc()
	default:
		r.asks.WithLabelValues(OutcomeUnanswered).Inc()
	}
}

// SetThreshold records the answer threshold and the calibration it comes
// with.
func (r *Registry) SetThreshold(calibration string, threshold float64) {
	r.calibration.Reset()
	r.calibration.WithLabelValues(calibration).Set(threshold)
}

// IndexRebuilt counts a full rebuild of the search index.
func (r *Registry) IndexRebuilt() { r.rebuilds.Inc() }

// Watch adds the gauges read from the service on every scrape: the number
// of indexed documents and the open and overdue review items per
// department.
func (r *Registry) Watch(svc *kb.Service) error {
	return r.registry.Register(&serviceCollector{svc: svc})
}

// Handler serves the metrics in the Prometheus text format. A failing
// collector is logged and left out; the other metrics are still served.
func (r *Registry) Handler(logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(r.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

var (
	indexDocumentsDesc = prometheus.NewDesc("xiaoshen_index_documents",
		"Entries in the search index.", nil, nil)
	reviewOpenDesc = prometheus.NewDesc("xiaoshen_review_items_open",
		"Open review items (unanswered questions and answers to improve), by department.", []string{"department"}, nil)
	reviewOverdueDesc = prometheus.NewDesc("xiaoshen_review_items_overdue",
		"Open review items past their 5-working-day deadline, by department.", []string{"department"}, nil)
)

// serviceCollector reads the index size and the review backlog when
// scraped, so the figures are never stale.
type serviceCollector struct {
	svc *kb.Service
}

func (c *serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- indexDocumentsDesc
	ch <- reviewOpenDesc
	ch <- reviewOverdueDesc
}

func (c *serviceCollector) Collect(ch chan<- prometheus.Metric) {
	if n, err := c.svc.Index.Count(); err != nil {
		ch <- prometheus.NewInvalidMetric(indexDocumentsDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(indexDocumentsDesc, prometheus.GaugeValue, float64(n))
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	backlog, err := c.svc.Reviews.ReviewBacklog(ctx, c.svc.Now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(reviewOpenDesc, err)
		return
	}
	for _, b := range backlog {
		ch <- prometheus.MustNewConstMetric(reviewOpenDesc, prometheus.GaugeValue, float64(b.Open), b.Department)
		ch <- prometheus.MustNewConstMetric(reviewOverdueDesc, prometheus.GaugeValue, float64(b.Overdue), b.Department)
	}
}
