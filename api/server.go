// Package api serves the knowledge base over HTTP with echo.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"xiaoshen/kb"
	"xiaoshen/metrics"
)

// Options configures the HTTP server.
type Options struct {
	// BodyLimit caps request bodies, e.g. "1M".
	BodyLimit string
	// SecureCookies marks the session cookie Secure (serve over HTTPS).
	SecureCookies bool
	// RateLimit is how many requests per minute one client address may make
	// to the public /ask and /search; 0 turns the limit off. Tokens with the
	// chatbot role are exempt.
	RateLimit int
	// TrustProxy takes the client address from X-Forwarded-For or X-Real-IP
	// when the request comes from a proxy on a loopback, link-local or
	// private address; otherwise the TCP peer address is the client.
	TrustProxy bool
	// Metrics, when set, records every request and is served at /metrics.
	Metrics *metrics.Registry
}

// Server is the HTTP front of the service.
type Server struct {
	echo     *echo.Echo
	svc      *kb.Service
	accounts kb.AccountStore
	logger   *slog.Logger
	opts     Options
	ready    atomic.Bool
	limiter  *rateLimiter
	// loginLimiter slows password guessing on the review page, always on.
	loginLimiter *rateLimiter
	// routes holds every registered route template, so that requests to
	// unknown paths share one metrics label.
	routes map[string]bool
	// pageKey signs the messages review pages show, see messageURL.
	pageKey []byte
}

// New builds the router with every route, the middleware and the error
// handler.
func New(svc *kb.Service, accounts kb.AccountStore, logger *slog.Logger, opts Options) *Server {
	if opts.BodyLimit == "" {
		opts.BodyLimit = "1M"
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientAddress(opts.TrustProxy)
	s := &Server{echo: e, svc: svc, accounts: accounts, logger: logger, opts: opts, pageKey: make([]byte, 32)}
	rand.Read(s.pageKey) // since Go 1.24 it never returns an error
	if opts.RateLimit > 0 {
		s.limiter = newRateLimiter(opts.RateLimit, maxRateLimitClients, time.Now)
	}
	s.loginLimiter = newRateLimiter(loginAttemptsPerMinute, maxRateLimitClients, time.Now)
	e.HTTPErrorHandler = s.handleError
	// observe sits outside Recover so that a panic is logged and counted as
	// the 500 it becomes.
	e.Use(s.requestID, s.observe, middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableErrorHandler: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.logger.ErrorContext(c.Request().Context(), "panic", "error", err.Error(), "stack", string(stack))
			return fmt.Errorf("panic: %w", err)
		},
	}), middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: opts.BodyLimit,
		// Uploads have their own, larger limit on their route.
		Skipper: func(c echo.Context) bool { return c.Request().URL.Path == "/api/v1/entries/sync" },
	}), s.identify)

	s.registerHealth()
	if opts.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(opts.Metrics.Handler(logger)))
	}
	// No middleware on the group: echo would then route every unknown
	// method or path below it to a catch-all 404, and never answer 405.
	v1 := e.Group("/api/v1")
	s.registerAsk(v1)
	s.registerFeedback(v1)
	s.registerReview(v1)
	s.registerSearch(v1)
	s.registerEntries(v1)
	s.registerColumns(v1)
	s.registerOpenAPI(v1)
	s.registerPages()
	s.routes = map[string]bool{}
	for _, r := range e.Routes() {
		s.routes[r.Path] = true
	}
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Routes lists the registered routes, so that tests can hold the OpenAPI
// document to them.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// errorBody is the JSON shape of every error.
type errorBody struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details []kb.FieldError `json:"details,omitempty"`
	} `json:"error"`
}

var statusByCode = map[string]int{
	kb.EINVALID:     http.StatusBadRequest,
	kb.EUNAUTH:      http.StatusUnauthorized,
	kb.EFORBIDDEN:   http.StatusForbidden,
	kb.ENOTFOUND:    http.StatusNotFound,
	kb.ECONFLICT:    http.StatusConflict,
	kb.ETOOLARGE:    http.StatusRequestEntityTooLarge,
	kb.ELIMIT:       http.StatusTooManyRequests,
	kb.EUNAVAILABLE: http.StatusServiceUnavailable,
	kb.EINTERNAL:    http.StatusInternalServerError,
}

// handleError maps domain and echo errors to statuses and the JSON error
// body. Only internal errors are logged with their detail.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var body errorBody
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	var de *kb.Error
	switch {
	case errors.As(err, &de):
		body.Error.Code, body.Error.Message, body.Error.Details = de.Code, de.Message, de.Details
		status = statusByCode[de.Code]
	case errors.As(err, &he):
		status = he.Code
		body.Error.Code, body.Error.Message = httpErrorCode(he.Code), httpErrorMessage(he)
	default:
		body.Error.Code, body.Error.Message = kb.EINTERNAL, kb.ErrorMessage(err)
	}
	// A 503 (not ready, draining) is expected and logged where it arises.
	if body.Error.Code == kb.EINTERNAL {
		s.logger.ErrorContext(c.Request().Context(), "request failed", "error", err.Error(), "method", c.Request().Method, "path", c.Path())
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if strings.HasPrefix(c.Request().URL.Path, "/review") {
		if err := s.render(c, status, "error.html", struct {
			page
			Status int
		}{page: page{Title: "出错了", User: principal(c), Error: body.Error.Message}, Status: status}); err == nil {
			return
		}
	}
	c.JSON(status, body)
}

func httpErrorCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return kb.ENOTFOUND
	case http.StatusRequestEntityTooLarge:
		return kb.ETOOLARGE
	case http.StatusTooManyRequests:
		return kb.ELIMIT
	case http.StatusServiceUnavailable:
		return kb.EUNAVAILABLE
	case http.StatusUnauthorized:
		return kb.EUNAUTH
	case http.StatusForbidden:
		return kb.EFORBIDDEN
	}
	if status >= 500 {
		return kb.EINTERNAL
	}
	return kb.EINVALID
}

func httpErrorMessage(he *echo.HTTPError) string {
	switch he.Code {
	case http.StatusNotFound:
		return "接口不存在"
	case http.StatusMethodNotAllowed:
		return "不支持该请求方法"
	case http.StatusRequestEntityTooLarge:
		return "请求体过大"
	}
	if he.Code >= 500 {
		return kb.ErrorMessage(errors.New("internal"))
	}
	if msg, ok := he.Message.(string); ok {
		return msg
	}
	return http.StatusText(he.Code)
}

// decodeJSON reads a JSON body strictly into v, with clear errors for a
// malformed body.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return kb.Errorf(kb.ETOOLARGE, "请求体过大")
		case err.Error() == "EOF":
			return kb.Errorf(kb.EINVALID, "请求体为空，应为 JSON 对象")
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return kb.Errorf(kb.EINVALID, "请求体含有未知字段：%s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return kb.Errorf(kb.EINVALID, "请求体应为 JSON 对象")
			}
			return kb.Errorf(kb.EINVALID, "字段 %s 的类型不正确", typeErr.Field)
		}
		return kb.Errorf(kb.EINVALID, "请求体不是有效的 JSON")
	}
	return nil
}

type ctxKey int

const requestIDKey ctxKey = iota

// RequestID returns the request id carried by ctx, if any.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestID gives every request an id, taken from X-Request-ID when the
// caller sends a sane one, and puts it in the context for log lines.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < '!' || r > '~' }) {
			id = newRequestID()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), requestIDKey, id)))
		return next(c)
	}
}

// observe logs every request and counts it in the metrics, once the error
// handler has written the response.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		req, status := c.Request(), c.Response().Status
		route := c.Path()
		if !s.routes[route] {
			route = "unmatched"
		}
		s.logger.InfoContext(req.Context(), "request", "method", req.Method, "route", route,
			"status", status, "duration_ms", float64(elapsed.Microseconds())/1000)
		if s.opts.Metrics != nil {
			s.opts.Metrics.ObserveRequest(metricMethod(req.Method), route, status, elapsed)
		}
		return nil
	}
}

// metricMethod keeps the method label to the methods HTTP defines, so that
// made-up methods cannot add series.
func metricMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodPatch:
		return method
	}
	return "other"
}

// LogHandler wraps a slog handler so that every record logged with a request
// context carries its request_id.
func LogHandler(h slog.Handler) slog.Handler { return &logHandler{h} }

type logHandler struct{ slog.Handler }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{h.Handler.WithAttrs(attrs)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{h.Handler.WithGroup(name)}
}

// TimeoutHandler answers a request that h has not answered within limit
// with 503 and the JSON error body, and cancels the request's context.
func TimeoutHandler(h http.Handler, limit time.Duration) http.Handler {
	var body errorBody
	body.Error.Code, body.Error.Message = kb.EUNAVAILABLE, "请求处理超时，请稍后再试"
	msg, _ := json.Marshal(body)
	timeout := http.TimeoutHandler(h, limit, string(msg))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A response h writes in time replaces this header with its own;
		// the timeout message keeps it.
		w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		timeout.ServeHTTP(w, r)
	})
}
