package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"xiaoshen/kb"
)

// panicIndex is an index whose search panics, standing in for a bug.
type panicIndex struct{ kb.Index }

func (panicIndex) Search(context.Context, kb.SearchRequest) (*kb.SearchResult, error) {
	var hits []kb.SearchHit
	_ = hits[len(hits)+3] // index out of range
	return nil, nil
}

// mustErrorBody checks that a response is exactly {"error":{"code","message"}}
// (details allowed) with the given code, and returns the message.
func mustErrorBody(t *testing.T, rec *httptest.ResponseRecorder, wantCode string) string {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &top); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, rec.Body)
	}
	if len(top) != 1 || top["error"] == nil {
		t.Fatalf("error body has keys other than error: %s", rec.Body)
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(top["error"], &e); err != nil || e.Message == "" {
		t.Fatalf("error body lacks a message: %v: %s", err, rec.Body)
	}
	if e.Code != wantCode {
		t.Errorf("code = %q, want %q: %s", e.Code, wantCode, rec.Body)
	}
	return e.Message
}

// goInternals are fragments that betray Go internals to a caller.
var goInternals = []string{"runtime error", "goroutine", "panic", ".go:", "json:", "sql:", "unexpected EOF", "invalid character"}

func TestErrorsAreJSONWithoutInternals(t *testing.T) {
	ts := mustStartServer(t)
	ts.env.Service.Index = panicIndex{ts.env.Service.Index}
	tests := []struct {
		name, method, url, body string
		wantStatus              int
		wantCode                string
		wantMessage             string
	}{
		{"unknown route", "GET", "/api/v1/nothing", "", 404, kb.ENOTFOUND, "接口不存在"},
		{"unknown route outside the API", "GET", "/wp-login.php", "", 404, kb.ENOTFOUND, "接口不存在"},
		{"method not allowed", "DELETE", "/api/v1/ask", "", 405, kb.EINVALID, "不支持该请求方法"},
		{"body too large", "POST", "/api/v1/ask", `{"question":"` + strings.Repeat("药", 30000) + `"}`, 413, kb.ETOOLARGE, "请求体过大"},
		{"malformed JSON", "POST", "/api/v1/ask", `{"question": "护照`, 400, kb.EINVALID, "不是有效的 JSON"},
		{"not an object", "POST", "/api/v1/feedback", `[1,2]`, 400, kb.EINVALID, "请求体应为 JSON 对象"},
		{"wrong field type", "POST", "/api/v1/feedback", `{"query_id":"12"}`, 400, kb.EINVALID, "字段 query_id 的类型不正确"},
		{"empty body", "POST", "/api/v1/ask", ``, 400, kb.EINVALID, "请求体为空"},
		{"question of format characters only", "POST", "/api/v1/ask", `{"question":"\u200b\ufeff\u202e"}`, 400, kb.EINVALID, "问题不能为空"},
		{"question too long", "POST", "/api/v1/ask", `{"question":"` + strings.Repeat("药", kb.MaxQuestionLength+1) + `"}`, 400, kb.EINVALID, "问题过长"},
		{"session id too long", "POST", "/api/v1/ask", `{"question":"护照过期了怎么办","session_id":"` + strings.Repeat("s", kb.MaxSessionIDLength+1) + `"}`,
			400, kb.EINVALID, "session_id 过长"},
		{"bad token", "GET", "/api/v1/columns", "", 401, kb.EUNAUTH, ""},
		{"panic becomes a generic 500", "GET", "/api/v1/search?q=%E5%8C%96%E5%A6%86%E5%93%81", "", 500, kb.EINTERNAL, "服务内部错误，请稍后再试"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.wantCode == kb.EUNAUTH {
				req.Header.Set("Authorization", "Bearer not-a-token")
			}
			rec := httptest.NewRecorder()
			ts.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			msg := mustErrorBody(t, rec, tt.wantCode)
			if !strings.Contains(msg, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.wantMessage)
			}
			for _, frag := range goInternals {
				if strings.Contains(rec.Body.String(), frag) {
					t.Errorf("body leaks %q: %s", frag, rec.Body)
				}
			}
		})
	}
	t.Run("405 names the allowed methods", func(t *testing.T) {
		rec := httptest.NewRecorder()
		ts.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/ask", nil))
		if rec.Code != 405 || !strings.Contains(rec.Header().Get("Allow"), "POST") {
			t.Errorf("status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
		}
	})
}

// TestQuestionsAreCleaned sends questions with invalid UTF-8, control and
// invisible characters through the API and checks what reaches the review
// item: the words, and none of the junk.
func TestQuestionsAreCleaned(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	tests := []struct {
		name, body, want string
	}{
		{"invalid UTF-8", "{\"question\":\"护照\xff\xfe过期了\xc3怎么办\"}", "护照过期了怎么办"},
		{"control characters", `{"question":"护照\u0000过期了\u001b怎么\r\n办"}`, "护照 过期了 怎么 办"},
		{"invisible characters", `{"question":"\ufeff护照\u200b过期了\u202e怎么办\u2066"}`, "护照过期了怎么办"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res kb.AskResult
			ts.call(t, "POST", "/api/v1/ask", "", tt.body, 200, &res)
			if res.Unanswered == nil {
				t.Fatalf("not recorded: %+v", res)
			}
			var item kb.ReviewItemView
			body := ts.call(t, "GET", "/api/v1/unanswered/"+itoa(res.Unanswered.ID), admin, "", 200, &item)
			found := false
			for _, w := range item.Questions {
				found = found || w == tt.want
			}
			if !found {
				t.Errorf("wordings %+v lack %q", item.Questions, tt.want)
			}
			for _, junk := range []string{"\ufffd", "\u200b", "\u202e", "\ufeff", `\u0000`, `\u001b`} {
				if strings.Contains(body, junk) {
					t.Errorf("stored question keeps %q: %s", junk, body)
				}
			}
		})
	}
	t.Run("search query", func(t *testing.T) {
		ts.run(t, scenario{method: "GET", url: "/api/v1/search?q=%FF%00%E5%8C%96%E5%A6%86%E5%93%81%E2%80%8B%E8%AE%B8%E5%8F%AF", wantStatus: 200,
			want: []string{`"hits":[`}})
	})
}
