package kb

import (
	"context"
	"unicode/utf8"
)

// Roles of accounts and tokens.
const (
	RoleReviewer   = "reviewer"   // reviews and backfills its department's questions
	RoleMaintainer = "maintainer" // writes its department's entries
	RoleAdmin      = "admin"      // everything, every department
	RoleChatbot    = "chatbot"    // a trusted chatbot integration: exempt from rate limits
)

// ValidRole reports whether role may be given to an account or token.
func ValidRole(role string, forToken bool) bool {
	switch role {
	case RoleReviewer, RoleMaintainer, RoleAdmin:
		return true
	case RoleChatbot:
		return forToken
	}
	return false
}

// Principal is who makes a request: a logged-in user or a token holder.
type Principal struct {
	Name       string
	Role       string
	Department string
	UserID     int64
	TokenID    int64
}

// Actor names the principal in revision and audit records.
func (p *Principal) Actor() string {
	if p == nil {
		return "anonymous"
	}
	return p.Name
}

// IsAdmin reports whether p may act for every department.
func (p *Principal) IsAdmin() bool { return p != nil && p.Role == RoleAdmin }

// CanActFor reports whether p may see and act on a department's items.
func (p *Principal) CanActFor(department string) bool {
	return p.IsAdmin() || (p != nil && p.Department != "" && p.Department == department)
}

// Require returns a forbidden error unless p has one of roles (admins pass).
func (p *Principal) Require(roles ...string) error {
	if p == nil {
		return Errorf(EUNAUTH, "需要登录或提供访问令牌")
	}
	if p.IsAdmin() {
		return nil
	}
	for _, r := range roles {
		if p.Role == r {
			return nil
		}
	}
	return Errorf(EFORBIDDEN, "当前账号（%s）无权执行此操作", p.Role)
}

// RequireDepartment returns a forbidden error unless p may act for department.
func (p *Principal) RequireDepartment(department string) error {
	if p.CanActFor(department) {
		return nil
	}
	return Errorf(EFORBIDDEN, "无权操作%q的数据：当前账号属于%s", quotable(department, maxQuotedDepartment), p.Department)
}

// maxQuotedDepartment is how much of a department's name a refusal
// repeats. The name may be whatever a user typed into a form, and the
// refusal is shown back on a page: quoted and cut short, it cannot pass
// for a notice of its own.
const maxQuotedDepartment = 20

// quotable returns s cut to at most limit runes, with … marking a cut.
func quotable(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit]) + "…"
}

// AccountStore authenticates users and tokens and keeps login sessions.
type AccountStore interface {
	Authenticate(ctx context.Context, name, password string) (*Principal, error)
	PrincipalForToken(ctx context.Context, token string) (*Principal, error)
	CreateSession(ctx context.Context, userID int64) (cookie, csrf string, err error)
	SessionPrincipal(ctx context.Context, cookie string) (*Principal, string, error)
	DeleteSession(ctx context.Context, cookie string) error
}
