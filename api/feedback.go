package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"xiaoshen/kb"
)

func (s *Server) registerFeedback(g *echo.Group) {
	g.POST("/feedback", s.feedback, s.rateLimit) // public like /ask, and as open to abuse
}

// feedback is POST /api/v1/feedback with {query_id, helpful, comment?} or
// {query_id, selected_entry_id}.
func (s *Server) feedback(c echo.Context) error {
	var req kb.FeedbackRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.svc.RecordFeedback(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
