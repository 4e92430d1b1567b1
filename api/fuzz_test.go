package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"xiaoshen/api"
	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// errorCodes are the codes an error body may carry.
var errorCodes = map[string]bool{
	kb.EINVALID: true, kb.ENOTFOUND: true, kb.ECONFLICT: true, kb.EFORBIDDEN: true,
	kb.EUNAUTH: true, kb.ETOOLARGE: true, kb.ELIMIT: true,
}

// checkAskResponse fails unless the answer to POST /api/v1/ask is a 200
// with an answer or a 4xx with the JSON error body: whatever the chatbot
// sends, the server's fault (5xx) is never the answer.
func checkAskResponse(t *testing.T, srv http.Handler, contentType string, body []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/ask", bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	raw := rec.Body.Bytes()
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d with Content-Type %q: %s", rec.Code, rec.Header().Get("Content-Type"), raw)
	}
	switch {
	case rec.Code == http.StatusOK:
		var res struct {
			Answered   *bool           `json:"answered"`
			Answer     *kb.Answer      `json:"answer"`
			Unanswered json.RawMessage `json:"unanswered"`
		}
		if err := json.Unmarshal(raw, &res); err != nil || res.Answered == nil {
			t.Fatalf("200 without an answer: %s", raw)
		}
		if *res.Answered != (res.Answer != nil) || (!*res.Answered && res.Unanswered == nil) {
			t.Fatalf("200 with an inconsistent answer: %s", raw)
		}
	case rec.Code >= 400 && rec.Code < 500:
		var eb struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(raw, &eb); err != nil || !errorCodes[eb.Error.Code] || eb.Error.Message == "" {
			t.Fatalf("%d without the JSON error body: %s", rec.Code, raw)
		}
	default:
		t.Fatalf("status %d for body %q (Content-Type %q): %s", rec.Code, body, contentType, raw)
	}
}

func FuzzAsk(f *testing.F) {
	env := testkb.New(f, testkb.Options{})
	srv := api.New(env.Service, env.Store, slog.New(slog.NewTextHandler(io.Discard, nil)), api.Options{})
	srv.SetReady(true)
	for _, seed := range []struct{ contentType, body string }{
		{"application/json", `{"question":"二类械注册要交哪些材料"}`},
		{"application/json", `{"question":"护照过期了怎么办","channel":"web","session_id":"abc"}`},
		{"application/json", `{"question":"我的身份证号310101199001011234丢了怎么办"}`},
		{"application/json", `{"question":""}`},
		{"application/json", `{"question":123}`},
		{"application/json", `{"question":"a","extra":true}`},
		{"application/json", `[1,2,3]`},
		{"text/plain", `question=二类械`},
		{"", `{"question":"\u0000\ud800"}`},
		{"application/json", `{"question":"` + strings.Repeat("注册", 150) + `"}`},
	} {
		f.Add(seed.contentType, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		checkAskResponse(t, srv, contentType, body)
	})
}
