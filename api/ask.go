package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"xiaoshen/kb"
)

func (s *Server) registerAsk(g *echo.Group) {
	g.POST("/ask", s.ask, s.rateLimit)
}

// ask answers a chatbot question: POST /api/v1/ask {"question", "channel", "session_id"}.
func (s *Server) ask(c echo.Context) error {
	var req kb.AskRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.svc.Ask(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
