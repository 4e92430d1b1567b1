package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"xiaoshen/api"
	"xiaoshen/kb"
)

// from sends a request as if from a TCP peer, with extra headers.
func (ts *testServer) from(t *testing.T, peer, method, url, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, url, strings.NewReader(body))
	req.RemoteAddr = peer
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	return rec
}

const searchURL = "/api/v1/search?q=%E5%8C%96%E5%A6%86%E5%93%81"

func TestRateLimitPerAddress(t *testing.T) {
	now := fixedNow
	ts := mustStartServerWithOptions(t, &now, api.Options{RateLimit: 3})
	chatbot := ts.mustToken(t, "小申", kb.RoleChatbot, "")
	reviewer := ts.mustToken(t, "审核员", kb.RoleReviewer, "器械注册处")
	const client = "203.0.113.7:40000"

	// The budget is shared by /ask and /search.
	for i, url := range []string{searchURL, searchURL, "/api/v1/ask"} {
		body := ""
		method := "GET"
		if url == "/api/v1/ask" {
			method, body = "POST", `{"question":"二类械注册要交哪些材料"}`
		}
		if rec := ts.from(t, client, method, url, body); rec.Code != 200 {
			t.Fatalf("request %d: status %d: %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := ts.from(t, client, "POST", "/api/v1/ask", `{"question":"二类械注册要交哪些材料"}`)
	if rec.Code != 429 {
		t.Fatalf("fourth request: status %d, want 429", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After = %q, want 20 (3 a minute)", got)
	}
	if msg := mustErrorBody(t, rec, kb.ELIMIT); !strings.Contains(msg, "20 秒后再试") {
		t.Errorf("message = %q", msg)
	}
	// Feedback is as public, and shares the budget.
	if rec := ts.from(t, client, "POST", "/api/v1/feedback", `{"query_id":1,"helpful":false}`); rec.Code != 429 {
		t.Errorf("feedback past the budget: status %d, want 429", rec.Code)
	}

	tests := []struct {
		name       string
		peer, url  string
		headers    []string
		wantStatus int
	}{
		{"same address, another port", "203.0.113.7:40001", searchURL, nil, 429},
		{"another address", "203.0.113.8:40000", searchURL, nil, 200},
		{"a forged X-Forwarded-For is ignored", "203.0.113.7:40000", searchURL, []string{"X-Forwarded-For", "198.51.100.1"}, 429},
		{"a forged X-Real-IP is ignored", "203.0.113.7:40000", searchURL, []string{"X-Real-IP", "198.51.100.1"}, 429},
		{"chatbot token is exempt", "203.0.113.7:40000", searchURL, []string{"Authorization", "Bearer " + chatbot}, 200},
		{"other tokens are not", "203.0.113.7:40000", searchURL, []string{"Authorization", "Bearer " + reviewer}, 429},
		{"a bad token is refused, not counted as chatbot", "203.0.113.7:40000", searchURL, []string{"Authorization", "Bearer forged"}, 401},
		{"other endpoints are not limited", "203.0.113.7:40000", "/api/v1/columns", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := ts.from(t, tt.peer, "GET", tt.url, "", tt.headers...); rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
		})
	}
	t.Run("chatbot asks many times", func(t *testing.T) {
		for i := range 10 {
			rec := ts.from(t, client, "POST", "/api/v1/ask", `{"question":"二类械注册要交哪些材料"}`, "Authorization", "Bearer "+chatbot)
			if rec.Code != 200 {
				t.Fatalf("chatbot ask %d: status %d", i+1, rec.Code)
			}
		}
	})
}

func TestRateLimitIPv6SharesTheSlash64(t *testing.T) {
	now := fixedNow
	ts := mustStartServerWithOptions(t, &now, api.Options{RateLimit: 1})
	if rec := ts.from(t, "[2001:db8:1:2::1]:5000", "GET", searchURL, ""); rec.Code != 200 {
		t.Fatalf("first: %d", rec.Code)
	}
	if rec := ts.from(t, "[2001:db8:1:2::ffff]:5000", "GET", searchURL, ""); rec.Code != 429 {
		t.Errorf("another address of the same /64: %d, want 429", rec.Code)
	}
	if rec := ts.from(t, "[2001:db8:1:3::1]:5000", "GET", searchURL, ""); rec.Code != 200 {
		t.Errorf("another /64: %d, want 200", rec.Code)
	}
}

func TestRateLimitBehindTrustedProxy(t *testing.T) {
	now := fixedNow
	ts := mustStartServerWithOptions(t, &now, api.Options{RateLimit: 1, TrustProxy: true})
	const proxy = "10.0.0.2:5000"
	steps := []struct {
		name       string
		peer       string
		headers    []string
		wantStatus int
	}{
		{"first client through the proxy", proxy, []string{"X-Forwarded-For", "198.51.100.1"}, 200},
		{"first client again", proxy, []string{"X-Forwarded-For", "198.51.100.1"}, 429},
		{"second client through the proxy", proxy, []string{"X-Forwarded-For", "198.51.100.2"}, 200},
		{"a client's forged entry before the proxy's", proxy, []string{"X-Forwarded-For", "198.51.100.9, 198.51.100.1"}, 429},
		{"X-Real-IP from the proxy", proxy, []string{"X-Real-IP", "198.51.100.3"}, 200},
		{"X-Real-IP again", proxy, []string{"X-Real-IP", "198.51.100.3"}, 429},
		{"a public peer cannot set its address", "203.0.113.7:5000", []string{"X-Forwarded-For", "198.51.100.4"}, 200},
		{"so it is limited by its own", "203.0.113.7:5000", []string{"X-Forwarded-For", "198.51.100.5"}, 429},
	}
	for _, st := range steps {
		if rec := ts.from(t, st.peer, "GET", searchURL, "", st.headers...); rec.Code != st.wantStatus {
			t.Errorf("%s: status %d, want %d", st.name, rec.Code, st.wantStatus)
		}
	}
}

func TestRateLimitOff(t *testing.T) {
	ts := mustStartServer(t)
	for i := range 200 {
		if rec := ts.from(t, "203.0.113.7:40000", "GET", searchURL, ""); rec.Code != 200 {
			t.Fatalf("request %d with the limit off: %d", i+1, rec.Code)
		}
	}
}
