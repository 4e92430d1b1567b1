package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"xiaoshen/kb"
)

// maxSearchLimit caps a search page.
const maxSearchLimit = 50

func (s *Server) registerSearch(g *echo.Group) {
	g.GET("/search", s.search, s.rateLimit)
}

// search is GET /api/v1/search?q=&column=&department=&matter=&limit=&offset=.
func (s *Server) search(c echo.Context) error {
	q, err := kb.CleanQuestion(c.QueryParam("q"))
	if err != nil {
		if strings.Contains(err.Error(), "不能为空") {
			return kb.Errorf(kb.EINVALID, "缺少查询词 q")
		}
		return err
	}
	req := kb.SearchRequest{Query: q, Department: c.QueryParam("department"), Matter: c.QueryParam("matter")}
	if col := c.QueryParam("column"); col != "" {
		if req.Column, err = kb.ParseColumn(col); err != nil {
			return err
		}
	}
	if req.Limit, err = intParam(c, "limit", 10, 1, maxSearchLimit); err != nil {
		return err
	}
	if req.Offset, err = intParam(c, "offset", 0, 0, 10000); err != nil {
		return err
	}
	res, err := s.svc.Index.Search(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// intParam reads an integer query parameter within [min, max].
func intParam(c echo.Context, name string, def, min, max int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min || n > max {
		return 0, kb.Errorf(kb.EINVALID, "参数 %s 应为 %d 到 %d 之间的整数", name, min, max)
	}
	return n, nil
}
