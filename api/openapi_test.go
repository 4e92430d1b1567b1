package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"xiaoshen/api"
	"xiaoshen/kb"
	"xiaoshen/metrics"
)

// contract checks requests and responses against the served OpenAPI
// document.
type contract struct {
	ts     *testServer
	router routers.Router
}

// mustLoadContract fetches /api/v1/openapi.json through the router, loads
// and validates it.
func mustLoadContract(t *testing.T, ts *testServer) *contract {
	t.Helper()
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{ts: ts, router: router}
}

// do sends a request through the real router, checks its status, and
// validates both the request and the response against the document.
func (c *contract) do(t *testing.T, method, url, token, body string, wantStatus int) *httptest.ResponseRecorder {
	t.Helper()
	newRequest := func() *http.Request {
		req := httptest.NewRequest(method, url, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req
	}
	rec := httptest.NewRecorder()
	c.ts.ServeHTTP(rec, newRequest())
	if rec.Code != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, rec.Code, wantStatus, rec.Body)
	}

	req := newRequest()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in the OpenAPI document: %v", method, url, err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	// Requests meant to be refused are not checked against the document.
	if wantStatus < 400 {
		if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil {
			t.Errorf("%s %s: the request does not match the document: %v", method, url, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: opts}
	if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
		t.Errorf("%s %s: the %d response does not match the document: %v\n%s", method, url, rec.Code, err, rec.Body)
	}
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	return v
}

func TestResponsesMatchTheOpenAPIDocument(t *testing.T) {
	now := fixedNow
	reg := metrics.New()
	ts := mustStartServerWithOptions(t, &now, api.Options{BodyLimit: "64K", RateLimit: 30, Metrics: reg})
	c := mustLoadContract(t, ts)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	maintainer := ts.mustToken(t, "器械维护员", kb.RoleMaintainer, "器械注册处")
	chatbot := ts.mustToken(t, "小申", kb.RoleChatbot, "")

	// The chatbot's three calls.
	answered := decode[kb.AskResult](t, c.do(t, "POST", "/api/v1/ask", chatbot, `{"question":"二类械注册要交哪些材料","channel":"web","session_id":"s-1"}`, 200))
	if !answered.Answered {
		t.Fatalf("not answered: %+v", answered)
	}
	unanswered := decode[kb.AskResult](t, c.do(t, "POST", "/api/v1/ask", chatbot, `{"question":"护照过期了怎么办"}`, 200))
	if unanswered.Answered || unanswered.Unanswered == nil || unanswered.Fallback == nil {
		t.Fatalf("not recorded: %+v", unanswered)
	}
	suggested := decode[kb.AskResult](t, c.do(t, "POST", "/api/v1/ask", chatbot, `{"question":"化妆品备案怎么弄呀"}`, 200))
	if suggested.Answered || len(suggested.Suggestions) == 0 {
		t.Errorf("expected suggestions: %+v", suggested)
	}
	c.do(t, "POST", "/api/v1/feedback", chatbot, fmt.Sprintf(`{"query_id":%d,"helpful":false}`, answered.QueryID), 403)
	c.do(t, "POST", "/api/v1/feedback", chatbot, fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":false,"comment":"没有说清楚"}`, answered.QueryID, answered.FeedbackToken), 200)
	if len(suggested.Suggestions) > 0 {
		c.do(t, "POST", "/api/v1/feedback", chatbot, fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"selected_entry_id":%d}`, suggested.QueryID, suggested.FeedbackToken, suggested.Suggestions[0].EntryID), 200)
	}
	c.do(t, "GET", "/api/v1/search?q=%E5%8C%96%E5%A6%86%E5%93%81%E7%94%9F%E4%BA%A7%E8%AE%B8%E5%8F%AF&column=faq&limit=3", "", "", 200)

	// Reading the KB.
	c.do(t, "GET", "/api/v1/columns", "", "", 200)
	c.do(t, "GET", "/api/v1/entries/"+itoa(answered.Answer.EntryID), "", "", 200)
	c.do(t, "GET", "/api/v1/entries?column=policy&limit=5", "", "", 200)
	c.do(t, "GET", "/api/v1/entries/"+itoa(answered.Answer.EntryID)+"/history", admin, "", 200)

	// Writing it.
	created := decode[struct {
		ID int64 `json:"entry_id"`
	}](t, c.do(t, "POST", "/api/v1/entries", maintainer, `{"column":"faq","title":"医疗器械网络销售需要备案吗？","content":"需要，按规定备案。","keywords":["网络销售"]}`, 201))
	c.do(t, "PUT", "/api/v1/entries/"+itoa(created.ID), maintainer, `{"column":"faq","title":"医疗器械网络销售需要备案吗？","content":"需要，在网络销售前备案。"}`, 200)
	c.do(t, "DELETE", "/api/v1/entries/"+itoa(created.ID), maintainer, "", 200)
	c.do(t, "POST", "/api/v1/entries/sync", maintainer, `{"column":"faq","rows":[{"row":2,"entry":{"column":"faq","title":"缺内容的问题？","content":""}}]}`, 422)
	c.do(t, "POST", "/api/v1/entries/sync", maintainer, `{"column":"faq","dry_run":true,"rows":[{"row":2,"entry":{"external_id":"XS-1","column":"faq","title":"上传的问题？","content":"上传的答复。"}}]}`, 200)
	// Upload, delete, and upload again: the entry is restored, and its
	// history says so.
	row := `{"column":"faq","rows":[{"row":2,"entry":{"external_id":"XS-2","column":"faq","title":"上传后删除的问题？","content":"上传的答复。"}}]}`
	uploaded := decode[kb.SyncResult](t, c.do(t, "POST", "/api/v1/entries/sync", maintainer, row, 200))
	c.do(t, "DELETE", "/api/v1/entries/"+itoa(uploaded.Changes[0].EntryID), maintainer, "", 200)
	if again := decode[kb.SyncResult](t, c.do(t, "POST", "/api/v1/entries/sync", maintainer, row, 200)); again.Restored != 1 {
		t.Errorf("upload after a delete: %+v", again)
	}
	c.do(t, "GET", "/api/v1/entries/"+itoa(uploaded.Changes[0].EntryID)+"/history", maintainer, "", 200)

	// Reviewing.
	list := decode[itemList](t, c.do(t, "GET", "/api/v1/unanswered?status=open&overdue=false&limit=10", admin, "", 200))
	if list.Total < 2 {
		t.Errorf("open items: %d", list.Total)
	}
	c.do(t, "GET", "/api/v1/unanswered/"+itoa(unanswered.Unanswered.ID), admin, "", 200)
	c.do(t, "GET", "/api/v1/proposals?status=pending", admin, "", 200)
	c.do(t, "GET", "/api/v1/stats?from=2024-09-01&to=2024-09-30", admin, "", 200)
	c.do(t, "GET", "/api/v1/me", maintainer, "", 200)
	c.do(t, "POST", "/api/v1/unanswered/"+itoa(unanswered.Unanswered.ID)+"/answer", admin, `{"content":"护照事务请咨询出入境管理部门。"}`, 200)
	c.do(t, "GET", "/api/v1/stats", admin, "", 200)

	// Operations.
	c.do(t, "GET", "/healthz", "", "", 200)
	c.do(t, "GET", "/readyz", "", "", 200)
	c.do(t, "GET", "/metrics", "", "", 200)

	// Errors.
	c.do(t, "POST", "/api/v1/ask", "", `{"question":""}`, 400)
	c.do(t, "POST", "/api/v1/ask", "", `{"question":"`+strings.Repeat("药", 30000)+`"}`, 413)
	c.do(t, "GET", "/api/v1/entries/999999", "", "", 404)
	c.do(t, "GET", "/api/v1/unanswered", "", "", 401)
	c.do(t, "GET", "/api/v1/unanswered", "not-a-token", "", 401)
	c.do(t, "POST", "/api/v1/unanswered/"+itoa(unanswered.Unanswered.ID)+"/dismiss", admin, `{"reason":"无效/骚扰"}`, 409)
	c.do(t, "DELETE", "/api/v1/entries/"+itoa(ts.env.ByExternalID["policy-bangban-work-plan"]), maintainer, "", 403)
	var limited *httptest.ResponseRecorder
	for i := 0; i < 40 && (limited == nil || limited.Code != 429); i++ {
		limited = httptest.NewRecorder()
		ts.ServeHTTP(limited, httptest.NewRequest("GET", "/api/v1/search?q=x", nil))
	}
	// kin-openapi does not check response headers; the document's
	// Retry-After is checked here.
	if rec := c.do(t, "GET", "/api/v1/search?q=x", "", "", 429); rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	ts.SetReady(false)
	c.do(t, "GET", "/readyz", "", "", 503)
}

// TestOpenAPIDocumentsEveryRoute compares the document's operations with
// the router's routes, both ways, so that neither can drift.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	now := fixedNow
	ts := mustStartServerWithOptions(t, &now, api.Options{Metrics: metrics.New()})
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range ts.Routes() {
		if strings.HasPrefix(r.Path, "/review") {
			continue // HTML pages for reviewers, not the API
		}
		path := r.Path
		for _, seg := range strings.Split(path, "/") {
			if name, ok := strings.CutPrefix(seg, ":"); ok {
				path = strings.Replace(path, seg, "{"+name+"}", 1)
			}
		}
		served[r.Method+" "+path] = true
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("%s is served but not in openapi.yaml", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is in openapi.yaml but not served", op)
		}
	}
	if len(served) < 25 {
		t.Errorf("only %d routes found: %v", len(served), served)
	}
}
