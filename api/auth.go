package api

import (
	"crypto/subtle"
	"strings"

	"github.com/labstack/echo/v4"

	"xiaoshen/kb"
)

const (
	principalKey  = "principal"
	csrfKey       = "csrf"
	sessionCookie = "xs_session"
)

// principal returns who makes the request, or nil.
func principal(c echo.Context) *kb.Principal {
	p, _ := c.Get(principalKey).(*kb.Principal)
	return p
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// identify sets the principal of an API request from a bearer token when
// one is sent; a bad token is an error even on public routes, so that a
// broken integration is noticed. Pages use the session cookie instead.
func (s *Server) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !strings.HasPrefix(c.Request().URL.Path, "/api/") {
			return next(c)
		}
		if tok := bearerToken(c); tok != "" {
			p, err := s.accounts.PrincipalForToken(c.Request().Context(), tok)
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
		}
		return next(c)
	}
}

// requireAuth rejects requests without a principal (401).
func requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if principal(c) == nil {
			return kb.Errorf(kb.EUNAUTH, "需要访问令牌：请在请求头中提供 Authorization: Bearer <token>")
		}
		return next(c)
	}
}

// sessionAuth loads the logged-in user of a page request; without a login
// it redirects to the login page.
func (s *Server) sessionAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err == nil && ck.Value != "" {
			p, csrf, err := s.accounts.SessionPrincipal(c.Request().Context(), ck.Value)
			if err == nil {
				c.Set(principalKey, p)
				c.Set(csrfKey, csrf)
				return next(c)
			}
			if kb.ErrorCode(err) != kb.EUNAUTH {
				return err
			}
		}
		return c.Redirect(303, "/review/login")
	}
}

// checkCSRF rejects a form post whose csrf field does not match the
// session's token.
func checkCSRF(c echo.Context) error {
	want, _ := c.Get(csrfKey).(string)
	got := c.FormValue("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return kb.Errorf(kb.EFORBIDDEN, "表单已失效（CSRF 校验失败），请刷新页面后重试")
	}
	return nil
}

// me is GET /api/v1/me: who the token belongs to, so that tools can
// default to the holder's department.
func (s *Server) me(c echo.Context) error {
	p := principal(c)
	return c.JSON(200, map[string]string{"name": p.Name, "role": p.Role, "department": p.Department})
}
