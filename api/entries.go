package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"xiaoshen/kb"
)

// UploadBodyLimit caps an upload request: 20,000 rows with long answers.
const UploadBodyLimit = "256M"

func (s *Server) registerEntries(g *echo.Group) {
	g.GET("/entries", s.listEntries)
	g.GET("/entries/:id", s.getEntry)
	g.GET("/entries/:id/history", s.entryHistory, requireAuth)
	g.POST("/entries", s.createEntry, requireAuth)
	g.PUT("/entries/:id", s.updateEntry, requireAuth)
	g.DELETE("/entries/:id", s.deleteEntry, requireAuth)
	g.POST("/entries/sync", s.syncEntries, requireAuth, middleware.BodyLimit(UploadBodyLimit))
}

// entryView is an entry as the API shows it.
type entryView struct {
	*kb.Entry
	ColumnName string               `json:"column_name"`
	Expired    bool                 `json:"expired"`
	Timeliness *kb.PolicyTimeliness `json:"timeliness,omitempty"`
}

func (s *Server) viewEntry(c echo.Context, e *kb.Entry) entryView {
	if p := principal(c); p == nil || p.Role == kb.RoleChatbot {
		e = forCitizens(e)
	}
	v := entryView{Entry: e, ColumnName: e.Column.Name(), Expired: e.Expired(s.svc.Now())}
	if e.CreatedBy != kb.SeedActor {
		v.Timeliness = s.svc.PolicyTimeliness(e, e.CreatedAt)
	}
	return v
}

// forCitizens is e as the public and the chatbot read it: details still to
// be filled in read as a neutral note. Maintainers and reviewers, who fill
// them in and whose exports upload back, read the entry as stored.
func forCitizens(e *kb.Entry) *kb.Entry {
	c := *e
	c.Content = kb.ForCitizens(e.Content)
	c.Fields = make(map[string]string, len(e.Fields))
	for k, v := range e.Fields {
		c.Fields[k] = kb.ForCitizens(v)
	}
	return &c
}

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, kb.Errorf(kb.EINVALID, "编号 %q 无效", c.Param("id"))
	}
	return id, nil
}

// listEntries is GET /api/v1/entries?column=&department=&matter=&limit=&offset=.
func (s *Server) listEntries(c echo.Context) error {
	f := kb.EntryFilter{Department: c.QueryParam("department"), Matter: c.QueryParam("matter"), ExternalID: c.QueryParam("external_id")}
	var err error
	if col := c.QueryParam("column"); col != "" {
		if f.Column, err = kb.ParseColumn(col); err != nil {
			return err
		}
	}
	if f.Limit, err = intParam(c, "limit", 100, 1, 1000); err != nil {
		return err
	}
	if f.Offset, err = intParam(c, "offset", 0, 0, 10_000_000); err != nil {
		return err
	}
	entries, total, err := s.svc.Store.FindEntries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	views := make([]entryView, len(entries))
	for i, e := range entries {
		views[i] = s.viewEntry(c, e)
	}
	return c.JSON(http.StatusOK, map[string]any{"total": total, "entries": views})
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
	return c.JSON(http.StatusOK, s.viewEntry(c, e))
}

// entryHistory is GET /api/v1/entries/:id/history.
func (s *Server) entryHistory(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := principal(c).Require(kb.RoleMaintainer, kb.RoleReviewer); err != nil {
		return err
	}
	revs, err := s.svc.Store.EntryHistory(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entry_id": id, "revisions": revs})
}

// entryInput is the body of a create or update.
type entryInput struct {
	ExternalID string            `json:"external_id"`
	Column     string            `json:"column"`
	Title      string            `json:"title"`
	Content    string            `json:"content"`
	Department string            `json:"department"`
	Matter     string            `json:"matter"`
	Keywords   []string          `json:"keywords"`
	Similar    []string          `json:"similar_questions"`
	Fields     map[string]string `json:"fields"`
	// Version, on an update, is the version the change was made from: when
	// the entry has changed since, the update is refused rather than
	// silently undoing that change.
	Version int `json:"version"`
}

func (in entryInput) entry() (*kb.Entry, error) {
	col, err := kb.ParseColumn(in.Column)
	if err != nil {
		return nil, err
	}
	return &kb.Entry{ExternalID: in.ExternalID, Column: col, Title: in.Title, Content: in.Content, Department: in.Department,
		Matter: in.Matter, Keywords: in.Keywords, Similar: in.Similar, Fields: in.Fields, Version: in.Version}, nil
}

// decodeEntry reads an entry from the request body.
func decodeEntry(c echo.Context) (*kb.Entry, error) {
	var in entryInput
	if err := decodeJSON(c, &in); err != nil {
		return nil, err
	}
	return in.entry()
}

// createEntry is POST /api/v1/entries.
func (s *Server) createEntry(c echo.Context) error {
	e, err := decodeEntry(c)
	if err != nil {
		return err
	}
	if err := s.svc.CreateEntryAs(c.Request().Context(), principal(c), e); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.viewEntry(c, e))
}

// updateEntry is PUT /api/v1/entries/:id.
func (s *Server) updateEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	e, err := decodeEntry(c)
	if err != nil {
		return err
	}
	e.ID = id
	if err := s.svc.UpdateEntryAs(c.Request().Context(), principal(c), e); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.viewEntry(c, e))
}

// deleteEntry is DELETE /api/v1/entries/:id: a soft delete, kept in history.
func (s *Server) deleteEntry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.svc.DeleteEntryAs(c.Request().Context(), principal(c), id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"entry_id": id, "deleted": true})
}

// syncEntries is POST /api/v1/entries/sync: a maintainer's upload, applied
// all or nothing. A rejected upload answers 422 with every row's problem.
func (s *Server) syncEntries(c echo.Context) error {
	var req kb.SyncRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.svc.Sync(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Rejected > 0 && !req.SkipInvalid && !req.DryRun {
		status = http.StatusUnprocessableEntity
	}
	return c.JSON(status, res)
}
