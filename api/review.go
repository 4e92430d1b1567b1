package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"xiaoshen/kb"
)

func (s *Server) registerReview(g *echo.Group) {
	// Middleware per route, not a group: an echo group with middleware
	// would answer 401 instead of 404 for every unknown path below it.
	g.GET("/unanswered", s.listUnanswered, requireAuth)
	g.GET("/unanswered/:id", s.getUnanswered, requireAuth)
	g.POST("/unanswered/:id/answer", s.answerUnanswered, requireAuth)
	g.POST("/unanswered/:id/link", s.linkUnanswered, requireAuth)
	g.POST("/unanswered/:id/assign", s.assignUnanswered, requireAuth)
	g.POST("/unanswered/:id/dismiss", s.dismissUnanswered, requireAuth)
	g.GET("/proposals", s.listProposals, requireAuth)
	g.POST("/proposals/:id/accept", s.decideProposal(true), requireAuth)
	g.POST("/proposals/:id/reject", s.decideProposal(false), requireAuth)
	g.GET("/stats", s.stats, requireAuth)
	g.GET("/me", s.me, requireAuth)
}

// reviewFilter reads the list filters shared by the API and the page.
func reviewFilter(c echo.Context, maxLimit int) (kb.ReviewFilter, error) {
	f := kb.ReviewFilter{Status: c.QueryParam("status"), Department: c.QueryParam("department"), Type: c.QueryParam("type")}
	switch f.Status {
	case "", kb.StatusOpen, kb.StatusAnswered, kb.StatusDismissed:
	default:
		return f, kb.Errorf(kb.EINVALID, "status 应为 open、answered 或 dismissed")
	}
	switch f.Type {
	case "", kb.ReviewUnanswered, kb.ReviewImprove:
	default:
		return f, kb.Errorf(kb.EINVALID, "type 应为 unanswered 或 improve")
	}
	switch c.QueryParam("overdue") {
	case "":
	case "true", "1":
		t := true
		f.Overdue = &t
	case "false", "0":
		t := false
		f.Overdue = &t
	default:
		return f, kb.Errorf(kb.EINVALID, "overdue 应为 true 或 false")
	}
	var err error
	if f.Limit, err = intParam(c, "limit", 50, 1, maxLimit); err != nil {
		return f, err
	}
	if f.Offset, err = intParam(c, "offset", 0, 0, 1_000_000); err != nil {
		return f, err
	}
	return f, nil
}

// listUnanswered is GET /api/v1/unanswered.
func (s *Server) listUnanswered(c echo.Context) error {
	f, err := reviewFilter(c, 200)
	if err != nil {
		return err
	}
	items, total, err := s.svc.ReviewItems(c.Request().Context(), principal(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "items": items})
}

// getUnanswered is GET /api/v1/unanswered/:id.
func (s *Server) getUnanswered(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	it, err := s.svc.ReviewItem(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	v := s.svc.View(it, s.svc.Now())
	if v.Events, err = s.svc.Reviews.ReviewEvents(c.Request().Context(), id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// answerUnanswered is POST /api/v1/unanswered/:id/answer: backfill an answer.
func (s *Server) answerUnanswered(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req kb.BackfillRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	it, e, err := s.svc.Backfill(c.Request().Context(), principal(c), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entry_id": e.ID, "item": s.svc.View(it, s.svc.Now())})
}

// linkUnanswered is POST /api/v1/unanswered/:id/link {entry_id}.
func (s *Server) linkUnanswered(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req struct {
		EntryID int64 `json:"entry_id"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.EntryID <= 0 {
		return kb.Errorf(kb.EINVALID, "缺少 entry_id")
	}
	it, e, err := s.svc.Link(c.Request().Context(), principal(c), id, req.EntryID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entry_id": e.ID, "item": s.svc.View(it, s.svc.Now())})
}

// assignUnanswered is POST /api/v1/unanswered/:id/assign {department}.
func (s *Server) assignUnanswered(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Department string `json:"department"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	it, err := s.svc.Assign(c.Request().Context(), principal(c), id, req.Department)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.svc.View(it, s.svc.Now()))
}

// dismissUnanswered is POST /api/v1/unanswered/:id/dismiss {reason, duplicate_of?}.
func (s *Server) dismissUnanswered(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason      string `json:"reason"`
		DuplicateOf int64  `json:"duplicate_of,omitempty"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	it, err := s.svc.Dismiss(c.Request().Context(), principal(c), id, req.Reason, req.DuplicateOf)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.svc.View(it, s.svc.Now()))
}

// listProposals is GET /api/v1/proposals?status=pending.
func (s *Server) listProposals(c echo.Context) error {
	props, err := s.svc.Proposals(c.Request().Context(), principal(c), c.QueryParam("status"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"proposals": props})
}

func (s *Server) decideProposal(accept bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		p, err := s.svc.DecideProposal(c.Request().Context(), principal(c), id, accept)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}

// statsFilter reads from, to (dates, Shanghai; to is inclusive) and department.
func statsFilter(c echo.Context) (kb.StatsFilter, error) {
	f := kb.StatsFilter{Department: c.QueryParam("department")}
	for _, p := range []struct {
		name string
		dst  *time.Time
		add  int
	}{{"from", &f.From, 0}, {"to", &f.To, 1}} {
		if v := c.QueryParam(p.name); v != "" {
			t, err := kb.ParseDate(v)
			if err != nil {
				return f, kb.Errorf(kb.EINVALID, "参数 %s：%s", p.name, kb.ErrorMessage(err))
			}
			*p.dst = t.AddDate(0, 0, p.add)
		}
	}
	return f, nil
}

// stats is GET /api/v1/stats?from=&to=&department=.
func (s *Server) stats(c echo.Context) error {
	f, err := statsFilter(c)
	if err != nil {
		return err
	}
	st, err := s.svc.Stats(c.Request().Context(), principal(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
