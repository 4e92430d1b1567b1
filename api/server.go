// Package api serves the knowledge base over HTTP with echo.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"xiaoshen/kb"
)

// Options configures the HTTP server.
type Options struct {
	// BodyLimit caps request bodies, e.g. "1M".
	BodyLimit string
	// SecureCookies marks the session cookie Secure (serve over HTTPS).
	SecureCookies bool
}

// Server is the HTTP front of the service.
type Server struct {
	echo     *echo.Echo
	svc      *kb.Service
	accounts kb.AccountStore
	logger   *slog.Logger
	opts     Options
	ready    atomic.Bool
}

// New builds the router with every route, the middleware and the error
// handler.
func New(svc *kb.Service, accounts kb.AccountStore, logger *slog.Logger, opts Options) *Server {
	if opts.BodyLimit == "" {
		opts.BodyLimit = "1M"
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{echo: e, svc: svc, accounts: accounts, logger: logger, opts: opts}
	e.HTTPErrorHandler = s.handleError
	e.Use(s.requestID, middleware.Recover(), s.accessLog, middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: opts.BodyLimit,
		// Uploads have their own, larger limit on their route.
		Skipper: func(c echo.Context) bool { return c.Request().URL.Path == "/api/v1/entries/sync" },
	}))

	e.GET("/healthz", s.healthz)
	v1 := e.Group("/api/v1", s.identify)
	s.registerAsk(v1)
	s.registerFeedback(v1)
	s.registerReview(v1)
	s.registerSearch(v1)
	s.registerEntries(v1)
	s.registerColumns(v1)
	s.registerPages()
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// SetReady marks the service ready (index loaded, store open) or not.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

func (s *Server) healthz(c echo.Context) error {
	if !s.ready.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "starting"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// errorBody is the JSON shape of every error.
type errorBody struct {
	Error struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Details []kb.FieldError `json:"details,omitempty"`
	} `json:"error"`
}

var statusByCode = map[string]int{
	kb.EINVALID:   http.StatusBadRequest,
	kb.EUNAUTH:    http.StatusUnauthorized,
	kb.EFORBIDDEN: http.StatusForbidden,
	kb.ENOTFOUND:  http.StatusNotFound,
	kb.ECONFLICT:  http.StatusConflict,
	kb.ETOOLARGE:  http.StatusRequestEntityTooLarge,
	kb.ELIMIT:     http.StatusTooManyRequests,
	kb.EINTERNAL:  http.StatusInternalServerError,
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
	if status >= 500 {
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

func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.logger.InfoContext(c.Request().Context(), "request", "method", c.Request().Method, "route", c.Path(),
			"status", c.Response().Status, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		return nil
	}
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
