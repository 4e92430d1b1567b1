package kb_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// TestUnansweredWordingsGroupAcrossRestart checks that another wording of
// an unanswered question joins its review item, both in the running
// service and in a new one that loads the open items from the store, and
// that a question asking for something else does not.
func TestUnansweredWordingsGroupAcrossRestart(t *testing.T) {
	ctx := context.Background()
	env := testkb.New(t, testkb.Options{})
	ask := func(svc *kb.Service, q string) int64 {
		t.Helper()
		res, err := svc.Ask(ctx, kb.AskRequest{Question: q})
		if err != nil {
			t.Fatal(err)
		}
		if res.Unanswered == nil {
			t.Fatalf("%q was answered", q)
		}
		return res.Unanswered.ID
	}
	first := ask(env.Service, "护照过期了怎么办")
	tests := []struct {
		name     string
		restart  bool
		question string
		joins    bool
	}{
		{"other wording", false, "护照过期了该怎么办？", true},
		{"other wording after a restart", true, "请问护照过期怎么办呢", true},
		{"other intent after a restart", true, "护照过期了补办要多少费用", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := env.Service
			if tt.restart {
				svc = kb.NewService(env.Store, env.Index, env.Index, kb.NewCalendar(), slog.New(slog.NewTextHandler(io.Discard, nil)))
				svc.Threshold = env.Service.Threshold
			}
			if got := ask(svc, tt.question); (got == first) != tt.joins {
				t.Errorf("%q went to item %d; joins item %d = %v, want %v", tt.question, got, first, got == first, tt.joins)
			}
		})
	}
}
