package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (s *Server) registerColumns(g *echo.Group) {
	g.GET("/columns", s.columns)
}

// columns is GET /api/v1/columns: the seven columns with entry counts.
func (s *Server) columns(c echo.Context) error {
	cols, err := s.svc.Columns(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"columns": cols})
}
