package store_test

import (
	"testing"

	"xiaoshen/kb"
)

func TestUserListPasswordAndDisable(t *testing.T) {
	s := mustOpenStore(t)
	ctx := t.Context()
	if _, err := s.CreateUser(ctx, "qixie", kb.RoleReviewer, "器械注册处", "old-password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "admin", kb.RoleAdmin, "", "admin-password"); err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, "qixie", "old-password")
	if err != nil {
		t.Fatal(err)
	}
	cookie, _, err := s.CreateSession(ctx, p.UserID)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("list", func(t *testing.T) {
		users, err := s.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 2 || users[0].Name != "admin" || users[1].Name != "qixie" || users[1].Department != "器械注册处" ||
			users[1].Role != kb.RoleReviewer || users[1].DisabledAt != nil || users[1].CreatedAt.IsZero() {
			t.Fatalf("Users = %+v", users)
		}
	})

	t.Run("new password ends sessions", func(t *testing.T) {
		if err := s.SetPassword(ctx, "qixie", "short"); kb.ErrorCode(err) != kb.EINVALID {
			t.Fatalf("short password: %v, want invalid", err)
		}
		if err := s.SetPassword(ctx, "nobody", "new-password"); kb.ErrorCode(err) != kb.ENOTFOUND {
			t.Fatalf("missing user: %v, want not found", err)
		}
		if err := s.SetPassword(ctx, "qixie", "new-password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "qixie", "old-password"); kb.ErrorCode(err) != kb.EUNAUTH {
			t.Errorf("old password still works: %v", err)
		}
		if _, err := s.Authenticate(ctx, "qixie", "new-password"); err != nil {
			t.Errorf("new password: %v", err)
		}
		if _, _, err := s.SessionPrincipal(ctx, cookie); kb.ErrorCode(err) != kb.EUNAUTH {
			t.Errorf("session from before the reset still works: %v", err)
		}
	})

	t.Run("disable", func(t *testing.T) {
		p, err := s.Authenticate(ctx, "qixie", "new-password")
		if err != nil {
			t.Fatal(err)
		}
		cookie, _, err := s.CreateSession(ctx, p.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DisableUser(ctx, "qixie"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "qixie", "new-password"); kb.ErrorCode(err) != kb.EUNAUTH {
			t.Errorf("a disabled user logs in: %v", err)
		}
		if _, _, err := s.SessionPrincipal(ctx, cookie); kb.ErrorCode(err) != kb.EUNAUTH {
			t.Errorf("a disabled user's session still works: %v", err)
		}
		if err := s.DisableUser(ctx, "qixie"); kb.ErrorCode(err) != kb.ECONFLICT {
			t.Errorf("disabling twice: %v, want conflict", err)
		}
		if err := s.SetPassword(ctx, "qixie", "another-password"); kb.ErrorCode(err) != kb.ECONFLICT {
			t.Errorf("new password for a disabled user: %v, want conflict", err)
		}
		if err := s.DisableUser(ctx, "nobody"); kb.ErrorCode(err) != kb.ENOTFOUND {
			t.Errorf("disabling a missing user: %v, want not found", err)
		}
		users, err := s.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 2 || users[1].DisabledAt == nil || users[0].DisabledAt != nil {
			t.Errorf("Users after disabling = %+v", users)
		}
		if _, err := s.Authenticate(ctx, "admin", "admin-password"); err != nil {
			t.Errorf("another user is affected: %v", err)
		}
	})
}
