package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"xiaoshen/kb"
)

func (s *Server) registerEntries(g *echo.Group) {
	g.GET("/entries/:id", s.getEntry)
}

// entryView is an entry as the API shows it.
type entryView struct {
	*kb.Entry
	ColumnName string `json:"column_name"`
	Expired    bool   `json:"expired"`
}

func (s *Server) viewEntry(e *kb.Entry) entryView {
	return entryView{Entry: e, ColumnName: e.Column.Name(), Expired: e.Expired(s.svc.Now())}
}

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, kb.Errorf(kb.EINVALID, "编号 %q 无效", c.Param("id"))
	}
	return id, nil
}

// getEntry is GET /api/v1/entries/:id.
func (s *Server) getEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	e, err := s.svc.Store.FindEntry(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.viewEntry(e))
}
