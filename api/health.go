package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"xiaoshen/kb"
)

// readyTimeout bounds the store query of a readiness check.
const readyTimeout = 2 * time.Second

func (s *Server) registerHealth() {
	s.echo.GET("/healthz", s.healthz)
	s.echo.GET("/readyz", s.readyz)
}

// Starting answers while the service starts (the segmenter loading, an
// index rebuilding, which on a large KB takes seconds): /healthz says the
// process is alive, so that a liveness check does not kill it mid-rebuild,
// and everything else, /readyz included, is 503 with Retry-After.
func Starting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		if r.URL.Path == "/healthz" {
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `{"status":"starting"}`)
			return
		}
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"error":{"code":%q,"message":"服务正在启动，请稍后再试"}}`, kb.EUNAVAILABLE)
	})
}

// SetReady marks the service ready to take traffic (started) or not
// (starting, or draining before shutdown).
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// healthz is GET /healthz: the process is alive and serving HTTP.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is GET /readyz: 200 when the service has started, its index is
// loaded and its store answers; otherwise 503 with the reason, so that a
// load balancer sends no questions to it.
func (s *Server) readyz(c echo.Context) error {
	if !s.ready.Load() {
		return kb.Errorf(kb.EUNAVAILABLE, "服务正在启动或停止")
	}
	if s.svc.Index == nil {
		return kb.Errorf(kb.EUNAVAILABLE, "检索索引未加载")
	}
	if _, err := s.svc.Index.Count(); err != nil {
		s.logger.WarnContext(c.Request().Context(), "not ready: index", "error", err.Error())
		return kb.Errorf(kb.EUNAVAILABLE, "检索索引不可用")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
	defer cancel()
	if err := s.svc.Store.Ping(ctx); err != nil {
		s.logger.WarnContext(c.Request().Context(), "not ready: store", "error", err.Error())
		return kb.Errorf(kb.EUNAVAILABLE, "数据库不可用")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
