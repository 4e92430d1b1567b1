package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"xiaoshen/api"
	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// fixedNow is a Friday before the 2024 National Day holidays.
var fixedNow = time.Date(2024, 9, 27, 10, 0, 0, 0, kb.Shanghai)

type testServer struct {
	*api.Server
	env *testkb.Env
}

func mustStartServer(t *testing.T) *testServer {
	t.Helper()
	now := fixedNow
	return mustStartServerWithClock(t, &now)
}

// mustStartServerWithClock starts a server whose clock reads *now.
func mustStartServerWithClock(t *testing.T, now *time.Time) *testServer {
	t.Helper()
	return mustStartServerWithOptions(t, now, api.Options{BodyLimit: "64K"})
}

// mustStartServerWithOptions starts a server with opts whose clock reads *now.
func mustStartServerWithOptions(t *testing.T, now *time.Time, opts api.Options) *testServer {
	t.Helper()
	env := testkb.New(t, testkb.Options{Now: func() time.Time { return *now }})
	srv := api.New(env.Service, env.Store, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	srv.SetReady(true)
	return &testServer{Server: srv, env: env}
}

// scenario is one request through the real router and what the response
// must and must not contain.
type scenario struct {
	name       string
	method     string
	url        string
	body       string
	wantStatus int
	want       []string
	notWant    []string
}

func (ts *testServer) run(t *testing.T, sc scenario) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(sc.method, sc.url, strings.NewReader(sc.body))
	if sc.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	if rec.Code != sc.wantStatus {
		t.Errorf("%s %s: status = %d, want %d; body %s", sc.method, sc.url, rec.Code, sc.wantStatus, rec.Body)
	}
	body := rec.Body.String()
	for _, w := range sc.want {
		if !strings.Contains(body, w) {
			t.Errorf("%s %s: body lacks %q: %s", sc.method, sc.url, w, body)
		}
	}
	for _, w := range sc.notWant {
		if strings.Contains(body, w) {
			t.Errorf("%s %s: body must not contain %q: %s", sc.method, sc.url, w, body)
		}
	}
	return rec
}

func TestScenarios(t *testing.T) {
	ts := mustStartServer(t)
	scenarios := []scenario{
		{name: "health", method: "GET", url: "/healthz", wantStatus: 200, want: []string{`"ok"`}},
		{name: "columns", method: "GET", url: "/api/v1/columns", wantStatus: 200,
			want: []string{`"code":"guide","name":"网上办事指引"`, `"code":"department","name":"部门信息"`, `"code":"hotline"`}},
		{name: "ask answers a covered question", method: "POST", url: "/api/v1/ask", body: `{"question":"二类械注册要交哪些材料"}`,
			wantStatus: 200, want: []string{`"answered":true`, `"column":"faq"`, `第二类医疗器械产品注册需要提交哪些材料`, `"related":[`}},
		{name: "ask records an uncovered question", method: "POST", url: "/api/v1/ask",
			body: `{"question":"护照过期了怎么办","channel":"web","session_id":"s-1"}`, wantStatus: 200,
			want:    []string{`"answered":false`, `"due_at":"2024-10-10T23:59:59+08:00"`, `"due_provisional":false`, `"hotlines":[`, `"phone":"12345"`, `如您问的是其他部门的事项，可拨打下列热线咨询`},
			notWant: []string{`"answer":`}},
		{name: "empty question", method: "POST", url: "/api/v1/ask", body: `{"question":"  "}`, wantStatus: 400,
			want: []string{`"code":"invalid"`, `问题不能为空`}},
		{name: "question too long", method: "POST", url: "/api/v1/ask", body: `{"question":"` + strings.Repeat("药", 201) + `"}`,
			wantStatus: 400, want: []string{`问题过长`}},
		{name: "malformed JSON", method: "POST", url: "/api/v1/ask", body: `{"question":`, wantStatus: 400,
			want: []string{`"code":"invalid"`, `不是有效的 JSON`}, notWant: []string{"unexpected EOF"}},
		{name: "wrong type", method: "POST", url: "/api/v1/ask", body: `{"question":42}`, wantStatus: 400, want: []string{`question`}},
		{name: "unknown field", method: "POST", url: "/api/v1/ask", body: `{"q":"x"}`, wantStatus: 400, want: []string{`未知字段`}},
		{name: "body too large", method: "POST", url: "/api/v1/ask", body: `{"question":"` + strings.Repeat("a", 70000) + `"}`,
			wantStatus: 413, want: []string{`"code":"too_large"`}},
		{name: "search with highlight and facets", method: "GET", url: "/api/v1/search?q=%E5%8C%96%E5%A6%86%E5%93%81%E7%94%9F%E4%BA%A7%E8%AE%B8%E5%8F%AF%E8%AF%81&limit=3",
			wantStatus: 200, want: []string{`"total":`, `"hits":[`, `\u003cmark\u003e化妆品生产许可证`, `"columns":{`, `"faq":`, `"column_name":"常见问题"`}},
		{name: "search filtered by Chinese column name", method: "GET", url: "/api/v1/search?q=%E8%AE%B8%E5%8F%AF%E8%AF%81&column=%E6%94%BF%E7%AD%96%E6%96%87%E4%BB%B6",
			wantStatus: 200, want: []string{`"column":"policy"`}, notWant: []string{`"column":"faq"`}},
		{name: "search without q", method: "GET", url: "/api/v1/search", wantStatus: 400, want: []string{`缺少查询词`}},
		{name: "search with bad column", method: "GET", url: "/api/v1/search?q=x&column=news", wantStatus: 400, want: []string{`未知栏目`}},
		{name: "search with bad limit", method: "GET", url: "/api/v1/search?q=x&limit=1000", wantStatus: 400, want: []string{`limit`}},
		{name: "entry not found", method: "GET", url: "/api/v1/entries/999999", wantStatus: 404, want: []string{`"code":"not_found"`}},
		{name: "entry bad id", method: "GET", url: "/api/v1/entries/abc", wantStatus: 400},
		{name: "unknown route", method: "GET", url: "/api/v1/nothing", wantStatus: 404, want: []string{`"error":{`}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { ts.run(t, sc) })
	}
}

func TestGetEntry(t *testing.T) {
	ts := mustStartServer(t)
	id := ts.env.ByExternalID["policy-bangban-work-plan"]
	rec := ts.run(t, scenario{method: "GET", url: "/api/v1/entries/" + itoa(id), wantStatus: 200,
		want: []string{`"column":"policy"`, `"column_name":"政策文件"`, `"published_on":"2022-05-31"`, `5个工作日`}})
	var e struct {
		Fields map[string]string `json:"fields"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Fields["interpretation"] == "" {
		t.Errorf("the work plan links its 解读: %v %v", e.Fields, err)
	}
}

func TestColumnCountsMatchCorpus(t *testing.T) {
	ts := mustStartServer(t)
	rec := ts.run(t, scenario{method: "GET", url: "/api/v1/columns", wantStatus: 200})
	var body struct {
		Columns []kb.ColumnCount `json:"columns"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Columns) != 7 {
		t.Fatalf("%d columns, want 7", len(body.Columns))
	}
	total := 0
	for _, c := range body.Columns {
		if c.Count == 0 {
			t.Errorf("column %s is empty in the seed corpus", c.Code)
		}
		total += c.Count
	}
	if total < 150 {
		t.Errorf("corpus has %d entries, want at least 150", total)
	}
}

func TestExpiredEntriesAreNeverAnswers(t *testing.T) {
	ts := mustStartServer(t)
	ctx := t.Context()
	expired := &kb.Entry{Column: kb.ColumnNotice, Title: "关于国庆节期间窗口暂停受理的通知", Content: "国庆节期间窗口暂停受理。",
		Department: "行政服务中心", Fields: map[string]string{kb.FieldPublishedOn: "2023-09-20", kb.FieldExpiresOn: "2023-10-08"}}
	if err := ts.env.Service.CreateEntry(ctx, expired, "test"); err != nil {
		t.Fatal(err)
	}
	rec := ts.run(t, scenario{method: "POST", url: "/api/v1/ask", body: `{"question":"关于国庆节期间窗口暂停受理的通知"}`, wantStatus: 200})
	var res kb.AskResult
	json.Unmarshal(rec.Body.Bytes(), &res)
	if res.Answered && res.Answer.EntryID == expired.ID {
		t.Fatal("an expired notice was given as the answer")
	}
	for _, r := range res.Related {
		if r.EntryID == expired.ID {
			t.Fatal("an expired notice was offered as related")
		}
	}
	// It stays in the KB and shows as expired.
	ts.run(t, scenario{method: "GET", url: "/api/v1/entries/" + itoa(expired.ID), wantStatus: 200, want: []string{`"expired":true`}})
}

func TestWriteIsSearchableAtOnce(t *testing.T) {
	ts := mustStartServer(t)
	e := &kb.Entry{Column: kb.ColumnFAQ, Title: "药品网络销售需要备案吗？", Content: "答复口径：【待维护人员填写】",
		Department: "药品监管处", Similar: []string{"网上卖药要不要备案"}}
	if err := ts.env.Service.CreateEntry(t.Context(), e, "test"); err != nil {
		t.Fatal(err)
	}
	ts.run(t, scenario{method: "POST", url: "/api/v1/ask", body: `{"question":"网上卖药要不要备案"}`, wantStatus: 200,
		want: []string{`"answered":true`, `"entry_id":` + itoa(e.ID)}})
}

func TestRequestIDHeader(t *testing.T) {
	ts := mustStartServer(t)
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set("X-Request-ID", "abc123")
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	if got := rec.Header().Get("X-Request-ID"); got != "abc123" {
		t.Errorf("X-Request-ID = %q", got)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestPersonalDataIsMaskedBeforeStorage(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	res := ts.ask(t, "我的手机13812345678，邮箱zhang.san@example.com，护照过期了怎么办")
	var item kb.ReviewItemView
	body := ts.call(t, "GET", "/api/v1/unanswered/"+itoa(res.Unanswered.ID), admin, "", 200, &item)
	if strings.Contains(body, "13812345678") || strings.Contains(body, "zhang.san") {
		t.Fatalf("personal data reached the review item: %s", body)
	}
	if !strings.Contains(item.Question, "[手机号]") || !strings.Contains(item.Question, "[邮箱]") {
		t.Errorf("masked question = %q", item.Question)
	}
	var stored string
	ts.env.Store.DB().QueryRow(`SELECT question FROM queries WHERE id = ?`, res.QueryID).Scan(&stored)
	if strings.Contains(stored, "13812345678") {
		t.Errorf("query log holds the phone number: %q", stored)
	}
}

// A greeting, a thanks or a "在吗" asks nothing: it gets a prompt to ask,
// and neither a query record nor a review item with a deadline; a greeting
// before a real question does not stop it being answered.
func TestSmallTalkIsNotRecorded(t *testing.T) {
	ts := mustStartServer(t)
	count := func(table string) int {
		var n int
		if err := ts.env.Store.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	queries, items := count("queries"), count("review_items")
	for _, q := range []string{"你好", "您好！", "在吗？", "谢谢", "好的，谢谢您", "辛苦了", "早上好", "上午好", "下午好", "晚上好",
		"在不在", "谢谢你", "感谢您", "哈喽", "嗯嗯，收到了"} {
		res := ts.ask(t, q)
		if !res.SmallTalk || res.Answered || res.QueryID != 0 || res.Unanswered != nil || res.Fallback == nil ||
			!strings.Contains(res.Fallback.Message, "请直接说出您想咨询的") {
			t.Errorf("%q: %+v", q, res)
		}
	}
	if count("queries") != queries || count("review_items") != items {
		t.Errorf("small talk was recorded: queries %d → %d, review items %d → %d", queries, count("queries"), items, count("review_items"))
	}
	if res := ts.ask(t, "你好，二类械注册要交哪些材料"); res.SmallTalk || !res.Answered {
		t.Errorf("greeting before a question: %+v", res)
	}
	if res := ts.ask(t, "在吗，护照过期了怎么办"); res.SmallTalk || res.Unanswered == nil {
		t.Errorf("greeting before an uncovered question: %+v", res)
	}
}

// Details the seed KB leaves for maintainers to fill in never reach a
// citizen as such: an answer reads a neutral note in their place, and a
// hotline without its number is not offered.
func TestPlaceholdersDoNotReachCitizens(t *testing.T) {
	ts := mustStartServer(t)
	res := ts.ask(t, "二类械注册费多少钱")
	if !res.Answered || strings.Contains(res.Answer.Content, "待维护人员填写") || !strings.Contains(res.Answer.Content, "此项信息正在补充") {
		t.Errorf("answer: %+v", res.Answer)
	}
	// A department's answer carries its contact fields, labelled, in the
	// column's order, with the details still to fill in as the note.
	res = ts.ask(t, "器械注册处的地址在哪")
	if !res.Answered || res.Answer.Column != kb.ColumnDepartment {
		t.Fatalf("department question: %+v", res)
	}
	var labels []string
	for _, f := range res.Answer.Fields {
		labels = append(labels, f.Label)
		if strings.Contains(f.Value, "待维护人员填写") || f.Code == "address" && f.Value != "（此项信息正在补充，请以受理部门告知为准）" {
			t.Errorf("field %+v", f)
		}
	}
	if !slices.Equal(labels, []string{"地址", "电话", "办公时间", "职责"}) {
		t.Errorf("answer fields %v, want 地址 电话 办公时间 职责", labels)
	}
	if strings.Contains(res.Answer.Content, "待维护人员") {
		t.Errorf("the department text still speaks to maintainers: %s", res.Answer.Content)
	}
	// With its details still to be filled in, the answer offers the
	// hotlines to ask them by; a complete answer offers none.
	if res.Fallback == nil || len(res.Fallback.Hotlines) == 0 || !strings.Contains(res.Fallback.Message, "部分信息正在补充") {
		t.Errorf("an answer with details to fill in offers no hotline: %+v", res.Fallback)
	}
	if full := ts.ask(t, "二类械注册要交哪些材料"); !full.Answered || full.Fallback != nil {
		t.Errorf("a complete answer: answered %v, fallback %+v", full.Answered, full.Fallback)
	}
	res = ts.ask(t, "护照过期了怎么办")
	if res.Fallback == nil || len(res.Fallback.Hotlines) == 0 {
		t.Fatalf("no hotlines offered: %+v", res)
	}
	offered := map[string]bool{}
	for _, h := range res.Fallback.Hotlines {
		if strings.Contains(h.Phone+h.Hours, "待维护人员填写") {
			t.Errorf("hotline offered with a placeholder: %+v", h)
		}
		if offered[h.Phone] {
			t.Errorf("number %s offered twice: %+v", h.Phone, res.Fallback.Hotlines)
		}
		offered[h.Phone] = true
	}
}

// A misspelling that is no word (化装品, 许可症) or a homophone (那些 for
// 哪些) gets the answer the right spelling gets.
func TestTyposGetTheAnswer(t *testing.T) {
	ts := mustStartServer(t)
	right := ts.ask(t, "化妆品生产许可证要交哪些材料")
	if !right.Answered {
		t.Fatalf("the right spelling: %+v", right)
	}
	for _, q := range []string{"化装品生产许可证要交那些材料", "化妆品生产许可症要交哪些材料"} {
		if r := ts.ask(t, q); !r.Answered || r.Answer.EntryID != right.Answer.EntryID {
			t.Errorf("%q: %+v, want entry %d", q, r, right.Answer.EntryID)
		}
	}
}

// The public and the chatbot read details still to be filled in as a
// neutral note, in entries and search snippets; a maintainer reads the
// entry as stored, so that an export uploads back unchanged.
func TestPlaceholdersInEntriesAndSearch(t *testing.T) {
	ts := mustStartServer(t)
	chatbot := ts.mustToken(t, "小申", kb.RoleChatbot, "")
	maint := ts.mustToken(t, "维护员", kb.RoleMaintainer, "行政服务中心")
	id := ts.env.ByExternalID["department-admin-service-centre"]
	for _, token := range []string{"", chatbot} {
		body := ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", id), token, "", 200, nil)
		if strings.Contains(body, "待维护人员填写") || !strings.Contains(body, "此项信息正在补充") {
			t.Errorf("entry as read with token %q: %s", token, body)
		}
		if body = ts.call(t, "GET", "/api/v1/entries?column=department", token, "", 200, nil); strings.Contains(body, "待维护人员填写") {
			t.Errorf("entry list as read with token %q holds a placeholder", token)
		}
	}
	if body := ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", id), maint, "", 200, nil); !strings.Contains(body, "待维护人员填写") {
		t.Errorf("a maintainer reads the entry as stored: %s", body)
	}
	// 填写 lands inside the placeholder's own words, where a highlight
	// would split it.
	for _, q := range []string{"收费标准", "填写", "咨询电话"} {
		var res kb.SearchResult
		body := ts.call(t, "GET", "/api/v1/search?q="+url.QueryEscape(q)+"&limit=50", "", "", 200, &res)
		if strings.Contains(body, "待维护") || strings.Contains(body, "人员<mark>") {
			t.Errorf("search %q snippets: %d hits, %s", q, res.Total, body)
		}
	}
	// The replacement text never goes back in: it would bury the gap.
	var e kb.Entry
	ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", id), "", "", 200, &e)
	e.Title += "（改）"
	body, _ := json.Marshal(map[string]any{"column": e.Column, "title": e.Title, "content": e.Content, "department": e.Department, "fields": e.Fields})
	if msg := ts.call(t, "POST", "/api/v1/entries", maint, string(body), 400, nil); !strings.Contains(msg, "给市民看的替代文字") {
		t.Errorf("content with the replacement text: %s", msg)
	}
}

// Feedback needs the token the answer came with: query ids are
// consecutive, and anyone could otherwise mark any answer unhelpful. A
// question recorded before answers came with tokens needs the session it
// was asked in, if any.
func TestFeedbackNeedsTheAnswersToken(t *testing.T) {
	ts := mustStartServer(t)
	var res kb.AskResult
	ts.call(t, "POST", "/api/v1/ask", "", `{"question":"二类械注册要交哪些材料","session_id":"s-1"}`, 200, &res)
	if !res.Answered || len(res.FeedbackToken) != 24 {
		t.Fatalf("answer: %+v", res)
	}
	if other := ts.ask(t, "二类械注册要交哪些材料"); other.FeedbackToken == res.FeedbackToken {
		t.Fatalf("two answers share the feedback token %s", res.FeedbackToken)
	}
	for _, body := range []string{
		fmt.Sprintf(`{"query_id":%d,"helpful":false,"session_id":"s-1"}`, res.QueryID),
		fmt.Sprintf(`{"query_id":%d,"feedback_token":"%s","helpful":false}`, res.QueryID, strings.Repeat("0", 24)),
	} {
		if msg := ts.call(t, "POST", "/api/v1/feedback", "", body, 403, nil); !strings.Contains(msg, "feedback_token") {
			t.Errorf("%s: %s", body, msg)
		}
	}
	var fb kb.FeedbackResult
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":true}`, res.QueryID, res.FeedbackToken), 200, &fb)
	if !fb.Recorded {
		t.Errorf("feedback with the token: %+v", fb)
	}

	// Recorded before tokens: the session stands in for it.
	old := &kb.Query{Question: "二类械注册要交哪些材料", SessionID: "s-9", AskedAt: fixedNow, Answered: true, Confidence: 1, EntryID: res.Answer.EntryID, Department: res.Answer.Department}
	if err := ts.env.Store.RecordQuery(t.Context(), old, nil); err != nil {
		t.Fatal(err)
	}
	if msg := ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"helpful":true,"session_id":"s-2"}`, old.ID), 403, nil); !strings.Contains(msg, "该问答属于另一个会话") {
		t.Errorf("old question, another session: %s", msg)
	}
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"helpful":true,"session_id":"s-9"}`, old.ID), 200, nil)
}

func TestDocumentNumbersNameTheirDocument(t *testing.T) {
	ts := mustStartServer(t)
	ask := func(question string) kb.AskResult {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"question": question})
		rec := ts.run(t, scenario{method: "POST", url: "/api/v1/ask", body: string(body), wantStatus: 200})
		var res kb.AskResult
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, q := range []string{"739号令", "国务院令第739号", "第739号令讲了什么"} {
		res := ask(q)
		if !res.Answered || res.Answer.Title != "医疗器械监督管理条例" || res.Answer.MatchedQuestion != "国务院令第739号" {
			t.Errorf("%s: answered %v with %+v, want the regulation by its 文号", q, res.Answered, res.Answer)
		}
	}
	// A 文号 only in the field, with no keyword citing it, is found too.
	e := &kb.Entry{Column: kb.ColumnPolicy, Title: "关于优化审评审批服务的若干措施", Content: "措施的主要内容。",
		Department: "法规处", Fields: map[string]string{kb.FieldDocNumber: "沪药监规〔2031〕7号", kb.FieldEffectiveOn: "2024-01-01"}}
	if err := ts.env.Service.CreateEntry(t.Context(), e, "test"); err != nil {
		t.Fatal(err)
	}
	if res := ask("〔2031〕7号文件"); !res.Answered || res.Answer.EntryID != e.ID {
		t.Errorf("a 文号 in the field: answered %v with %+v", res.Answered, res.Answer)
	}
	// A question about an article or the signatory is not answered by the
	// document's entry, which holds neither; it goes to the department
	// that keeps the document's entry.
	for _, q := range []string{"739号令哪一条规定了注册人制度", "739号令是谁签署的"} {
		res := ask(q)
		if res.Answered && res.Confidence == 1 {
			t.Errorf("%s: answered by the document number with %+v", q, res.Answer)
		}
		if !res.Answered && (res.Unanswered == nil || res.Unanswered.Department != "法规处") {
			t.Errorf("%s: recorded as %+v, want for 法规处", q, res.Unanswered)
		}
	}
	// A question the matcher answers keeps its answer.
	if res := ask("739号令规定二类械注册要交什么材料"); !res.Answered || res.Answer.Title != "第二类医疗器械产品注册需要提交哪些材料？" {
		t.Errorf("a question citing the regulation about the materials: %+v", res.Answer)
	}
	// Decrees of different issuers share numbers: 国务院令第47号 is not the
	// 总局's 47号令, nor 主席令第28号 its 28号令.
	for _, q := range []string{"国务院令第47号", "主席令第28号", "卫生部令第46号"} {
		if res := ask(q); res.Answered && res.Confidence == 1 {
			t.Errorf("%s: answered with another issuer's decree %+v", q, res.Answer)
		}
	}
	if res := ask("总局令第47号"); !res.Answered || res.Answer.Title != "医疗器械注册与备案管理办法" {
		t.Errorf("the 总局's own 47号令: answered %v with %+v", res.Answered, res.Answer)
	}
	// A 文号 copied in full names its document too, though the issuer's
	// words are those of many entries.
	for q, title := range map[string]string{
		"国家食品药品监督管理局令第20号": "医疗机构制剂注册管理办法（试行）",
		"市场监管总局令第47号讲的什么":  "医疗器械注册与备案管理办法",
	} {
		if res := ask(q); !res.Answered || res.Answer.Title != title {
			t.Errorf("%s: answered %v with %+v, want %s", q, res.Answered, res.Answer, title)
		}
	}
	// A repealed regulation is never the answer, cited or not: its number
	// gets the regulation that replaced it, which carries it as a keyword.
	if res := ask("650号令"); !res.Answered || res.Answer.Title != "医疗器械监督管理条例" || !strings.Contains(res.Answer.Content, "650号") {
		t.Errorf("the old regulation's number: answered %v with %+v, want the regulation that replaced it", res.Answered, res.Answer)
	}
}

func TestABareMatterGetsItsGuide(t *testing.T) {
	ts := mustStartServer(t)
	for q, guide := range map[string]string{
		"二类械注册":    "第二类医疗器械产品注册办事指引",
		"医疗机构制剂注册": "医疗机构制剂注册办事指引",
		"药厂":       "药品生产企业许可办事指引",
	} {
		body, _ := json.Marshal(map[string]string{"question": q})
		rec := ts.run(t, scenario{method: "POST", url: "/api/v1/ask", body: string(body), wantStatus: 200})
		var res kb.AskResult
		if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if !res.Answered || res.Answer.Title != guide || res.Answer.Column != kb.ColumnGuide {
			t.Errorf("%s: answered %v with %+v, want the guide %s", q, res.Answered, res.Answer, guide)
		}
	}
	// One of an entry's own wordings keeps that entry.
	ts.run(t, scenario{method: "POST", url: "/api/v1/ask", body: `{"question":"药品生产许可证"}`, wantStatus: 200,
		want: []string{`"column":"wiki"`, `"title":"药品生产许可证"`}})
	// Another matter of the same products, or the products alone, keeps
	// the matcher's answer: 化妆品注册 is no licence of a maker.
	for _, q := range []string{"化妆品注册", "化妆品产品注册", "化妆品"} {
		body, _ := json.Marshal(map[string]string{"question": q})
		ts.run(t, scenario{method: "POST", url: "/api/v1/ask", body: string(body), wantStatus: 200,
			notWant: []string{`"title":"化妆品生产许可办事指引"`}})
	}
	var gmp kb.AskResult
	if err := json.Unmarshal(ts.run(t, scenario{method: "POST", url: "/api/v1/ask", body: `{"question":"药品GMP"}`, wantStatus: 200}).Body.Bytes(), &gmp); err != nil {
		t.Fatal(err)
	}
	if !gmp.Answered || gmp.Answer.Title != "药品生产质量管理规范（GMP）" {
		t.Errorf("药品GMP: answered %v with %+v, want the GMP entry", gmp.Answered, gmp.Answer)
	}
	// A detail of the matter is the matcher's to answer.
	ts.run(t, scenario{method: "POST", url: "/api/v1/ask", body: `{"question":"二类械注册要交哪些材料"}`, wantStatus: 200,
		want: []string{`第二类医疗器械产品注册需要提交哪些材料`}})
}

// An open question that a rule of /ask now answers, a cited 文号 or a bare
// matter, shows as answerable in the list, as the matcher's answers do.
func TestReviewListKnowsWhatTheRulesAnswer(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	item := ts.ask(t, "〔2031〕7号文件").Unanswered
	if item == nil {
		t.Fatal("want the question unanswered before its policy is in")
	}
	e := &kb.Entry{Column: kb.ColumnPolicy, Title: "关于优化审评审批服务的若干措施", Content: "措施的主要内容。",
		Department: "法规处", Fields: map[string]string{kb.FieldDocNumber: "沪药监规〔2031〕7号", kb.FieldEffectiveOn: "2024-01-01"}}
	if err := ts.env.Service.CreateEntry(t.Context(), e, "test"); err != nil {
		t.Fatal(err)
	}
	var list itemList
	ts.call(t, "GET", "/api/v1/unanswered?status=open", admin, "", 200, &list)
	i := slices.IndexFunc(list.Items, func(it kb.ReviewItemView) bool { return it.ID == item.ID })
	if i < 0 {
		t.Fatalf("item %d not listed", item.ID)
	}
	if got := list.Items[i].AnswerableBy; got == nil || got.EntryID != e.ID {
		t.Errorf("answerable_by = %+v, want entry %d, which /ask now answers it with", got, e.ID)
	}
}
