package api_test

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"xiaoshen/api"
	"xiaoshen/kb"
)

// login posts the login form and returns the session cookie.
func (ts *testServer) login(t *testing.T, name, password string) *http.Cookie {
	t.Helper()
	form := url.Values{"name": {name}, "password": {password}}
	req := httptest.NewRequest("POST", "/review/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login %s: status %d: %s", name, rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == "xs_session" {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie must be HttpOnly and SameSite: %+v", c)
			}
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func (ts *testServer) page(t *testing.T, method, target string, cookie *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	return rec
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestReviewPages(t *testing.T) {
	ts := mustStartServer(t)
	if _, err := ts.env.Store.CreateUser(t.Context(), "reviewer", kb.RoleReviewer, "化妆品监管处", "password-1"); err != nil {
		t.Fatal(err)
	}
	if r := ts.ask(t, "<script>alert('x')</script>化妆品工厂的污水排放标准是多少"); r.Answered || r.Unanswered.Department != "化妆品监管处" {
		t.Fatalf("want an unanswered question for 化妆品监管处: %+v", r)
	}

	t.Run("without login redirects to the login page", func(t *testing.T) {
		rec := ts.page(t, "GET", "/review", nil, nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/review/login" {
			t.Fatalf("status %d location %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		rec := ts.page(t, "POST", "/review/login", nil, url.Values{"name": {"reviewer"}, "password": {"nope"}})
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "用户名或密码错误") {
			t.Fatalf("status %d", rec.Code)
		}
	})

	cookie := ts.login(t, "reviewer", "password-1")
	rec := ts.page(t, "GET", "/review", cookie, nil)
	body := rec.Body.String()
	t.Run("list escapes user text and sets security headers", func(t *testing.T) {
		if rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, body)
		}
		if strings.Contains(body, "<script>alert") {
			t.Fatal("a question's <script> reached the page unescaped")
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;化妆品工厂的污水排放标准是多少") {
			t.Errorf("escaped question missing from the list")
		}
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'none'") {
			t.Errorf("CSP = %q", csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Error("X-Content-Type-Options missing")
		}
		// Nothing is closed or overdue yet: no on-time rate to speak of.
		for _, want := range []string{"小申解决率", "目标 50.0%", "剩余工作日", "2024-10-10", "按时处理率</span> —"} {
			if !strings.Contains(body, want) {
				t.Errorf("list lacks %q", want)
			}
		}
	})

	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no csrf token on the page")
	}
	csrf := m[1]
	var itemID int64
	fmt.Sscanf(regexp.MustCompile(`data-item="(\d+)"`).FindStringSubmatch(body)[1], "%d", &itemID)
	itemURL := fmt.Sprintf("/review/items/%d", itemID)

	t.Run("detail page", func(t *testing.T) {
		rec := ts.page(t, "GET", itemURL, cookie, nil)
		b := rec.Body.String()
		if rec.Code != 200 || strings.Contains(b, "<script>alert") {
			t.Fatalf("status %d or unescaped text", rec.Code)
		}
		for _, want := range []string{"补充答复口径", "最接近的知识库条目", "转派", "驳回", "超出本单位职能", `value="faq" selected`} {
			if !strings.Contains(b, want) {
				t.Errorf("detail lacks %q", want)
			}
		}
	})
	t.Run("post without csrf is refused", func(t *testing.T) {
		rec := ts.page(t, "POST", itemURL+"/dismiss", cookie, url.Values{"reason": {"无效/骚扰"}})
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status %d", rec.Code)
		}
		rec = ts.page(t, "POST", itemURL+"/dismiss", cookie, url.Values{"reason": {"无效/骚扰"}, "csrf": {"forged"}})
		if rec.Code != http.StatusForbidden {
			t.Fatalf("forged token: status %d", rec.Code)
		}
	})
	t.Run("invalid form shows the error on the page", func(t *testing.T) {
		rec := ts.page(t, "POST", itemURL+"/answer", cookie, url.Values{"csrf": {csrf}, "content": {""}, "title": {"护照"}})
		if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "error=") {
			t.Fatalf("status %d location %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("dismiss with csrf", func(t *testing.T) {
		rec := ts.page(t, "POST", itemURL+"/dismiss", cookie, url.Values{"reason": {"超出本单位职能"}, "csrf": {csrf}})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		it, err := ts.env.Store.FindReviewItem(t.Context(), itemID)
		if err != nil || it.Status != kb.StatusDismissed || it.DismissReason != "超出本单位职能" || it.ClosedBy != "reviewer" {
			t.Fatalf("item after dismiss: %+v %v", it, err)
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		ts.page(t, "POST", "/review/logout", cookie, url.Values{"csrf": {csrf}})
		if rec := ts.page(t, "GET", "/review", cookie, nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("after logout: status %d", rec.Code)
		}
	})
}

// TestReviewListWithTenThousandItems checks that the list paginates and
// renders with 10,000 open items; the time is printed, not asserted.
func TestReviewListWithTenThousandItems(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 10,000 items")
	}
	ts := mustStartServer(t)
	ctx := t.Context()
	start := time.Now()
	for i := 0; i < 10000; i++ {
		q := &kb.Query{Question: fmt.Sprintf("测试问题第%d号：某事项怎么办理", i), AskedAt: fixedNow}
		item := &kb.ReviewItem{Type: kb.ReviewUnanswered, Question: q.Question, GroupKey: q.Question, Department: "综合处",
			DueAt: fixedNow.Add(time.Duration(i) * time.Minute)}
		if err := ts.env.Store.RecordQuery(ctx, q, item); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("inserted 10,000 items in %s", time.Since(start).Round(time.Millisecond))
	if _, err := ts.env.Store.CreateUser(ctx, "admin", kb.RoleAdmin, "", "password-1"); err != nil {
		t.Fatal(err)
	}
	cookie := ts.login(t, "admin", "password-1")
	for _, target := range []string{"/review", "/review?status=open&page=200", "/review?status=open&overdue=true"} {
		start := time.Now()
		rec := ts.page(t, "GET", target, cookie, nil)
		elapsed := time.Since(start)
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", target, rec.Code)
		}
		rows := strings.Count(rec.Body.String(), `data-item="`)
		t.Logf("%s: %d rows in %s", target, rows, elapsed.Round(time.Microsecond))
		switch target {
		case "/review":
			if rows != 50 || !strings.Contains(rec.Body.String(), "第 1 / 200 页") || !strings.Contains(rec.Body.String(), "共 10000 个问题") {
				t.Errorf("first page: %d rows", rows)
			}
		case "/review?status=open&page=200":
			if rows != 50 || !strings.Contains(rec.Body.String(), "第 200 / 200 页") || !strings.Contains(rec.Body.String(), "测试问题第9999号") {
				t.Errorf("last page: %d rows", rows)
			}
		}
	}
}

func TestSecureCookieOption(t *testing.T) {
	now := fixedNow
	ts := mustStartServerWithOptions(t, &now, api.Options{SecureCookies: true})
	if _, err := ts.env.Store.CreateUser(t.Context(), "admin", kb.RoleAdmin, "", "password-1"); err != nil {
		t.Fatal(err)
	}
	if c := ts.login(t, "admin", "password-1"); !c.Secure {
		t.Errorf("session cookie not Secure with SecureCookies: %+v", c)
	}
}

func TestLoginAttemptsAreLimited(t *testing.T) {
	ts := mustStartServer(t)
	var last int
	for i := 0; i < 12; i++ {
		last = ts.page(t, "POST", "/review/login", nil, url.Values{"name": {"nobody"}, "password": {"guess"}}).Code
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("12th login attempt: status %d, want 429", last)
	}
}

// An open question the KB has learnt to answer since it was asked shows so
// in the list, in the API and on the page, naming the entry to link it to.
func TestReviewListShowsQuestionsTheKBNowAnswers(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	if _, err := ts.env.Store.CreateUser(t.Context(), "admin", kb.RoleAdmin, "", "password-1"); err != nil {
		t.Fatal(err)
	}
	learnt := ts.ask(t, "医疗器械注册证能抵押贷款吗").Unanswered
	still := ts.ask(t, "医疗器械广告审查找哪个部门").Unanswered
	if learnt == nil || still == nil || learnt.ID == still.ID {
		t.Fatalf("want two items: %+v %+v", learnt, still)
	}
	var e kb.Entry
	ts.call(t, "POST", "/api/v1/entries", admin, `{"column":"faq","title":"医疗器械注册证可以抵押贷款吗？","content":"答复口径示例","department":"器械注册处"}`, 201, &e)
	// As /ask does, an expired entry is passed over for the next live one,
	// though it has the very wording.
	expiring := ts.ask(t, "医疗器械说明书可以只用英文吗").Unanswered
	if expiring == nil {
		t.Fatal("want an unanswered question")
	}
	var old, current kb.Entry
	ts.call(t, "POST", "/api/v1/entries", admin, `{"column":"notice","title":"医疗器械说明书可以只用英文吗","content":"旧通知","department":"器械注册处","fields":{"published_on":"2019-01-01","expires_on":"2020-01-01"}}`, 201, &old)
	ts.call(t, "POST", "/api/v1/entries", admin, `{"column":"faq","title":"医疗器械说明书能不能只用英文？","content":"答复口径示例","department":"器械注册处"}`, 201, &current)

	var list itemList
	ts.call(t, "GET", "/api/v1/unanswered?status=open", admin, "", 200, &list)
	for _, it := range list.Items {
		switch it.ID {
		case learnt.ID:
			if it.AnswerableBy == nil || it.AnswerableBy.EntryID != e.ID || it.AnswerableBy.Confidence < 0.5 {
				t.Errorf("item %d: answerable_by = %+v, want entry %d", it.ID, it.AnswerableBy, e.ID)
			}
		case still.ID:
			if it.AnswerableBy != nil {
				t.Errorf("item %d: answerable_by = %+v, want none", it.ID, it.AnswerableBy)
			}
		case expiring.ID:
			if it.AnswerableBy == nil || it.AnswerableBy.EntryID != current.ID {
				t.Errorf("item %d: answerable_by = %+v, want entry %d, not the expired %d", it.ID, it.AnswerableBy, current.ID, old.ID)
			}
		}
	}
	body := ts.page(t, "GET", "/review", ts.login(t, "admin", "password-1"), nil).Body.String()
	row := body[strings.Index(body, fmt.Sprintf(`data-item="%d"`, learnt.ID)):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "知识库已能答复") || !strings.Contains(row, fmt.Sprintf("条目 %d", e.ID)) {
		t.Errorf("list row lacks the hint: %s", row)
	}
	if other := body[strings.Index(body, fmt.Sprintf(`data-item="%d"`, still.ID)):]; strings.Contains(other[:strings.Index(other, "</tr>")], "知识库已能答复") {
		t.Error("an item the KB cannot answer shows the hint")
	}
}

// An answer marked unhelpful is fixed from what it says now: the page
// shows the person's comment and a form filled with the entry's title and
// answer, and saving it edits the answer without touching the title.
func TestImprovingAnAnswerStartsFromIt(t *testing.T) {
	ts := mustStartServer(t)
	if _, err := ts.env.Store.CreateUser(t.Context(), "admin", kb.RoleAdmin, "", "password-1"); err != nil {
		t.Fatal(err)
	}
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	answered := ts.ask(t, "二类械注册要交哪些材料")
	if !answered.Answered {
		t.Fatalf("want an answer: %+v", answered)
	}
	var before kb.Entry
	ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", answered.Answer.EntryID), admin, "", 200, &before)
	var fb kb.FeedbackResult
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":false,"comment":"没有说清楚要交几份材料"}`, answered.QueryID, answered.FeedbackToken), 200, &fb)

	var item kb.ReviewItemView
	ts.call(t, "GET", fmt.Sprintf("/api/v1/unanswered/%d", fb.ReviewItemID), admin, "", 200, &item)
	if n := len(item.Events); n == 0 || item.Events[n-1].Action != "feedback" || item.Events[n-1].Detail != "没有说清楚要交几份材料" {
		t.Errorf("the comment is not in the item's trail: %+v", item.Events)
	}
	cookie := ts.login(t, "admin", "password-1")
	page := ts.page(t, "GET", fmt.Sprintf("/review/items/%d", fb.ReviewItemID), cookie, nil).Body.String()
	firstLine := strings.SplitN(before.Content, "\n", 2)[0]
	for _, want := range []string{fmt.Sprintf("修改条目 #%d 的答复口径", before.ID), `value="` + html.EscapeString(before.Title) + `"`,
		html.EscapeString(firstLine), "用户反馈答复无用：没有说清楚要交几份材料"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "补充答复口径</h2>") {
		t.Error("the page offers a new answer for an answer to fix")
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	rec := ts.page(t, "POST", fmt.Sprintf("/review/items/%d/answer", fb.ReviewItemID), cookie,
		url.Values{"csrf": {csrf}, "title": {before.Title}, "content": {before.Content + "\n各一份。"}, "similar": {""}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", rec.Code, rec.Body.String())
	}
	var after kb.Entry
	ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", before.ID), admin, "", 200, &after)
	if after.Title != before.Title || after.Content != before.Content+"\n各一份。" || after.Column != before.Column {
		t.Errorf("entry after the fix: %q %q %s", after.Title, after.Content, after.Column)
	}
}

// reviewSession logs an admin in and returns the session cookie and the
// form token of a page it reads.
func (ts *testServer) reviewSession(t *testing.T) (cookie *http.Cookie, csrf string) {
	t.Helper()
	if _, err := ts.env.Store.CreateUser(t.Context(), "admin", kb.RoleAdmin, "", "password-1"); err != nil {
		t.Fatal(err)
	}
	cookie = ts.login(t, "admin", "password-1")
	m := csrfField.FindStringSubmatch(ts.page(t, "GET", "/review", cookie, nil).Body.String())
	if m == nil {
		t.Fatal("no csrf token on the list")
	}
	return cookie, m[1]
}

// section returns the part of body from the first from to the next to.
func section(t *testing.T, body, from, to string) string {
	t.Helper()
	i := strings.Index(body, from)
	if i < 0 {
		t.Fatalf("page lacks %q", from)
	}
	s := body[i:]
	if j := strings.Index(s, to); j >= 0 {
		s = s[:j]
	}
	return s
}

var confidenceCell = regexp.MustCompile(`<td>(\d+\.\d)%</td>`)

// The forms ask for an item's or an entry's number, so the page shows
// them; the closest entries are listed likeliest first, each with a
// one-click link.
func TestReviewPageShowsNumbersAndSortsClosestEntries(t *testing.T) {
	ts := mustStartServer(t)
	cookie, _ := ts.reviewSession(t)
	item := ts.ask(t, "化妆品工厂的污水排放标准是多少").Unanswered
	if item == nil {
		t.Fatal("want an unanswered question")
	}
	list := ts.page(t, "GET", "/review", cookie, nil).Body.String()
	row := section(t, list, fmt.Sprintf(`data-item="%d"`, item.ID), "</tr>")
	if !strings.Contains(row, fmt.Sprintf(`<td class="item-id">#%d</td>`, item.ID)) {
		t.Errorf("the list row does not show the item's number: %s", row)
	}

	page := ts.page(t, "GET", fmt.Sprintf("/review/items/%d", item.ID), cookie, nil).Body.String()
	if !strings.Contains(page, fmt.Sprintf(`<dt>问题编号</dt><dd class="item-id">#%d</dd>`, item.ID)) {
		t.Error("the item page does not show the item's number")
	}
	closest := section(t, page, "<h2>最接近的知识库条目</h2>", "</table>")
	rows := strings.Split(closest, "<tr data-entry=")[1:]
	if len(rows) < 3 {
		t.Fatalf("want several closest entries, got %d: %s", len(rows), closest)
	}
	var got []float64
	for _, r := range rows {
		id := strings.Trim(r[:strings.Index(r, ">")], `"`)
		if !strings.Contains(r, `<td class="entry-id">#`+id+`</td>`) {
			t.Errorf("row of entry %s does not show its number: %s", id, r)
		}
		if !strings.Contains(r, `name="entry_id" value="`+id+`"`) || !strings.Contains(r, "关联此条目") {
			t.Errorf("row of entry %s has no one-click link: %s", id, r)
		}
		m := confidenceCell.FindStringSubmatch(r)
		if m == nil {
			t.Fatalf("row without a confidence: %s", r)
		}
		var f float64
		fmt.Sscanf(m[1], "%g", &f)
		got = append(got, f)
	}
	for i := 1; i < len(got); i++ {
		if got[i] > got[i-1] {
			t.Errorf("closest entries not sorted by confidence, highest first: %v", got)
			break
		}
	}
}

// An answer to improve may be reassigned or dismissed like any open item,
// as the API allows; a closed item offers no action.
func TestImproveItemOffersEveryAction(t *testing.T) {
	ts := mustStartServer(t)
	cookie, csrf := ts.reviewSession(t)
	answered := ts.ask(t, "二类械注册要交哪些材料")
	if !answered.Answered {
		t.Fatalf("want an answer: %+v", answered)
	}
	var fb kb.FeedbackResult
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":false}`, answered.QueryID, answered.FeedbackToken), 200, &fb)
	itemURL := fmt.Sprintf("/review/items/%d", fb.ReviewItemID)

	page := ts.page(t, "GET", itemURL, cookie, nil).Body.String()
	actions := section(t, page, `<section class="card two" id="actions">`, "</section>")
	for _, want := range []string{itemURL + "/link", itemURL + "/assign", itemURL + "/dismiss"} {
		if !strings.Contains(actions, `action="`+want+`"`) {
			t.Errorf("the improve item's page lacks the form %s", want)
		}
	}

	rec := ts.page(t, "POST", itemURL+"/assign", cookie, url.Values{"csrf": {csrf}, "department": {"化妆品监管处"}})
	if rec.Code != http.StatusSeeOther || strings.Contains(rec.Header().Get("Location"), "error=") {
		t.Fatalf("assign: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	rec = ts.page(t, "POST", itemURL+"/dismiss", cookie, url.Values{"csrf": {csrf}, "reason": {kb.DismissInvalid}})
	if rec.Code != http.StatusSeeOther || strings.Contains(rec.Header().Get("Location"), "error=") {
		t.Fatalf("dismiss: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	it, err := ts.env.Store.FindReviewItem(t.Context(), fb.ReviewItemID)
	if err != nil || it.Type != kb.ReviewImprove || it.Department != "化妆品监管处" || it.Status != kb.StatusDismissed {
		t.Fatalf("item after assign and dismiss: %+v %v", it, err)
	}
	if page := ts.page(t, "GET", itemURL, cookie, nil).Body.String(); strings.Contains(page, `id="actions"`) || strings.Contains(page, `id="backfill"`) {
		t.Error("a dismissed item still offers actions")
	}
}

// follow reads the page a form post redirected to.
func (ts *testServer) follow(t *testing.T, rec *httptest.ResponseRecorder, cookie *http.Cookie) string {
	t.Helper()
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect: %s", rec.Code, rec.Body)
	}
	next := ts.page(t, "GET", rec.Header().Get("Location"), cookie, nil)
	if next.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d", rec.Header().Get("Location"), next.Code)
	}
	return next.Body.String()
}

// alert returns the error shown on a page, or "".
func alert(body string) string {
	m := regexp.MustCompile(`<p class="error" role="alert">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// The backfill form has no inputs for a phone number or a policy's fields,
// so it offers only the columns it can fill, and the server holds to that.
func TestBackfillOffersOnlyColumnsTheFormCanFill(t *testing.T) {
	ts := mustStartServer(t)
	cookie, csrf := ts.reviewSession(t)
	item := ts.ask(t, "化妆品工厂的污水排放标准是多少").Unanswered
	itemURL := fmt.Sprintf("/review/items/%d", item.ID)
	form := section(t, ts.page(t, "GET", itemURL, cookie, nil).Body.String(), `<select name="column">`, "</select>")
	got := regexp.MustCompile(`<option value="(\w+)"`).FindAllStringSubmatch(form, -1)
	var codes []string
	for _, m := range got {
		codes = append(codes, m[1])
	}
	if strings.Join(codes, ",") != "guide,faq,wiki,notice" {
		t.Errorf("backfill columns = %v, want guide, faq, wiki, notice", codes)
	}
	for _, col := range []string{"hotline", "department", "policy"} {
		body := ts.follow(t, ts.page(t, "POST", itemURL+"/answer", cookie,
			url.Values{"csrf": {csrf}, "column": {col}, "title": {"污水排放标准"}, "content": {"答复口径"}}), cookie)
		if msg := alert(body); !strings.Contains(msg, "请由维护人员上传") || strings.Contains(msg, "phone") {
			t.Errorf("column %s: error = %q", col, msg)
		}
	}
	body := ts.follow(t, ts.page(t, "POST", itemURL+"/answer", cookie,
		url.Values{"csrf": {csrf}, "column": {"notice"}, "title": {"化妆品工厂的污水排放标准是多少"}, "content": {"按地方排放标准执行。"}}), cookie)
	if msg := alert(body); msg != "" || !strings.Contains(body, "已保存为条目") {
		t.Errorf("a notice backfill failed: %q", msg)
	}
}

// Two dismissal reasons silence a question for 90 days, so none is
// preselected and a dismissal without one is refused with a message.
func TestDismissNeedsAnExplicitReason(t *testing.T) {
	ts := mustStartServer(t)
	cookie, csrf := ts.reviewSession(t)
	item := ts.ask(t, "化妆品工厂的污水排放标准是多少").Unanswered
	itemURL := fmt.Sprintf("/review/items/%d", item.ID)
	sel := section(t, ts.page(t, "GET", itemURL, cookie, nil).Body.String(), `<select name="reason"`, "</select>")
	if !strings.Contains(sel, `<select name="reason" required><option value="" selected>请选择驳回原因</option>`) {
		t.Errorf("the reason list does not start with an empty, required choice: %s", sel)
	}
	if n := strings.Count(sel, "selected"); n != 1 {
		t.Errorf("%d options selected, want only the empty one: %s", n, sel)
	}
	body := ts.follow(t, ts.page(t, "POST", itemURL+"/dismiss", cookie, url.Values{"csrf": {csrf}, "reason": {""}}), cookie)
	if msg := alert(body); !strings.HasPrefix(msg, "请选择驳回原因") {
		t.Errorf("error = %q", msg)
	}
	if it, err := ts.env.Store.FindReviewItem(t.Context(), item.ID); err != nil || it.Status != kb.StatusOpen {
		t.Fatalf("item after a dismissal without a reason: %+v %v", it, err)
	}
}

// Errors on the page name fields as reviewers know them, and a number in a
// form that names nothing returns to the item with a message, not a bare
// 404 page.
func TestReviewPageErrorsSpeakTheReviewersLanguage(t *testing.T) {
	ts := mustStartServer(t)
	cookie, csrf := ts.reviewSession(t)
	item := ts.ask(t, "化妆品工厂的污水排放标准是多少").Unanswered
	closed := ts.ask(t, "医疗器械广告审查找哪个部门").Unanswered
	if item == nil || closed == nil || item.ID == closed.ID {
		t.Fatalf("want two items: %+v %+v", item, closed)
	}
	if _, err := ts.env.Service.Dismiss(t.Context(), &kb.Principal{Name: "admin", Role: kb.RoleAdmin}, closed.ID, kb.DismissInvalid, 0); err != nil {
		t.Fatal(err)
	}
	itemURL := fmt.Sprintf("/review/items/%d", item.ID)
	for _, tc := range []struct {
		name    string
		action  string
		form    url.Values
		want    string
		notWant []string
	}{
		{"empty answer", "answer", url.Values{"title": {"化妆品工厂的污水排放标准是多少"}, "content": {" "}},
			"条目无效：内容不能为空", []string{"content"}},
		{"duplicate without a number", "dismiss", url.Values{"reason": {kb.DismissDuplicate}},
			"标记为重复时，请填写要并入的另一个问题的编号", []string{"duplicate_of"}},
		{"duplicate of itself", "dismiss", url.Values{"reason": {kb.DismissDuplicate}, "duplicate_of": {fmt.Sprint(item.ID)}},
			"标记为重复时，请填写要并入的另一个问题的编号", []string{"duplicate_of"}},
		{"duplicate of no item", "dismiss", url.Values{"reason": {kb.DismissDuplicate}, "duplicate_of": {"9999"}},
			"待处理问题 9999 不存在", []string{"duplicate_of"}},
		{"duplicate of a closed item", "dismiss", url.Values{"reason": {kb.DismissDuplicate}, "duplicate_of": {fmt.Sprint(closed.ID)}},
			fmt.Sprintf("问题 #%d 已处理（已驳回），不能并入", closed.ID), nil},
		{"duplicate of a word", "dismiss", url.Values{"reason": {kb.DismissDuplicate}, "duplicate_of": {"三"}},
			"重复时并入的问题编号无效", nil},
		{"link to no entry", "link", url.Values{"entry_id": {"99999"}}, "条目 99999 不存在", []string{"entry_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", csrf)
			rec := ts.page(t, "POST", itemURL+"/"+tc.action, cookie, tc.form)
			if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, itemURL+"?") {
				t.Fatalf("status %d location %q, want back to the item", rec.Code, loc)
			}
			msg := alert(ts.follow(t, rec, cookie))
			if !strings.HasPrefix(msg, tc.want) {
				t.Errorf("error = %q, want %q", msg, tc.want)
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("error %q names the API field %q", msg, w)
				}
			}
		})
	}
	if it, err := ts.env.Store.FindReviewItem(t.Context(), item.ID); err != nil || it.Status != kb.StatusOpen {
		t.Fatalf("item after refused actions: %+v %v", it, err)
	}
	t.Run("an item that does not exist is still not found", func(t *testing.T) {
		rec := ts.page(t, "POST", "/review/items/9999/dismiss", cookie, url.Values{"csrf": {csrf}, "reason": {kb.DismissInvalid}})
		if rec.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", rec.Code)
		}
	})
}

// A link can carry no message of its own onto an official page: the pages
// show only messages the server signed for them.
func TestReviewPageShowsOnlyServerMessages(t *testing.T) {
	ts := mustStartServer(t)
	cookie, csrf := ts.reviewSession(t)
	item := ts.ask(t, "化妆品工厂的污水排放标准是多少").Unanswered
	other := ts.ask(t, "医疗器械广告审查找哪个部门").Unanswered
	itemURL := fmt.Sprintf("/review/items/%d", item.ID)
	const forged = "系统升级，请将账号密码发送至某某邮箱"

	rec := ts.page(t, "POST", itemURL+"/dismiss", cookie, url.Values{"csrf": {csrf}, "reason": {kb.DismissDuplicate}})
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Query().Get("sig") == "" {
		t.Fatalf("the redirect carries no signature: %q", rec.Header().Get("Location"))
	}
	sig := loc.Query().Get("sig")
	if msg := alert(ts.follow(t, rec, cookie)); msg == "" {
		t.Fatal("the server's own message is not shown")
	}
	for _, target := range []string{
		itemURL + "?error=" + url.QueryEscape(forged),
		itemURL + "?done=" + url.QueryEscape(forged),
		itemURL + "?error=" + url.QueryEscape(forged) + "&sig=" + sig,
		itemURL + "?done=" + url.QueryEscape(loc.Query().Get("error")) + "&sig=" + sig,
		fmt.Sprintf("/review/items/%d?%s", other.ID, loc.RawQuery),
		"/review?done=" + url.QueryEscape(forged),
		"/review/proposals?done=" + url.QueryEscape(forged),
	} {
		rec := ts.page(t, "GET", target, cookie, nil)
		body := rec.Body.String()
		if rec.Code != http.StatusOK || strings.Contains(body, forged) || strings.Contains(body, `class="flash"`) || alert(body) != "" {
			t.Errorf("GET %s: status %d, shows a message it did not sign", target, rec.Code)
		}
	}
}

// A message may repeat what a user typed, so a signed link shows its
// message only in the session whose action it answers, and only for ten
// minutes: a reviewer cannot hand an admin a link that puts the
// reviewer's words on the admin's page.
func TestReviewPageMessagesStayInTheirSession(t *testing.T) {
	now := fixedNow
	ts := mustStartServerWithClock(t, &now)
	admin, _ := ts.reviewSession(t)
	if _, err := ts.env.Store.CreateUser(t.Context(), "reviewer", kb.RoleReviewer, "化妆品监管处", "password-1"); err != nil {
		t.Fatal(err)
	}
	reviewer := ts.login(t, "reviewer", "password-1")
	m := csrfField.FindStringSubmatch(ts.page(t, "GET", "/review", reviewer, nil).Body.String())
	if m == nil {
		t.Fatal("no csrf token on the reviewer's list")
	}
	csrf := m[1]
	item := ts.ask(t, "化妆品工厂的污水排放标准是多少").Unanswered
	if item == nil || item.Department != "化妆品监管处" {
		t.Fatalf("want an unanswered question for 化妆品监管处: %+v", item)
	}
	itemURL := fmt.Sprintf("/review/items/%d", item.ID)
	const phishing = "【系统通知】账号将停用，请立即把密码发到 it-help@example.com 以保留权限。"

	refused := ts.page(t, "POST", itemURL+"/answer", reviewer, url.Values{"csrf": {csrf}, "title": {"污水排放标准"},
		"content": {"按地方排放标准执行。"}, "department": {phishing}})
	refusedURL := refused.Header().Get("Location")
	if !strings.Contains(refusedURL, "error=") {
		t.Fatalf("a backfill for another department was not refused: %d %q", refused.Code, refusedURL)
	}
	if msg := alert(ts.follow(t, refused, reviewer)); !strings.HasPrefix(msg, "无权操作") || strings.Contains(msg, "example.com") {
		t.Errorf("the reviewer's own refusal = %q, want it quoted and cut short", msg)
	}
	otherLogin := ts.login(t, "reviewer", "password-1") // the same user, another login
	dismissed := ts.page(t, "POST", itemURL+"/dismiss", reviewer, url.Values{"csrf": {csrf}, "reason": {kb.DismissInvalid}})
	doneURL := dismissed.Header().Get("Location")
	if !strings.Contains(doneURL, "done=") {
		t.Fatalf("dismiss: %d %q", dismissed.Code, doneURL)
	}

	for _, tc := range []struct {
		name   string
		target string
		cookie *http.Cookie
	}{
		{"a refusal opened by another user", refusedURL, admin},
		{"a success opened by another user", doneURL, admin},
		{"a refusal opened in another login of the same user", refusedURL, otherLogin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.page(t, "GET", tc.target, tc.cookie, nil)
			body := rec.Body.String()
			if rec.Code != http.StatusOK || strings.Contains(body, "系统通知") || strings.Contains(body, `class="flash"`) || alert(body) != "" {
				t.Errorf("GET %s: status %d, shows another session's message: %q", tc.target, rec.Code, alert(body))
			}
		})
	}

	t.Run("a message expires after ten minutes", func(t *testing.T) {
		now = fixedNow.Add(9 * time.Minute)
		if body := ts.page(t, "GET", doneURL, reviewer, nil).Body.String(); !strings.Contains(body, `class="flash"`) {
			t.Error("a nine-minute-old message is not shown to its own session")
		}
		now = fixedNow.Add(11 * time.Minute)
		body := ts.page(t, "GET", doneURL, reviewer, nil).Body.String()
		if strings.Contains(body, `class="flash"`) || alert(body) != "" {
			t.Error("an eleven-minute-old message is still shown")
		}
	})
	t.Run("an issue time moved on is refused", func(t *testing.T) {
		now = fixedNow
		loc, _ := url.Parse(doneURL)
		q := loc.Query()
		q.Set("at", fmt.Sprint(fixedNow.Add(5*time.Minute).Unix()))
		body := ts.page(t, "GET", itemURL+"?"+q.Encode(), reviewer, nil).Body.String()
		if strings.Contains(body, `class="flash"`) {
			t.Error("a message whose issue time was changed is shown")
		}
	})
}

// The on-time columns count dismissals as well as answers (docs/stats.md),
// so they say 处理, not 补充.
func TestStatsPanelSaysWhatItCounts(t *testing.T) {
	ts := mustStartServer(t)
	cookie, _ := ts.reviewSession(t)
	item := ts.ask(t, "化妆品工厂的污水排放标准是多少").Unanswered
	if _, err := ts.env.Service.Dismiss(t.Context(), &kb.Principal{Name: "admin", Role: kb.RoleAdmin}, item.ID, kb.DismissInvalid, 0); err != nil {
		t.Fatal(err)
	}
	body := ts.page(t, "GET", "/review", cookie, nil).Body.String()
	if strings.Contains(body, "补充率") || strings.Contains(body, "补充</th>") {
		t.Error("the panel still calls closures 补充")
	}
	if !strings.Contains(body, "按时处理率</span> 100.0%") {
		t.Error("the panel lacks 按时处理率 100.0% after one dismissal on time")
	}
	header := section(t, body, `<table class="depts">`, "</thead>")
	if !strings.Contains(header, ">按时处理</th>") || !strings.Contains(header, ">逾期处理</th>") {
		t.Errorf("department table header: %s", header)
	}
	row := section(t, body, "<tr><td>"+item.Department+"</td>", "</tr>")
	if !strings.Contains(row, "<td>1</td><td>0</td>") {
		t.Errorf("the dismissal is not counted as handled on time: %s", row)
	}
}

func TestDisabledUserIsLockedOut(t *testing.T) {
	ts := mustStartServer(t)
	ctx := t.Context()
	for _, name := range []string{"leaver", "colleague"} {
		if _, err := ts.env.Store.CreateUser(ctx, name, kb.RoleReviewer, "器械注册处", "password-1"); err != nil {
			t.Fatal(err)
		}
	}
	session := ts.login(t, "leaver", "password-1")
	other := ts.login(t, "colleague", "password-1")
	if rec := ts.page(t, "GET", "/review", session, nil); rec.Code != http.StatusOK {
		t.Fatalf("before disabling: status %d", rec.Code)
	}
	if err := ts.env.Store.DisableUser(ctx, "leaver"); err != nil {
		t.Fatal(err)
	}

	t.Run("the open session stops at once", func(t *testing.T) {
		rec := ts.page(t, "GET", "/review", session, nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/review/login" {
			t.Fatalf("status %d, location %q, want a redirect to the login page", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("the password no longer logs in", func(t *testing.T) {
		rec := ts.page(t, "POST", "/review/login", nil, url.Values{"name": {"leaver"}, "password": {"password-1"}})
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "用户名或密码错误") {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == "xs_session" && c.Value != "" {
				t.Error("a disabled user got a session cookie")
			}
		}
	})
	t.Run("other users keep working", func(t *testing.T) {
		if rec := ts.page(t, "GET", "/review", other, nil); rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	})
}
