package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"xiaoshen/kb"
)

// MinPasswordLength is the shortest password an account may have.
const MinPasswordLength = 8

// tokenPrefix marks xiaoshen tokens so that leaked ones are recognisable.
const tokenPrefix = "xs_"

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return strings.ToLower(strings.TrimRight(base32.StdEncoding.EncodeToString(b), "="))
}

func checkAccount(name, role, department string, forToken bool) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > 64 {
		return kb.Errorf(kb.EINVALID, "名称不能为空，且不超过 64 个字")
	}
	if !kb.ValidRole(role, forToken) {
		if forToken {
			return kb.Errorf(kb.EINVALID, "角色 %q 无效：应为 reviewer、maintainer、admin 或 chatbot", role)
		}
		return kb.Errorf(kb.EINVALID, "角色 %q 无效：应为 reviewer、maintainer 或 admin", role)
	}
	if (role == kb.RoleReviewer || role == kb.RoleMaintainer) && strings.TrimSpace(department) == "" {
		return kb.Errorf(kb.EINVALID, "%s 必须指定所属部门（--department）", role)
	}
	if (role == kb.RoleAdmin || role == kb.RoleChatbot) && department != "" {
		// Neither acts for a department; the name would only land in the
		// department lists as one more.
		return kb.Errorf(kb.EINVALID, "%s 不属于任何部门，请去掉 --department", role)
	}
	return nil
}

// CreateUser adds an account with a bcrypt-hashed password.
func (s *Store) CreateUser(ctx context.Context, name, role, department, password string) (int64, error) {
	if err := checkAccount(name, role, department, false); err != nil {
		return 0, err
	}
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return 0, kb.Errorf(kb.EINVALID, "密码至少 %d 位", MinPasswordLength)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return 0, fmt.Errorf("store: create user: %w", err)
	}
	var id int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, department, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			name, role, department, string(hash), formatTime(s.Now()))
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return kb.Errorf(kb.ECONFLICT, "用户 %q 已存在", name)
			}
			return err
		}
		id, _ = res.LastInsertId()
		if department != "" {
			return s.ensureDepartment(ctx, tx, department)
		}
		return nil
	})
	if err != nil && kb.ErrorCode(err) == kb.EINTERNAL {
		return 0, fmt.Errorf("store: create user %q: %w", name, err)
	}
	return id, err
}

// Authenticate checks a user's password and returns the principal.
func (s *Store) Authenticate(ctx context.Context, name, password string) (*kb.Principal, error) {
	var p kb.Principal
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT id, name, role, department, password_hash FROM users WHERE name = ? AND disabled_at IS NULL`, name).
		Scan(&p.UserID, &p.Name, &p.Role, &p.Department, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check, so that names cannot be probed.
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return nil, kb.Errorf(kb.EUNAUTH, "用户名或密码错误")
	} else if err != nil {
		return nil, fmt.Errorf("store: authenticate: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, kb.Errorf(kb.EUNAUTH, "用户名或密码错误")
	}
	return &p, nil
}

// UserInfo describes a review-page account without its password.
type UserInfo struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Department string     `json:"department"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// Users lists every review-page account, newest first.
func (s *Store) Users(ctx context.Context) ([]UserInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, role, department, created_at, disabled_at FROM users ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var out []UserInfo
	for rows.Next() {
		var u UserInfo
		var created string
		var disabled sql.NullString
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, &u.Department, &created, &disabled); err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		u.CreatedAt, u.DisabledAt = parseTime(created), nullTime(disabled)
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetPassword replaces a user's password and ends the user's sessions, so
// that whoever logged in with the old password is logged out.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return kb.Errorf(kb.EINVALID, "密码至少 %d 位", MinPasswordLength)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("store: set password of %q: %w", name, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		return updateLiveUser(ctx, tx, name, `UPDATE users SET password_hash = ? WHERE id = ?`, string(hash))
	})
	if err != nil && kb.ErrorCode(err) == kb.EINTERNAL {
		return fmt.Errorf("store: set password of %q: %w", name, err)
	}
	return err
}

// DisableUser stops a user from logging in and ends the user's sessions at
// once. The account stays, so that its name keeps pointing at its history.
func (s *Store) DisableUser(ctx context.Context, name string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return updateLiveUser(ctx, tx, name, `UPDATE users SET disabled_at = ? WHERE id = ?`, formatTime(s.Now()))
	})
	if err != nil && kb.ErrorCode(err) == kb.EINTERNAL {
		return fmt.Errorf("store: disable user %q: %w", name, err)
	}
	return err
}

// updateLiveUser runs update, which sets one column to value for the user
// id, on the live user called name, and ends the user's sessions: they
// were opened with the access the update takes away.
func updateLiveUser(ctx context.Context, tx *sql.Tx, name, update string, value any) error {
	id, err := liveUser(ctx, tx, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, update, value, id); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id)
	return err
}

// liveUser returns the id of the user called name, refusing a missing or
// disabled one.
func liveUser(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	var disabled sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT id, disabled_at FROM users WHERE name = ?`, name).Scan(&id, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, kb.Errorf(kb.ENOTFOUND, "用户 %q 不存在（xiaoshen user list 列出所有用户）", name)
	} else if err != nil {
		return 0, err
	}
	if disabled.Valid {
		return 0, kb.Errorf(kb.ECONFLICT, "用户 %q 已于 %s 停用", name, parseTime(disabled.String).Format("2006-01-02 15:04"))
	}
	return id, nil
}

var (
	dummyOnce sync.Once
	dummy     []byte
)

func dummyHash() []byte {
	dummyOnce.Do(func() { dummy, _ = bcrypt.GenerateFromPassword([]byte(randomSecret(12)), bcrypt.DefaultCost) })
	return dummy
}

// TokenInfo describes a token without its secret.
type TokenInfo struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Department string     `json:"department"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateToken issues a bearer token; only its SHA-256 is stored, so the
// returned secret is shown once.
func (s *Store) CreateToken(ctx context.Context, name, role, department string) (int64, string, error) {
	if err := checkAccount(name, role, department, true); err != nil {
		return 0, "", err
	}
	secret := tokenPrefix + randomSecret(20)
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO tokens (name, role, department, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			name, role, department, hashSecret(secret), formatTime(s.Now()))
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		if department != "" {
			return s.ensureDepartment(ctx, tx, department)
		}
		return nil
	})
	if err != nil {
		return 0, "", fmt.Errorf("store: create token %q: %w", name, err)
	}
	return id, secret, nil
}

// PrincipalForToken returns the holder of a live token.
func (s *Store) PrincipalForToken(ctx context.Context, secret string) (*kb.Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) {
		return nil, kb.Errorf(kb.EUNAUTH, "访问令牌无效")
	}
	want := hashSecret(secret)
	var p kb.Principal
	var stored string
	err := s.db.QueryRowContext(ctx, `SELECT id, name, role, department, token_hash FROM tokens WHERE token_hash = ? AND revoked_at IS NULL`, want).
		Scan(&p.TokenID, &p.Name, &p.Role, &p.Department, &stored)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && subtle.ConstantTimeCompare([]byte(stored), []byte(want)) != 1) {
		return nil, kb.Errorf(kb.EUNAUTH, "访问令牌无效或已吊销")
	} else if err != nil {
		return nil, fmt.Errorf("store: token: %w", err)
	}
	now := s.Now()
	if last, ok := s.tokenUse.Load(p.TokenID); !ok || now.Sub(last.(time.Time)) > time.Minute {
		s.tokenUse.Store(p.TokenID, now)
		if _, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, formatTime(now), p.TokenID); err != nil {
			return nil, fmt.Errorf("store: token: %w", err)
		}
	}
	return &p, nil
}

// Tokens lists every token, newest first.
func (s *Store) Tokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, role, department, created_at, last_used_at, revoked_at FROM tokens ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var t TokenInfo
		var created string
		var used, revoked sql.NullString
		if err := rows.Scan(&t.ID, &t.Name, &t.Role, &t.Department, &created, &used, &revoked); err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = parseTime(created), nullTime(used), nullTime(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token by id.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, formatTime(s.Now()), id)
	if err != nil {
		return fmt.Errorf("store: revoke token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return kb.Errorf(kb.ENOTFOUND, "令牌 %d 不存在或已吊销", id)
	}
	return nil
}

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

// CreateSession starts a login session and returns the cookie value and the
// session's CSRF token.
func (s *Store) CreateSession(ctx context.Context, userID int64) (cookie, csrf string, err error) {
	cookie, csrf = randomSecret(32), randomSecret(20)
	now := s.Now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hashSecret(cookie), userID, csrf, formatTime(now), formatTime(now.Add(SessionTTL)))
	if err != nil {
		return "", "", fmt.Errorf("store: create session: %w", err)
	}
	return cookie, csrf, nil
}

// SessionPrincipal returns the user of a live session and its CSRF token.
func (s *Store) SessionPrincipal(ctx context.Context, cookie string) (*kb.Principal, string, error) {
	var p kb.Principal
	var csrf string
	err := s.db.QueryRowContext(ctx, `SELECT u.id, u.name, u.role, u.department, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL`, hashSecret(cookie), formatTime(s.Now())).
		Scan(&p.UserID, &p.Name, &p.Role, &p.Department, &csrf)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", kb.Errorf(kb.EUNAUTH, "登录已过期，请重新登录")
	} else if err != nil {
		return nil, "", fmt.Errorf("store: session: %w", err)
	}
	return &p, csrf, nil
}

// DeleteSession ends a login session.
func (s *Store) DeleteSession(ctx context.Context, cookie string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, hashSecret(cookie)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
