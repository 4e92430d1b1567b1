package api_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"xiaoshen/kb"
)

// call sends a JSON request with an optional bearer token and decodes the
// response into out.
func (ts *testServer) call(t *testing.T, method, url, token, body string, wantStatus int, out any) string {
	t.Helper()
	rec := ts.send(method, url, token, body)
	if rec.Code != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, rec.Code, wantStatus, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, rec.Body)
		}
	}
	return rec.Body.String()
}

// send makes a JSON request and returns the response; unlike call it
// asserts nothing, so that goroutines may use it.
func (ts *testServer) send(method, url, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	return rec
}

func (ts *testServer) mustToken(t *testing.T, name, role, department string) string {
	t.Helper()
	_, tok, err := ts.env.Store.CreateToken(t.Context(), name, role, department)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (ts *testServer) ask(t *testing.T, q string) kb.AskResult {
	t.Helper()
	var res kb.AskResult
	body, _ := json.Marshal(kb.AskRequest{Question: q})
	ts.call(t, "POST", "/api/v1/ask", "", string(body), 200, &res)
	return res
}

type itemList struct {
	Total int                 `json:"total"`
	Items []kb.ReviewItemView `json:"items"`
}

func TestThreeWordingsOneItemThenBackfill(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	wordings := []string{"护照过期了怎么办", "护照过期了该怎么办？", "请问护照过期怎么办呢"}
	var itemID int64
	for i, q := range wordings {
		res := ts.ask(t, q)
		if res.Answered || res.Unanswered == nil {
			t.Fatalf("%q: answered=%v", q, res.Answered)
		}
		if i == 0 {
			itemID = res.Unanswered.ID
		} else if res.Unanswered.ID != itemID {
			t.Errorf("%q made item %d, want it grouped into %d", q, res.Unanswered.ID, itemID)
		}
		if got := res.Unanswered.DueAt.Format(time.RFC3339); got != "2024-10-10T23:59:59+08:00" {
			t.Errorf("due = %s", got)
		}
	}
	var item kb.ReviewItemView
	ts.call(t, "GET", fmt.Sprintf("/api/v1/unanswered/%d", itemID), admin, "", 200, &item)
	if item.Occurrences != 3 || len(item.Questions) != 3 {
		t.Fatalf("occurrences = %d, questions = %v", item.Occurrences, item.Questions)
	}
	if item.WorkingDaysLeft != 5 || item.Overdue || item.Status != kb.StatusOpen {
		t.Errorf("item state: %+v", item)
	}

	var backfilled struct {
		EntryID int64             `json:"entry_id"`
		Item    kb.ReviewItemView `json:"item"`
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", itemID), admin,
		`{"content":"护照签发换发由出入境管理部门办理，不属于药品监管部门职责，请咨询12345。","department":"综合处"}`, 200, &backfilled)
	if backfilled.Item.Status != kb.StatusAnswered || backfilled.Item.ClosedOnTime == nil || !*backfilled.Item.ClosedOnTime {
		t.Errorf("closed item: %+v", backfilled.Item)
	}
	for _, q := range wordings {
		res := ts.ask(t, q)
		if !res.Answered || res.Answer.EntryID != backfilled.EntryID {
			t.Errorf("%q after backfill: answered=%v confidence=%.2f", q, res.Answered, res.Confidence)
		}
	}
	// Closing twice is a conflict, not a second entry.
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", itemID), admin, `{"content":"再答一次"}`, 409, nil)
}

func TestDifferentIntentsStaySeparate(t *testing.T) {
	ts := mustStartServer(t)
	pairs := [][2]string{
		{"宠物医院执业许可怎么办理", "宠物医院执业许可收费吗"},
		{"兽药经营许可证需要什么材料", "兽药经营许可证多久能办下来"},
	}
	for _, p := range pairs {
		a, b := ts.ask(t, p[0]), ts.ask(t, p[1])
		if a.Answered || b.Answered {
			t.Fatalf("uncovered questions answered: %v %v", a.Answered, b.Answered)
		}
		if a.Unanswered.ID == b.Unanswered.ID {
			t.Errorf("%q and %q were merged into item %d", p[0], p[1], a.Unanswered.ID)
		}
	}
	// The same question again joins its own item, in both directions.
	for _, p := range pairs {
		for _, q := range p {
			first, again := ts.ask(t, q), ts.ask(t, q+"？")
			if first.Unanswered.ID != again.Unanswered.ID {
				t.Errorf("%q repeated made a new item", q)
			}
		}
	}
}

func TestDepartmentScope(t *testing.T) {
	ts := mustStartServer(t)
	device := ts.mustToken(t, "器械审核员", kb.RoleReviewer, "器械注册处")
	cosmetics := ts.mustToken(t, "化妆品审核员", kb.RoleReviewer, "化妆品监管处")
	res := ts.ask(t, "化妆品生产许可证能不能转让给别的公司")
	if res.Answered {
		t.Fatalf("the question was answered by the corpus (%+v); pick another uncovered cosmetics question", res.Answer)
	}
	if res.Unanswered.Department != "化妆品监管处" {
		t.Fatalf("routed to %s, want 化妆品监管处", res.Unanswered.Department)
	}
	if res.Fallback == nil || strings.Contains(res.Fallback.Message, "其他部门") {
		t.Errorf("a question a department here owns is told it may be another's: %+v", res.Fallback)
	}
	// A question about another matter of the same products (the distribution
	// of devices, not their registration) is the 综合处's to send on.
	for _, q := range []string{"药品网络销售要不要备案", "开药店需要什么条件"} {
		if other := ts.ask(t, q); other.Answered || other.Unanswered == nil || other.Unanswered.Department != "综合处" {
			t.Errorf("%s: answered %v, routed to %+v", q, other.Answered, other.Unanswered)
		}
	}
	// A registration question that mentions the production licence asks
	// about two device departments' matters: one of them, or 综合处 to send
	// it on, never another products' department.
	if reg := ts.ask(t, "二类医疗器械注册时要不要先办生产许可"); !reg.Answered {
		if d := reg.Unanswered.Department; d != "器械注册处" && d != "器械监管处" && d != "综合处" {
			t.Errorf("registration question with 生产许可 routed to %s", d)
		}
	}
	id := res.Unanswered.ID
	url := fmt.Sprintf("/api/v1/unanswered/%d", id)
	ts.call(t, "GET", url, cosmetics, "", 200, nil)
	ts.call(t, "GET", url, device, "", 403, nil)
	ts.call(t, "POST", url+"/answer", device, `{"content":"越权答复"}`, 403, nil)
	ts.call(t, "POST", url+"/assign", device, `{"department":"器械注册处"}`, 403, nil)
	ts.call(t, "POST", url+"/dismiss", device, `{"reason":"无效/骚扰"}`, 403, nil)
	ts.call(t, "GET", "/api/v1/unanswered?department=化妆品监管处", device, "", 403, nil)
	ts.call(t, "GET", url, "", "", 401, nil)
	ts.call(t, "GET", url, "xs_not-a-real-token", "", 401, nil)

	var list itemList
	ts.call(t, "GET", "/api/v1/unanswered", device, "", 200, &list)
	for _, it := range list.Items {
		if it.Department != "器械注册处" {
			t.Errorf("device reviewer sees item %d of %s", it.ID, it.Department)
		}
	}
	// A maintainer token is not a reviewer.
	maint := ts.mustToken(t, "维护员", kb.RoleMaintainer, "化妆品监管处")
	ts.call(t, "GET", url, maint, "", 403, nil)

	// Reassignment to a department that does not exist (a typo) is refused,
	// naming those there are; the item stays where it was.
	msg := ts.call(t, "POST", url+"/assign", cosmetics, `{"department":"器械注册外"}`, 400, nil)
	if !strings.Contains(msg, `没有名为\"器械注册外\"的部门；可转派给：`) || !strings.Contains(msg, "器械注册处") {
		t.Errorf("assign to an unknown department: %s", msg)
	}
	if msg := ts.call(t, "POST", url+"/assign", cosmetics, `{"department":" 化妆品监管处 "}`, 400, nil); !strings.Contains(msg, "无须转派") {
		t.Errorf("assign to the item's own department: %s", msg)
	}
	// Reassignment moves the item and is in the audit trail.
	var moved kb.ReviewItemView
	ts.call(t, "POST", url+"/assign", cosmetics, `{"department":"器械注册处"}`, 200, &moved)
	if moved.Department != "器械注册处" {
		t.Fatalf("assign: %+v", moved)
	}
	ts.call(t, "GET", url, device, "", 200, nil)
	ts.call(t, "GET", url, cosmetics, "", 403, nil)
	events, err := ts.env.Store.ReviewEvents(t.Context(), id)
	if err != nil || len(events) < 2 || events[len(events)-1].Action != "assigned" || events[len(events)-1].Actor != "化妆品审核员" {
		t.Errorf("audit trail: %+v %v", events, err)
	}
}

func TestDismissAndMerge(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	a := ts.ask(t, "公积金怎么提取").Unanswered.ID
	b := ts.ask(t, "住房公积金提取需要哪些手续").Unanswered.ID
	c := ts.ask(t, "你们是机器人吗哈哈哈").Unanswered.ID
	if a == b {
		t.Fatal("two different questions were grouped into one item")
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/dismiss", c), admin, `{"reason":"随便"}`, 400, nil)
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/dismiss", c), admin, `{"reason":"无效/骚扰"}`, 200, nil)
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/dismiss", b), admin, `{"reason":"重复"}`, 400, nil)
	var merged kb.ReviewItemView
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/dismiss", b), admin, fmt.Sprintf(`{"reason":"重复","duplicate_of":%d}`, a), 200, &merged)
	if merged.Status != kb.StatusDismissed || merged.DuplicateOf != a {
		t.Errorf("dismissed duplicate: %+v", merged)
	}
	var target kb.ReviewItemView
	ts.call(t, "GET", fmt.Sprintf("/api/v1/unanswered/%d", a), admin, "", 200, &target)
	if target.Occurrences != 2 || len(target.Questions) != 2 {
		t.Errorf("merged target: occurrences %d, questions %v", target.Occurrences, target.Questions)
	}
	var open itemList
	ts.call(t, "GET", "/api/v1/unanswered?status=open", admin, "", 200, &open)
	if open.Total != 1 || open.Items[0].ID != a {
		t.Errorf("open items: %+v", open)
	}
}

func TestFeedbackSuggestionsAndStats(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")

	answered := ts.ask(t, "二类械注册要交哪些材料")
	if !answered.Answered {
		t.Fatal("covered question not answered")
	}
	helpful := ts.ask(t, "化妆品生产许可证的有效期是多久？")
	uncovered := ts.ask(t, "护照过期了怎么办")

	// An unhelpful answer opens a 答案待改进 item with its own deadline.
	var fb kb.FeedbackResult
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":false,"comment":"没说清楚"}`, answered.QueryID, answered.FeedbackToken), 200, &fb)
	if fb.ReviewItemID == 0 {
		t.Fatal("unhelpful answer opened no review item")
	}
	var improve kb.ReviewItemView
	ts.call(t, "GET", fmt.Sprintf("/api/v1/unanswered/%d", fb.ReviewItemID), admin, "", 200, &improve)
	if improve.Type != kb.ReviewImprove || improve.AnswerEntryID != answered.Answer.EntryID || improve.DueAt.Format(time.RFC3339) != "2024-10-10T23:59:59+08:00" {
		t.Errorf("improve item: %+v", improve)
	}
	// Saving the answer as it is would close the complaint without a change.
	entry, err := ts.env.Store.FindEntry(t.Context(), answered.Answer.EntryID)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := json.Marshal(map[string]string{"title": entry.Title, "content": entry.Content})
	if msg := ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", fb.ReviewItemID), admin, string(same), 400, nil); !strings.Contains(msg, "答复口径没有改动") {
		t.Errorf("unchanged answer saved: %s", msg)
	}
	ts.call(t, "GET", fmt.Sprintf("/api/v1/unanswered/%d", fb.ReviewItemID), admin, "", 200, &improve)
	if improve.Status != kb.StatusOpen {
		t.Errorf("the improve item was closed by an unchanged answer: %+v", improve)
	}
	// A question still unanswered has no answer to find right.
	if msg := ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/dismiss", uncovered.Unanswered.ID), admin, `{"reason":"答复无误"}`, 400, nil); !strings.Contains(msg, "只用于答案待改进的问题") {
		t.Errorf("答复无误 on an unanswered question: %s", msg)
	}
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":true}`, answered.QueryID, answered.FeedbackToken), 409, nil)
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":true}`, helpful.QueryID, helpful.FeedbackToken), 200, nil)
	ts.call(t, "POST", "/api/v1/feedback", "", `{"query_id":99999,"helpful":true}`, 404, nil)
	ts.call(t, "POST", "/api/v1/feedback", "", `{"query_id":1}`, 400, nil)

	// A suggestion the person picks counts as resolved and proposes the wording.
	var suggested kb.AskResult
	asked, answeredCount := 3, 2 // so far: answered, helpful, uncovered
	for _, q := range []string{"二类械证书过期了还能卖吗", "医疗器械注册证到期以后产品还能继续销售吗", "械字号到期了咋整"} {
		r := ts.ask(t, q)
		asked++
		if r.Answered {
			answeredCount++
		}
		if !r.Answered && len(r.Suggestions) > 0 {
			suggested = r
			break
		}
	}
	if len(suggested.Suggestions) == 0 {
		t.Fatal("no question produced suggestions")
	}
	pick := suggested.Suggestions[0].EntryID
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"selected_entry_id":%d}`, uncovered.QueryID, uncovered.FeedbackToken, pick), 400, nil)
	// Nothing was answered to judge.
	if msg := ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":false}`, uncovered.QueryID, uncovered.FeedbackToken), 400, nil); !strings.Contains(msg, "没有直接答复") {
		t.Errorf("unhelpful on an unanswered question: %s", msg)
	}
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"selected_entry_id":%d}`, suggested.QueryID, suggested.FeedbackToken, pick), 200, &fb)
	if fb.ProposalID == 0 {
		t.Fatal("no proposal made")
	}
	var props struct {
		Proposals []kb.Proposal `json:"proposals"`
	}
	ts.call(t, "GET", "/api/v1/proposals?status=pending", admin, "", 200, &props)
	if len(props.Proposals) != 1 || props.Proposals[0].EntryID != pick {
		t.Fatalf("proposals: %+v", props)
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/proposals/%d/accept", fb.ProposalID), admin, "", 200, nil)
	if r := ts.ask(t, props.Proposals[0].Question); !r.Answered || r.Answer.EntryID != pick {
		t.Errorf("accepted wording not answered with the entry: %+v", r)
	}

	asked, answeredCount = asked+1, answeredCount+1 // the re-ask of the accepted wording
	var st kb.Stats
	ts.call(t, "GET", "/api/v1/stats", admin, "", 200, &st)
	if st.Asked != asked || st.Answered != answeredCount || st.Unanswered != asked-answeredCount || st.Unhelpful != 1 || st.ResolvedBySuggestion != 1 {
		t.Errorf("stats = %+v, want asked %d answered %d", st, asked, answeredCount)
	}
	// (answered - unhelpful + resolved by suggestion) / asked
	if want := float64(int(float64(answeredCount-1+1)/float64(asked)*1000+0.5)) / 1000; st.ResolutionRate != want {
		t.Errorf("resolution rate = %v, want %v", st.ResolutionRate, want)
	}
	if st.ResolutionTarget != 0.5 {
		t.Errorf("target = %v", st.ResolutionTarget)
	}
}

func TestOnTimeAndOverdue(t *testing.T) {
	now := fixedNow
	ts := mustStartServerWithClock(t, &now)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	onTime := ts.ask(t, "医疗器械广告审查找哪个部门").Unanswered
	late := ts.ask(t, "医疗器械注册证能抵押贷款吗").Unanswered
	if onTime == nil || late == nil || onTime.ID == late.ID {
		t.Fatalf("want two items: %+v %+v", onTime, late)
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", onTime.ID), admin, `{"content":"答复口径示例"}`, 200, nil)

	now = time.Date(2024, 10, 11, 9, 0, 0, 0, kb.Shanghai) // the day after the due date
	var overdue itemList
	ts.call(t, "GET", "/api/v1/unanswered?overdue=true", admin, "", 200, &overdue)
	if overdue.Total != 1 || overdue.Items[0].ID != late.ID || !overdue.Items[0].Overdue {
		t.Fatalf("overdue list: %+v", overdue)
	}
	var st kb.Stats
	ts.call(t, "GET", "/api/v1/stats", admin, "", 200, &st)
	if st.OnTimeRate != 0.5 { // one closed on time, one open and overdue
		t.Errorf("on-time rate = %v, want 0.5: %+v", st.OnTimeRate, st.Departments)
	}
	var body struct {
		EntryID int64             `json:"entry_id"`
		Item    kb.ReviewItemView `json:"item"`
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", late.ID), admin, `{"content":"答复口径示例二"}`, 200, &body)
	if body.Item.ClosedOnTime == nil || *body.Item.ClosedOnTime {
		t.Errorf("late backfill marked on time: %+v", body.Item)
	}
	ts.call(t, "GET", "/api/v1/stats?from=2024-09-01&to=2024-10-31", admin, "", 200, &st)
	var closedOnTime, closedLate int
	for _, d := range st.Departments {
		closedOnTime += d.ClosedOnTime
		closedLate += d.ClosedLate
	}
	if closedOnTime != 1 || closedLate != 1 || st.OnTimeRate != 0.5 {
		t.Errorf("closed on time %d, late %d, rate %v", closedOnTime, closedLate, st.OnTimeRate)
	}
	ts.call(t, "GET", "/api/v1/stats?from=2024-10-31&to=2024-09-01", admin, "", 400, nil)
	ts.call(t, "GET", "/api/v1/stats?from=yesterday", admin, "", 400, nil)
}

func TestLinkTeachesTheWordings(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	res := ts.ask(t, "许可证上的字印错了找谁改")
	if res.Answered {
		t.Fatalf("the question was answered by the corpus (%+v); pick another uncovered one", res.Answer)
	}
	entryID := ts.env.ByExternalID["faq-general-licence-lost"]
	var linked struct {
		EntryID int64             `json:"entry_id"`
		Item    kb.ReviewItemView `json:"item"`
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/link", res.Unanswered.ID), admin, fmt.Sprintf(`{"entry_id":%d}`, entryID), 200, &linked)
	if linked.EntryID != entryID || linked.Item.Status != kb.StatusAnswered || linked.Item.EntryID != entryID {
		t.Fatalf("link: %+v", linked)
	}
	e, err := ts.env.Store.FindEntry(t.Context(), entryID)
	if err != nil || !containsString(e.Similar, "许可证上的字印错了找谁改") {
		t.Fatalf("the wording is not a similar question of the entry: %v %v", e.Similar, err)
	}
	if again := ts.ask(t, "许可证上的字印错了找谁改"); !again.Answered || again.Answer.EntryID != entryID {
		t.Errorf("after linking: %+v", again)
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/link", res.Unanswered.ID), admin, `{"entry_id":999999}`, 409, nil)
}

// One question, one entry: a reviewer cannot give a wording to an entry
// when another live entry already has it (or a wording the matcher reads as
// the same), whether by accepting a proposal, linking or backfilling; the
// refusal names the entry that has it.
func TestOneQuestionOneEntry(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	var suggested kb.AskResult
	for _, q := range []string{"二类械证书过期了还能卖吗", "医疗器械注册证到期以后产品还能继续销售吗", "械字号到期了咋整"} {
		if r := ts.ask(t, q); !r.Answered && len(r.Suggestions) > 0 {
			suggested = r
			break
		}
	}
	if len(suggested.Suggestions) == 0 || suggested.Unanswered == nil {
		t.Fatal("no question produced suggestions")
	}
	var fb kb.FeedbackResult
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"selected_entry_id":%d}`, suggested.QueryID, suggested.FeedbackToken, suggested.Suggestions[0].EntryID), 200, &fb)
	// The reviewer writes the answer for the question: a new entry has its wording.
	wording := firstWording(t, ts, admin, suggested.Unanswered.ID)
	var backfilled struct {
		EntryID int64 `json:"entry_id"`
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", suggested.Unanswered.ID), admin, `{"content":"答复口径示例"}`, 200, &backfilled)
	if backfilled.EntryID == 0 {
		t.Fatal("no entry backfilled")
	}
	msg := ts.call(t, "POST", fmt.Sprintf("/api/v1/proposals/%d/accept", fb.ProposalID), admin, "", 409, nil)
	if !strings.Contains(msg, fmt.Sprintf("条目 %d", backfilled.EntryID)) || !strings.Contains(msg, "采纳后两个条目会争同一个问题") {
		t.Errorf("accepting a wording another entry has: %s", msg)
	}
	if question := ts.ask(t, wording); !question.Answered || question.Answer.EntryID != backfilled.EntryID {
		t.Errorf("the backfilled wording no longer gets its entry: %+v", question)
	}

	// An entry a maintainer added after the question was recorded has its
	// wording: linking the question elsewhere, or backfilling a second
	// entry, is refused; linking it to that entry is not.
	create := func(title string, similar ...string) int64 {
		body, _ := json.Marshal(map[string]any{"column": "faq", "title": title, "content": "答复口径示例", "department": "器械注册处", "similar_questions": similar})
		var e kb.Entry
		ts.call(t, "POST", "/api/v1/entries", admin, string(body), 201, &e)
		return e.ID
	}
	linkItem := ts.ask(t, "医疗器械注册证能抵押贷款吗").Unanswered
	backfillItem := ts.ask(t, "医疗器械广告审查找哪个部门").Unanswered
	if linkItem == nil || backfillItem == nil || linkItem.ID == backfillItem.ID {
		t.Fatalf("want two items: %+v %+v", linkItem, backfillItem)
	}
	owner := create("医疗器械注册证可以抵押贷款吗？")
	other := create("医疗器械广告审查由哪个部门负责？", "医疗器械广告审查找哪个部门")
	msg = ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/link", linkItem.ID), admin, fmt.Sprintf(`{"entry_id":%d}`, other), 409, nil)
	if !strings.Contains(msg, fmt.Sprintf("条目 %d", owner)) || !strings.Contains(msg, "在小申看来是同一个问题") {
		t.Errorf("linking a wording another entry has: %s", msg)
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/link", linkItem.ID), admin, fmt.Sprintf(`{"entry_id":%d}`, owner), 200, nil)
	msg = ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", backfillItem.ID), admin, `{"content":"答复口径示例"}`, 409, nil)
	if !strings.Contains(msg, fmt.Sprintf("请改为关联条目 %d", other)) {
		t.Errorf("backfilling a wording another entry has: %s", msg)
	}

	// Improving an answer checks only the wordings it adds: a clash the
	// entry had already (uploads only warn) does not block a better answer.
	first := create("医疗器械注册证可以质押融资吗？", "注册证能不能拿去质押")
	create("医疗器械注册证质押要办什么手续？", "注册证能不能拿去质押")
	answered := ts.ask(t, "医疗器械注册证可以质押融资吗？")
	if !answered.Answered || answered.Answer.EntryID != first {
		t.Fatalf("want entry %d: %+v", first, answered)
	}
	var unhelpful kb.FeedbackResult
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":false}`, answered.QueryID, answered.FeedbackToken), 200, &unhelpful)
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", unhelpful.ReviewItemID), admin, `{"content":"更好的答复口径"}`, 200, nil)
	third := ts.ask(t, "医疗器械说明书可以只用英文吗").Unanswered
	if third == nil {
		t.Fatal("want an unanswered question")
	}
	msg = ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", third.ID), admin,
		`{"content":"答复口径示例","similar_questions":["注册证能不能拿去质押"]}`, 409, nil)
	if !strings.Contains(msg, "注册证能不能拿去质押") {
		t.Errorf("a backfill adding a wording two entries have: %s", msg)
	}
}

// firstWording is the question of review item id.
func firstWording(t *testing.T, ts *testServer, token string, id int64) string {
	t.Helper()
	var it kb.ReviewItemView
	ts.call(t, "GET", fmt.Sprintf("/api/v1/unanswered/%d", id), token, "", 200, &it)
	return it.Question
}

// A question reviewers dismissed as out of scope or invalid, asked again,
// is told plainly that no answer will follow and opens no new item with a
// deadline; after dismissalMemory it opens one again. A question merely
// near it still opens its own item.
func TestDismissedQuestionsAskedAgain(t *testing.T) {
	now := fixedNow
	ts := mustStartServerWithClock(t, &now)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	openItems := func() int {
		var list itemList
		ts.call(t, "GET", "/api/v1/unanswered?status=open", admin, "", 200, &list)
		return list.Total
	}
	weather := ts.ask(t, "今天天气怎么样").Unanswered
	abuse := ts.ask(t, "你们都是骗子吧").Unanswered
	if weather == nil || abuse == nil || weather.ID == abuse.ID {
		t.Fatalf("want two items: %+v %+v", weather, abuse)
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/dismiss", weather.ID), admin, `{"reason":"超出本单位职能"}`, 200, nil)
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/dismiss", abuse.ID), admin, `{"reason":"无效/骚扰"}`, 200, nil)
	open := openItems()

	again := ts.ask(t, "请问今天天气怎么样？")
	if again.Answered || again.Unanswered != nil || again.QueryID == 0 || again.Fallback == nil ||
		!strings.Contains(again.Fallback.Message, "不属于本单位办理的事项，小申不会另行答复") || len(again.Fallback.Hotlines) == 0 {
		t.Errorf("out of scope, asked again: %+v", again)
	}
	if r := ts.ask(t, "你们都是骗子吧"); r.Unanswered != nil || r.Fallback == nil || !strings.Contains(r.Fallback.Message, "小申无法回答这个问题") {
		t.Errorf("invalid, asked again: %+v", r)
	}
	if openItems() != open {
		t.Errorf("open items %d → %d", open, openItems())
	}
	var item kb.ReviewItemView
	ts.call(t, "GET", fmt.Sprintf("/api/v1/unanswered/%d", weather.ID), admin, "", 200, &item)
	if item.Status != kb.StatusDismissed || item.Occurrences != 2 || len(item.Wordings) != 2 {
		t.Errorf("the dismissed item counts the question asked again: %+v", item)
	}
	if r := ts.ask(t, "医疗器械注册证能抵押贷款吗"); r.Unanswered == nil {
		t.Errorf("an unrelated question opens no item: %+v", r)
	}

	now = now.Add(91 * 24 * time.Hour)
	if r := ts.ask(t, "今天天气怎么样"); r.Unanswered == nil || r.Unanswered.ID == weather.ID {
		t.Errorf("after the dismissal's memory: %+v", r)
	}
}

// Reviewers working at the same moment: backfills that would give one
// question to several entries let exactly one through, and links of
// several questions to one entry keep every question.
func TestConcurrentReviewersKeepOneQuestionOneEntry(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	questions := []string{"护照过期了怎么办", "驾驶证到期怎么换证", "社保卡丢了去哪里补", "公积金怎么提取出来",
		"户口迁移要带什么证件", "结婚登记去哪里办", "出租车发票怎么开", "养老金每个月几号发"}
	items := make([]int64, len(questions))
	for i, q := range questions {
		res := ts.ask(t, q)
		if res.Answered || res.Unanswered == nil {
			t.Fatalf("%q was answered by the corpus; pick another uncovered question", q)
		}
		items[i] = res.Unanswered.ID
	}
	if len(slices.Compact(slices.Sorted(slices.Values(items)))) != len(items) {
		t.Fatalf("the questions share review items: %v", items)
	}

	// Four reviewers answer four items with one title at once.
	codes := make([]int, 4)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			body := `{"title":"证件到期了在哪里换新证？","content":"答复口径示例","similar_questions":[]}`
			codes[i] = ts.send("POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", items[i]), admin, body).Code
		})
	}
	wg.Wait()
	if slices.Sort(codes); !slices.Equal(codes, []int{200, 409, 409, 409}) {
		t.Errorf("four backfills of one wording at once: statuses %v, want one 200 and three 409", codes)
	}

	// Four reviewers link the other four items to one entry at once.
	entryID := ts.env.ByExternalID["faq-general-licence-lost"]
	codes = make([]int, 4)
	for i := range codes {
		wg.Go(func() {
			codes[i] = ts.send("POST", fmt.Sprintf("/api/v1/unanswered/%d/link", items[4+i]), admin, fmt.Sprintf(`{"entry_id":%d}`, entryID)).Code
		})
	}
	wg.Wait()
	if !slices.Equal(codes, []int{200, 200, 200, 200}) {
		t.Errorf("four links to one entry at once: statuses %v", codes)
	}
	e, err := ts.env.Store.FindEntry(t.Context(), entryID)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range questions[4:] {
		if !containsString(e.Similar, q) {
			t.Errorf("linked question %q was lost from the entry's similar questions: %v", q, e.Similar)
		}
	}
}

// An edit made from an old read of an entry is refused rather than undoing
// the change made since; an edit without a version replaces as before.
func TestUpdateFromAnOldVersionIsRefused(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	var e kb.Entry
	ts.call(t, "POST", "/api/v1/entries", admin, `{"column":"faq","title":"药品广告审查要多久？","content":"答复口径一","department":"药品注册处"}`, 201, &e)
	put := func(content string, version int, want int) string {
		body, _ := json.Marshal(map[string]any{"column": "faq", "title": e.Title, "content": content, "department": e.Department, "version": version})
		return ts.call(t, "PUT", fmt.Sprintf("/api/v1/entries/%d", e.ID), admin, string(body), want, nil)
	}
	put("答复口径二", e.Version, 200) // version 1 → 2
	msg := put("答复口径三", e.Version, 409)
	if !strings.Contains(msg, "已被他人修改") || !strings.Contains(msg, "读取时为第 1 版，现为第 2 版") {
		t.Errorf("stale update: %s", msg)
	}
	if got, _ := ts.env.Store.FindEntry(t.Context(), e.ID); got.Content != "答复口径二" || got.Version != 2 {
		t.Errorf("after a refused stale update: version %d, content %q", got.Version, got.Content)
	}
	put("答复口径三", 0, 200)
	if got, _ := ts.env.Store.FindEntry(t.Context(), e.ID); got.Content != "答复口径三" || got.Version != 3 {
		t.Errorf("update without a version: version %d, content %q", got.Version, got.Content)
	}
}

// English questions are cut into words, not letters: unrelated ones are
// not one review item, and an English entry does not answer them all.
func TestEnglishQuestionsAreWordsNotLetters(t *testing.T) {
	ts := mustStartServer(t)
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	first, second := ts.ask(t, "How do I apply for a cosmetics manufacturing licence?"), ts.ask(t, "Where is your office?")
	if first.Answered || second.Answered || first.Unanswered == nil || second.Unanswered == nil {
		t.Fatalf("English questions answered by the Chinese corpus: %+v %+v", first, second)
	}
	if first.Unanswered.ID == second.Unanswered.ID {
		t.Errorf("two unrelated English questions share review item %d", first.Unanswered.ID)
	}
	ts.call(t, "POST", fmt.Sprintf("/api/v1/unanswered/%d/answer", first.Unanswered.ID), admin, `{"content":"答复口径示例","similar_questions":[]}`, 200, nil)
	if again := ts.ask(t, "How do I apply for a cosmetics manufacturing licence?"); !again.Answered {
		t.Errorf("the backfilled English question is not answered: %+v", again)
	}
	for _, q := range []string{"How much does it cost?", "hello?", "What is the phone number"} {
		if r := ts.ask(t, q); r.Answered {
			t.Errorf("%q answered with %q at %.3f", q, r.Answer.Title, r.Confidence)
		}
	}
}

// A question whose closest entry is a notice past its 失效日期 is told so,
// not only promised a reply: the notice is never the answer.
func TestExpiredNoticeIsNamed(t *testing.T) {
	ts := mustStartServer(t)
	res := ts.ask(t, "2024年春节放假期间行政服务中心开不开门")
	if res.Answered {
		t.Fatalf("answered with %+v, an expired notice or another entry", res.Answer)
	}
	if res.Fallback == nil || !strings.Contains(res.Fallback.Message, "最相关的《关于2024年春节期间行政服务中心办公时间安排的通知》已于2024年2月19日失效，不再作为答复。") {
		t.Errorf("fallback %+v does not name the expired notice", res.Fallback)
	}
	for _, s := range res.Suggestions {
		if strings.Contains(s.Title, "2024年春节") {
			t.Errorf("the expired notice suggested: %+v", s)
		}
	}
	// A question nothing expired comes close to keeps the usual message.
	if other := ts.ask(t, "护照过期了怎么办"); other.Fallback == nil || strings.Contains(other.Fallback.Message, "失效") {
		t.Errorf("护照过期了怎么办: fallback %+v", other.Fallback)
	}
}
