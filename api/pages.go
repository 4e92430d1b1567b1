package api

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"xiaoshen/kb"
)

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

// pageTemplates are parsed once, at start.
var pageTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"datetime": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.In(kb.Shanghai).Format("2006-01-02 15:04")
		case *time.Time:
			if v != nil {
				return v.In(kb.Shanghai).Format("2006-01-02 15:04")
			}
		}
		return ""
	},
	"date":  func(t time.Time) string { return t.In(kb.Shanghai).Format("2006-01-02") },
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"bar":   func(f float64, width int) int { return int(math.Round(math.Max(0, math.Min(1, f)) * float64(width))) },
	"neg":   func(n int) int { return -n },
	"deref": func(b *bool) bool { return b != nil && *b },
	"roleName": func(r string) string {
		return map[string]string{kb.RoleAdmin: "管理员", kb.RoleReviewer: "审核员", kb.RoleMaintainer: "维护员"}[r]
	},
	"eventName": func(a string) string {
		names := map[string]string{"created": "记录问题", "answered": "补充答复", "linked": "关联条目", "assigned": "转派",
			"dismissed": "驳回", "merged": "合并重复问题", "feedback": "用户反馈答复无用"}
		if n, ok := names[a]; ok {
			return n
		}
		return a
	},
}).ParseFS(webFS, "web/templates/*.html"))

// pageSize is the number of review items on a page.
const pageSize = 50

// page holds what every page template reads.
type page struct {
	Title string
	User  *kb.Principal
	CSRF  string
	Flash string
	Error string
}

func (s *Server) registerPages() {
	static, _ := fs.Sub(webFS, "web/static")
	s.echo.GET("/review/static/*", echo.WrapHandler(http.StripPrefix("/review/static/", http.FileServer(http.FS(static)))), securityHeaders)
	s.echo.GET("/review/login", s.loginPage, securityHeaders)
	s.echo.POST("/review/login", s.login, securityHeaders)
	r := s.echo.Group("/review", securityHeaders, s.sessionAuth)
	r.GET("", s.listPage)
	r.POST("/logout", s.logout)
	r.GET("/items/:id", s.itemPage)
	r.POST("/items/:id/:action", s.itemAction)
	r.GET("/proposals", s.proposalsPage)
	r.POST("/proposals/:id/:action", s.proposalAction)
}

// securityHeaders sets a strict content security policy on pages: no
// script, no framing, no content-type sniffing.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

func (s *Server) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) basePage(c echo.Context, title string) page {
	p := page{Title: title, User: principal(c), CSRF: sessionCSRF(c)}
	p.Flash, p.Error = s.pageMessages(c)
	return p
}

// messageLifetime is how long a message link shows its message: long
// enough to reload the page after an action, short enough that an old
// link in a browser history or a chat says nothing.
const messageLifetime = 10 * time.Minute

// messageURL returns path with a message for the page there to show:
// kind is "done" for a success or "error" for a refusal. The message
// travels in the URL, so that a reload still shows it, with a signature,
// so that the page shows only what the server wrote and never the text of
// a crafted link. The signature covers the session's form token and the
// time of issue: a message, which may repeat what the user typed, shows
// only in the session whose action it answers, and only for
// messageLifetime. The key lives as long as the process: after a restart
// an old link shows no message, which is harmless.
func (s *Server) messageURL(c echo.Context, path, kind, msg string) string {
	issued := strconv.FormatInt(s.svc.Now().Unix(), 10)
	sig := s.signMessage(sessionCSRF(c), path, kind, msg, issued)
	return path + "?" + url.Values{kind: {msg}, "at": {issued}, "sig": {sig}}.Encode()
}

// sessionCSRF is the form token of the request's login session, which
// stands for the session in message signatures; "" without a session.
func sessionCSRF(c echo.Context) string {
	csrf, _ := c.Get(csrfKey).(string)
	return csrf
}

func (s *Server) signMessage(session, path, kind, msg, issued string) string {
	mac := hmac.New(sha256.New, s.pageKey)
	// Each part is prefixed by its length, so that no text moved from
	// one part to the next keeps the signature.
	for _, part := range []string{session, path, kind, msg, issued} {
		var n [binary.MaxVarintLen64]byte
		mac.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))])
		mac.Write([]byte(part))
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// pageMessages returns the success and error messages of a URL made by
// messageURL for this page in this session; an unsigned, altered,
// expired or other session's message is dropped.
func (s *Server) pageMessages(c echo.Context) (done, failed string) {
	session, sig, issued := sessionCSRF(c), c.QueryParam("sig"), c.QueryParam("at")
	if session == "" || sig == "" {
		return "", ""
	}
	at, err := strconv.ParseInt(issued, 10, 64)
	if err != nil {
		return "", ""
	}
	// An issue time up to a minute ahead is allowed: the clock may step
	// back between the post and the page that follows it.
	if age := s.svc.Now().Sub(time.Unix(at, 0)); age > messageLifetime || age < -time.Minute {
		return "", ""
	}
	signed := func(kind string) string {
		msg := c.QueryParam(kind)
		if msg != "" && hmac.Equal([]byte(sig), []byte(s.signMessage(session, c.Request().URL.Path, kind, msg, issued))) {
			return msg
		}
		return ""
	}
	return signed("done"), signed("error")
}

func (s *Server) loginPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "login.html", struct {
		page
		Name string
	}{page: page{Title: "登录"}})
}

// loginAttemptsPerMinute bounds login attempts per client address.
const loginAttemptsPerMinute = 10

func (s *Server) login(c echo.Context) error {
	name, password := strings.TrimSpace(c.FormValue("name")), c.FormValue("password")
	if ok, wait := s.loginLimiter.allow(clientKey(c.RealIP())); !ok {
		seconds := retryAfter(wait)
		c.Response().Header().Set("Retry-After", strconv.Itoa(seconds))
		return s.render(c, http.StatusTooManyRequests, "login.html", struct {
			page
			Name string
		}{page: page{Title: "登录", Error: fmt.Sprintf("登录尝试过于频繁，请 %d 秒后再试", seconds)}, Name: name})
	}
	p, err := s.accounts.Authenticate(c.Request().Context(), name, password)
	if err != nil {
		if kb.ErrorCode(err) != kb.EUNAUTH {
			return err
		}
		s.logger.WarnContext(c.Request().Context(), "login failed", "name", name)
		return s.render(c, http.StatusUnauthorized, "login.html", struct {
			page
			Name string
		}{page: page{Title: "登录", Error: kb.ErrorMessage(err)}, Name: name})
	}
	if p.Role == kb.RoleMaintainer {
		return s.render(c, http.StatusForbidden, "login.html", struct {
			page
			Name string
		}{page: page{Title: "登录", Error: "维护员账号请使用上传工具；审核页面仅供审核员和管理员使用"}, Name: name})
	}
	cookie, _, err := s.accounts.CreateSession(c.Request().Context(), p.UserID)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: cookie, Path: "/review", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.opts.SecureCookies, MaxAge: int(12 * time.Hour / time.Second)})
	return c.Redirect(http.StatusSeeOther, "/review")
}

func (s *Server) logout(c echo.Context) error {
	if err := checkCSRF(c); err != nil {
		return err
	}
	if ck, err := c.Cookie(sessionCookie); err == nil {
		s.accounts.DeleteSession(c.Request().Context(), ck.Value)
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/review", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return c.Redirect(http.StatusSeeOther, "/review/login")
}

func (s *Server) listPage(c echo.Context) error {
	ctx := c.Request().Context()
	p := principal(c)
	f, err := reviewFilter(c, pageSize)
	if err != nil {
		return err
	}
	f.Limit = pageSize
	pageNo, err := intParam(c, "page", 1, 1, 1_000_000)
	if err != nil {
		return err
	}
	f.Offset = (pageNo - 1) * pageSize
	if c.QueryParam("status") == "" && len(c.QueryParams()) == 0 {
		f.Status = kb.StatusOpen // the everyday view: what is still to do
	}
	items, total, err := s.svc.ReviewItems(ctx, p, f)
	if err != nil {
		return err
	}
	st, err := s.svc.Stats(ctx, p, kb.StatsFilter{Department: f.Department})
	if err != nil {
		return err
	}
	var departments []string
	if p.IsAdmin() {
		if departments, err = s.svc.Departments(ctx); err != nil {
			return err
		}
	}
	pages := max(1, (total+pageSize-1)/pageSize)
	link := func(n int) string {
		q := c.QueryParams()
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(n))
		if f.Status == kb.StatusOpen {
			v.Set("status", kb.StatusOpen)
		}
		return "/review?" + v.Encode()
	}
	data := struct {
		page
		Items            []kb.ReviewItemView
		Total            int
		Filter           kb.ReviewFilter
		OverdueOnly      bool
		Stats            *kb.Stats
		Departments      []string
		Page, Pages      int
		PrevURL, NextURL string
	}{page: s.basePage(c, "待答复问题"), Items: items, Total: total, Filter: f, OverdueOnly: f.Overdue != nil && *f.Overdue,
		Stats: st, Departments: departments, Page: pageNo, Pages: pages}
	if pageNo > 1 {
		data.PrevURL = link(pageNo - 1)
	}
	if pageNo < pages {
		data.NextURL = link(pageNo + 1)
	}
	return s.render(c, http.StatusOK, "list.html", data)
}

func (s *Server) itemPage(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	it, err := s.svc.ReviewItem(ctx, principal(c), id)
	if err != nil {
		return err
	}
	view := s.svc.View(it, s.svc.Now())
	closest, err := s.svc.Index.Match(ctx, it.Question, 5)
	if err != nil {
		return err
	}
	// Match orders by its full-text score, but the table shows confidence:
	// reviewers read it top down, so the likeliest answer comes first.
	slices.SortStableFunc(closest, func(a, b kb.Candidate) int { return cmp.Compare(b.Confidence, a.Confidence) })
	events, err := s.svc.Reviews.ReviewEvents(ctx, id)
	if err != nil {
		return err
	}
	departments, err := s.svc.Departments(ctx)
	if err != nil {
		return err
	}
	var others []string
	for _, q := range view.Questions {
		if q != it.Question {
			others = append(others, q)
		}
	}
	// Improving an answer edits the entry marked unhelpful: the form starts
	// from what it says now, not from an empty answer that would replace it.
	var answer *kb.Entry
	if it.Type == kb.ReviewImprove && it.AnswerEntryID != 0 {
		if answer, err = s.svc.Store.FindEntry(ctx, it.AnswerEntryID); err != nil && kb.ErrorCode(err) != kb.ENOTFOUND {
			return err
		}
	}
	base := s.basePage(c, "问题 #"+itoa(id))
	return s.render(c, http.StatusOK, "item.html", struct {
		page
		Item           kb.ReviewItemView
		Open           bool
		Closest        []kb.Candidate
		Events         []kb.ReviewEvent
		Departments    []string
		Columns        []kb.Column
		DismissReasons []string
		OtherWordings  []string
		Answer         *kb.Entry
	}{page: base, Item: view, Open: it.Status == kb.StatusOpen, Closest: closest, Events: events, Departments: departments,
		Columns: backfillColumns, DismissReasons: kb.DismissReasons, OtherWordings: others, Answer: answer})
}

// backfillColumns are the columns the backfill form can write an entry
// to: those whose entries need nothing beyond a title and an answer. A
// 热线电话 needs a phone number, and a 部门信息 or 政策文件 is defined by its
// fields (address and phone; document number and dates), which the form
// has no inputs for; maintainers upload those.
var backfillColumns = []kb.Column{kb.ColumnGuide, kb.ColumnFAQ, kb.ColumnWiki, kb.ColumnNotice}

// pageMessage is err's message for the review page. An invalid entry's
// problems are named by the Chinese labels reviewers know (内容, 电话)
// rather than by the API's field codes (content, phone). The page reads
// the error's field details, not its wording, so that a change to how kb
// words the whole message cannot bring the codes back.
func pageMessage(err error) string {
	var e *kb.Error
	if !errors.As(err, &e) || e.Code != kb.EINVALID || len(e.Details) == 0 {
		return kb.ErrorMessage(err)
	}
	msgs := make([]string, len(e.Details))
	for i, d := range e.Details {
		label := kb.FieldLabel(d.Field)
		if strings.Contains(d.Message, label) { // 标题不能为空 names its field already
			msgs[i] = d.Message
		} else {
			msgs[i] = label + "：" + d.Message
		}
	}
	return "条目无效：" + strings.Join(msgs, "；")
}

// columnNames lists the columns' Chinese names, separated by 、.
func columnNames(cols []kb.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name()
	}
	return strings.Join(names, "、")
}

// splitLines splits a textarea into trimmed, non-empty lines.
func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) itemAction(c echo.Context) error {
	if err := checkCSRF(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var done string
	switch c.Param("action") {
	case "answer":
		req := kb.BackfillRequest{Content: c.FormValue("content"), Title: c.FormValue("title"), Column: c.FormValue("column"),
			Department: c.FormValue("department"), SimilarQuestions: splitLines(c.FormValue("similar"))}
		if req.Column != "" && !slices.Contains(backfillColumns, kb.Column(req.Column)) {
			err = kb.Errorf(kb.EINVALID, "补充答复只能存入%s；热线电话、部门信息和政策文件请由维护人员上传", columnNames(backfillColumns))
			break
		}
		if req.SimilarQuestions == nil {
			req.SimilarQuestions = []string{}
		}
		if kw := strings.TrimSpace(c.FormValue("keywords")); kw != "" {
			req.Keywords = strings.FieldsFunc(kw, func(r rune) bool { return r == ',' || r == '，' || r == '、' })
		}
		var e *kb.Entry
		if _, e, err = s.svc.Backfill(ctx, p, id, req); err == nil {
			done = fmt.Sprintf("已保存为条目 #%d，并已上线", e.ID)
		}
	case "link":
		entryID, perr := strconv.ParseInt(strings.TrimSpace(c.FormValue("entry_id")), 10, 64)
		if perr != nil {
			err = kb.Errorf(kb.EINVALID, "条目编号无效")
			break
		}
		if _, _, err = s.svc.Link(ctx, p, id, entryID); err == nil {
			done = fmt.Sprintf("已关联条目 #%d，用户问法已加入相似问法", entryID)
		}
	case "assign":
		var it *kb.ReviewItem
		if it, err = s.svc.Assign(ctx, p, id, c.FormValue("department")); err == nil {
			done = "已转派给" + it.Department
		}
	case "dismiss":
		// No reason is preselected: two of them silence the question for
		// 90 days, so the reviewer has to choose one.
		if c.FormValue("reason") == "" {
			err = kb.Errorf(kb.EINVALID, "请选择驳回原因：%s", strings.Join(kb.DismissReasons, "、"))
			break
		}
		var dup int64
		if v := strings.TrimSpace(c.FormValue("duplicate_of")); v != "" {
			if dup, err = strconv.ParseInt(v, 10, 64); err != nil {
				err = kb.Errorf(kb.EINVALID, "重复时并入的问题编号无效：请填写一个数字")
				break
			}
		}
		// The service's messages name the API's duplicate_of field and, for
		// a closed item to merge into, read as if this item were closed.
		if c.FormValue("reason") == kb.DismissDuplicate {
			if dup == 0 || dup == id {
				err = kb.Errorf(kb.EINVALID, "标记为重复时，请填写要并入的另一个问题的编号")
				break
			}
			if target, terr := s.svc.ReviewItem(ctx, p, dup); terr == nil && target.Status != kb.StatusOpen {
				err = kb.Errorf(kb.ECONFLICT, "问题 #%d 已处理（%s），不能并入：请填写一个待处理问题的编号", dup, kb.StatusName(target.Status))
				break
			}
		}
		if _, err = s.svc.Dismiss(ctx, p, id, c.FormValue("reason"), dup); err == nil {
			done = "已驳回"
		}
	default:
		return echo.ErrNotFound
	}
	if err != nil {
		switch kb.ErrorCode(err) {
		case kb.EINTERNAL:
			return err
		case kb.ENOTFOUND:
			// Not found is a page of its own only when the item is gone; an
			// entry or item the form names that does not exist is a
			// mistake in the form, shown on the item like any other.
			if _, ferr := s.svc.ReviewItem(ctx, p, id); ferr != nil {
				return ferr
			}
		}
		return c.Redirect(http.StatusSeeOther, s.messageURL(c, "/review/items/"+itoa(id), "error", pageMessage(err)))
	}
	return c.Redirect(http.StatusSeeOther, s.messageURL(c, "/review/items/"+itoa(id), "done", done))
}

func (s *Server) proposalsPage(c echo.Context) error {
	props, err := s.svc.Proposals(c.Request().Context(), principal(c), "pending")
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "proposals.html", struct {
		page
		Proposals []kb.Proposal
	}{page: s.basePage(c, "相似问法建议"), Proposals: props})
}

func (s *Server) proposalAction(c echo.Context) error {
	if err := checkCSRF(c); err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	action := c.Param("action")
	if action != "accept" && action != "reject" {
		return echo.ErrNotFound
	}
	if _, err := s.svc.DecideProposal(c.Request().Context(), principal(c), id, action == "accept"); err != nil {
		return err
	}
	msg := "已采纳"
	if action == "reject" {
		msg = "已不采纳"
	}
	return c.Redirect(http.StatusSeeOther, s.messageURL(c, "/review/proposals", "done", msg))
}
