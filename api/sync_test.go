package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"xiaoshen/kb"
)

func syncBody(t *testing.T, req kb.SyncRequest) string {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func faqRows(dept string, n int, prefix string) []kb.SyncRow {
	rows := make([]kb.SyncRow, n)
	for i := range rows {
		rows[i] = kb.SyncRow{File: "faq.xlsx", Row: i + 2, Entry: &kb.Entry{
			ExternalID: fmt.Sprintf("%s-%03d", prefix, i), Column: kb.ColumnFAQ, Title: fmt.Sprintf("%s测试问题%d怎么办理？", prefix, i),
			Content: "答复口径内容", Department: dept, Similar: []string{fmt.Sprintf("%s测试%d咋办", prefix, i)}}}
	}
	return rows
}

func (ts *testServer) entryCount(t *testing.T) int {
	t.Helper()
	n, err := ts.env.Store.CountEntries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSyncIsIdempotentAndAllOrNothing(t *testing.T) {
	ts := mustStartServer(t)
	maint := ts.mustToken(t, "器械维护员", kb.RoleMaintainer, "器械注册处")
	before := ts.entryCount(t)

	req := kb.SyncRequest{Column: kb.ColumnFAQ, Rows: faqRows("", 30, "XS")}
	var dry kb.SyncResult
	req.DryRun = true
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, req), 200, &dry)
	if dry.Created != 30 || dry.Written || ts.entryCount(t) != before {
		t.Fatalf("dry run: %+v, count %d", dry, ts.entryCount(t))
	}
	req.DryRun = false
	var first, second kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, req), 200, &first)
	if first.Created != 30 || first.Updated != 0 || !first.Written {
		t.Fatalf("first upload: %+v", first)
	}
	req.Rows = faqRows("", 30, "XS")
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, req), 200, &second)
	if second.Created != 0 || second.Updated != 0 || second.Unchanged != 30 || second.Written {
		t.Fatalf("second upload of the same rows: %+v", second)
	}
	// The uploaded rows answer at once, under the maintainer's department.
	res := ts.ask(t, "XS测试问题7怎么办理")
	if !res.Answered || res.Answer.Department != "器械注册处" {
		t.Fatalf("uploaded entry not answered: %+v", res)
	}

	// One bad row rejects the whole upload and writes nothing.
	rows := faqRows("", 5, "YY")
	rows[3].Entry.Title = ""
	rows = append(rows, kb.SyncRow{File: "faq.xlsx", Row: 9, Entry: &kb.Entry{Title: rows[1].Entry.Title, Content: "重复", Column: kb.ColumnFAQ}})
	count := ts.entryCount(t)
	var bad kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: rows}), 422, &bad)
	if bad.Rejected != 2 || bad.Written || ts.entryCount(t) != count {
		t.Fatalf("rejected upload: %+v, count %d → %d", bad, count, ts.entryCount(t))
	}
	if bad.Errors[0].Row != 5 || bad.Errors[0].Field != "title" || bad.Errors[0].File != "faq.xlsx" {
		t.Errorf("first error must name file, row and field: %+v", bad.Errors[0])
	}
	if bad.Errors[1].Row != 9 || bad.Errors[1].Message != "标题与第 3 行重复" {
		t.Errorf("duplicate title error: %+v", bad.Errors[1])
	}
	// With skip_invalid the good rows go in.
	var skipped kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: rows, SkipInvalid: true}), 200, &skipped)
	if skipped.Created != 4 || skipped.Rejected != 2 || ts.entryCount(t) != count+4 {
		t.Fatalf("skip invalid: %+v", skipped)
	}

	// An edited row is an update, recorded in history.
	rows = faqRows("", 30, "XS")
	rows[0].Entry.Content = "新的答复口径"
	var edited kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: rows}), 200, &edited)
	if edited.Updated != 1 || edited.Unchanged != 29 {
		t.Fatalf("edit: %+v", edited)
	}
	var hist struct {
		Revisions []kb.Revision `json:"revisions"`
	}
	ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d/history", edited.Changes[0].EntryID), maint, "", 200, &hist)
	if len(hist.Revisions) != 2 || hist.Revisions[1].Actor != "器械维护员" || hist.Revisions[1].NewValue.Content != "新的答复口径" {
		t.Errorf("history: %+v", hist.Revisions)
	}

	// A rejected row stops the pruning: with a blank 标题 next to its 编号,
	// the row is still the entry the department keeps.
	blank := *rows[0].Entry
	blank.Title = ""
	withBlank := append([]kb.SyncRow{{File: "faq.xlsx", Row: 2, Entry: &blank}}, rows[1:10]...)
	live := ts.entryCount(t)
	var guarded kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: withBlank, Prune: true, SkipInvalid: true}), 200, &guarded)
	if guarded.Deleted != 0 || guarded.Rejected != 1 || ts.entryCount(t) != live ||
		len(guarded.Warnings) != 1 || guarded.Warnings[0].Field != "prune" || !strings.Contains(guarded.Warnings[0].Message, "本次不删除任何条目") {
		t.Fatalf("prune beside a rejected row: %+v", guarded)
	}

	// Prune soft-deletes what the department's upload no longer has.
	var pruned kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: rows[:10], Prune: true}), 200, &pruned)
	if pruned.Deleted == 0 || pruned.Unchanged != 10 {
		t.Fatalf("prune: %+v", pruned)
	}
	for _, ch := range pruned.Changes {
		if ch.Action == "delete" {
			e, err := ts.env.Store.FindEntry(t.Context(), ch.EntryID)
			if err == nil {
				t.Errorf("pruned entry %d still live: %+v", ch.EntryID, e)
			}
		}
	}
}

func TestMaintainerScopeOnEveryWriteEndpoint(t *testing.T) {
	ts := mustStartServer(t)
	device := ts.mustToken(t, "器械维护员", kb.RoleMaintainer, "器械注册处")
	cosmetics := ts.mustToken(t, "化妆品维护员", kb.RoleMaintainer, "化妆品监管处")
	reviewer := ts.mustToken(t, "审核员", kb.RoleReviewer, "化妆品监管处")
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	cosEntry := ts.env.ByExternalID["faq-cos-fees"]
	url := fmt.Sprintf("/api/v1/entries/%d", cosEntry)
	body := `{"column":"faq","title":"化妆品生产许可收费吗？","content":"不收费","department":"化妆品监管处"}`
	count := ts.entryCount(t)

	ts.call(t, "POST", "/api/v1/entries", device, body, 403, nil)
	ts.call(t, "PUT", url, device, body, 403, nil)
	ts.call(t, "PUT", url, device, `{"column":"faq","title":"改","content":"改","department":"器械注册处"}`, 403, nil)
	ts.call(t, "DELETE", url, device, "", 403, nil)
	msg := ts.call(t, "POST", "/api/v1/entries/sync", device, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: faqRows("化妆品监管处", 2, "ZZ")}), 403, nil)
	if want := "无权写入其他部门的条目"; !strings.Contains(msg, want) {
		t.Errorf("sync 403 message %q lacks %q", msg, want)
	}
	// Updating another department's entry by title through an upload is refused too.
	steal := []kb.SyncRow{{File: "x.csv", Row: 2, Entry: &kb.Entry{Column: kb.ColumnFAQ, Title: "办理化妆品生产许可需要交费吗？", Content: "改", Department: "器械注册处"}}}
	ts.call(t, "POST", "/api/v1/entries/sync", device, syncBody(t, kb.SyncRequest{Rows: steal}), 403, nil)
	ts.call(t, "POST", "/api/v1/entries", reviewer, body, 403, nil)
	ts.call(t, "POST", "/api/v1/entries", "", body, 401, nil)
	if ts.entryCount(t) != count {
		t.Fatalf("refused writes changed the entry count: %d → %d", count, ts.entryCount(t))
	}

	var created struct {
		EntryID int64 `json:"entry_id"`
	}
	ts.call(t, "POST", "/api/v1/entries", cosmetics, `{"column":"常见问题","title":"化妆品新原料备案找谁？","content":"【待维护人员填写】"}`, 201, &created)
	e, err := ts.env.Store.FindEntry(t.Context(), created.EntryID)
	if err != nil || e.Department != "化妆品监管处" {
		t.Fatalf("maintainer's entry defaults to its department: %+v %v", e, err)
	}
	ts.call(t, "PUT", url, cosmetics, body, 200, nil)
	ts.call(t, "DELETE", fmt.Sprintf("/api/v1/entries/%d", created.EntryID), cosmetics, "", 200, nil)
	// An admin may write any department, and a new department is created on first use.
	// The upload says so, naming the departments there are, in case it is
	// a typo; once created, it is known.
	var created2 kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", admin, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: faqRows("新设处室", 2, "NEW")}), 200, &created2)
	if len(created2.Warnings) != 1 || created2.Warnings[0].Field != "department" ||
		!strings.Contains(created2.Warnings[0].Message, "部门“新设处室”尚不存在，上传后将新建；已有部门：") || !strings.Contains(created2.Warnings[0].Message, "器械注册处") {
		t.Errorf("upload into a new department: warnings %+v", created2.Warnings)
	}
	var again kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", admin, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: faqRows("新设处室", 3, "NEW")}), 200, &again)
	if again.Created != 1 || len(again.Warnings) != 0 {
		t.Errorf("second upload into the department: %+v", again)
	}
	depts, _ := ts.env.Store.Departments(t.Context())
	if !containsString(depts, "新设处室") {
		t.Errorf("departments %v lack the new one", depts)
	}
}

func TestPolicyTimeliness(t *testing.T) {
	now := time.Date(2024, 9, 30, 17, 0, 0, 0, kb.Shanghai)
	ts := mustStartServerWithClock(t, &now)
	maint := ts.mustToken(t, "法规维护员", kb.RoleMaintainer, "法规处")
	admin := ts.mustToken(t, "管理员", kb.RoleAdmin, "")
	policy := func(id, title string) kb.SyncRequest {
		return kb.SyncRequest{Column: kb.ColumnPolicy, Rows: []kb.SyncRow{{File: "policy.docx", Row: 1, Entry: &kb.Entry{
			ExternalID: id, Title: title, Content: "正文", Fields: map[string]string{kb.FieldEffectiveOn: "2024-10-08", kb.FieldDocNumber: "【待维护人员填写：文号】"}}}}}
	}
	var onTime kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, policy("P-1", "关于某事项的通知（按时）")), 200, &onTime)
	if len(onTime.Warnings) != 1 || onTime.Warnings[0].Field != "interpretation" {
		t.Errorf("on-time policy: want only the missing 解读 warning, got %+v", onTime.Warnings)
	}
	now = time.Date(2024, 10, 1, 9, 0, 0, 0, kb.Shanghai)
	var late kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, policy("P-2", "关于某事项的通知（逾期）")), 200, &late)
	if len(late.Warnings) != 2 || late.Warnings[1].Field != "effective_on" {
		t.Errorf("late policy warnings: %+v", late.Warnings)
	}
	// Uploading them again unchanged, or with a new text, repeats no
	// lateness: they entered the KB when they did.
	for _, content := range []string{"正文", "新的正文"} {
		req := policy("P-2", "关于某事项的通知（逾期）")
		req.Rows[0].Entry.Content = content
		var res kb.SyncResult
		ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, req), 200, &res)
		for _, w := range res.Warnings {
			if w.Field == "effective_on" {
				t.Errorf("upload of the late policy again (%s): %+v", content, w)
			}
		}
	}
	// A policy without its 实施日期 is said to lack it.
	undated := policy("P-3", "关于某事项的通知（未填实施日期）")
	delete(undated.Rows[0].Entry.Fields, kb.FieldEffectiveOn)
	var res kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, undated), 200, &res)
	if len(res.Warnings) != 2 || res.Warnings[1].Field != "effective_on" || !strings.Contains(res.Warnings[1].Message, "政策文件未填写实施日期") {
		t.Errorf("policy without an 实施日期: %+v", res.Warnings)
	}
	// 实施日期 before 发布日期 is mostly the two columns swapped: warned of,
	// naming both, but written, as a document may apply retroactively.
	swapped := policy("P-4", "关于某事项的通知（日期填反）")
	swapped.Rows[0].Entry.Fields[kb.FieldPublishedOn] = "2031-03-01"
	swapped.Rows[0].Entry.Fields[kb.FieldEffectiveOn] = "2031-01-01"
	res = kb.SyncResult{}
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, swapped), 200, &res)
	if len(res.Warnings) != 2 || res.Warnings[1].Field != "effective_on" || res.Warnings[1].Row != 1 ||
		!strings.Contains(res.Warnings[1].Message, "实施日期 2031-01-01 早于发布日期 2031-03-01") || res.Created != 1 {
		t.Errorf("policy with 实施日期 before 发布日期: created %d, warnings %+v", res.Created, res.Warnings)
	}
	var st kb.Stats
	ts.call(t, "GET", "/api/v1/stats", admin, "", 200, &st)
	if len(st.LatePolicies) != 1 || st.LatePolicies[0].Title != "关于某事项的通知（逾期）" || st.LatePolicies[0].Department != "法规处" {
		t.Fatalf("late policies: %+v", st.LatePolicies)
	}
	if got := st.LatePolicies[0].Deadline.Format(time.RFC3339); got != "2024-09-30T23:59:59+08:00" {
		t.Errorf("deadline = %s", got)
	}
	// Given as an answer before its 实施日期, a policy says from when it
	// applies; from that day on, nothing more.
	if r := ts.ask(t, "关于某事项的通知（按时）"); !r.Answered || r.Answer.NotInForceUntil != "2024-10-08" {
		t.Errorf("a policy not yet in force: %+v", r.Answer)
	}
	now = time.Date(2024, 10, 8, 9, 0, 0, 0, kb.Shanghai)
	if r := ts.ask(t, "关于某事项的通知（按时）"); !r.Answered || r.Answer.NotInForceUntil != "" {
		t.Errorf("a policy in force: %+v", r.Answer)
	}
	now = time.Date(2024, 10, 1, 9, 0, 0, 0, kb.Shanghai)
	// The list follows the period, by the day the policy entered the KB.
	for q, want := range map[string]int{"?from=2024-10-01": 1, "?to=2024-09-30": 0, "?from=2024-10-02": 0, "?from=2024-09-01&to=2024-10-01": 1} {
		var in kb.Stats
		ts.call(t, "GET", "/api/v1/stats"+q, admin, "", 200, &in)
		if len(in.LatePolicies) != want {
			t.Errorf("stats%s: %d late policies, want %d", q, len(in.LatePolicies), want)
		}
	}
	for _, c := range []struct {
		res  kb.SyncResult
		late bool
	}{{onTime, false}, {late, true}} {
		var view struct {
			Timeliness *kb.PolicyTimeliness `json:"timeliness"`
		}
		ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", c.res.Changes[0].EntryID), "", "", 200, &view)
		if view.Timeliness == nil || view.Timeliness.Late != c.late {
			t.Errorf("entry %d timeliness = %+v, want late=%v", c.res.Changes[0].EntryID, view.Timeliness, c.late)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// An upload warns, naming the row or the entry, of a wording another of its
// rows or another entry of the KB has too, as the matcher reads wordings;
// a wording moved from one entry to another in the same upload is no clash.
func TestSyncWarnsOfWordingsTwoEntriesShare(t *testing.T) {
	ts := mustStartServer(t)
	maint := ts.mustToken(t, "器械维护员", kb.RoleMaintainer, "器械注册处")
	row := func(n int, title string, similar ...string) kb.SyncRow {
		return kb.SyncRow{File: "faq.xlsx", Row: n, Entry: &kb.Entry{Column: kb.ColumnFAQ, Title: title, Content: "答复口径内容", Similar: similar}}
	}
	rows := []kb.SyncRow{
		row(2, "二类械注册证遗失了怎么补办？", "二类械注册证丢了怎么办"),
		row(3, "第二类医疗器械注册证损毁了怎么补办？", "请问二类医疗器械注册证丢了怎么办"),
		row(4, "二类械注册申报要准备什么？", "第二类医疗器械产品注册需要提交哪些材料"),
	}
	var res kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Rows: rows, DryRun: true}), 200, &res)
	if len(res.Warnings) != 2 {
		t.Fatalf("warnings: %+v", res.Warnings)
	}
	if w := res.Warnings[0]; w.Row != 3 || w.Field != "similar_questions" || !strings.Contains(w.Message, "与第 2 行“二类械注册证遗失了怎么补办？”的问法在小申看来是同一个问题") {
		t.Errorf("clash within the upload: %+v", w)
	}
	materials := ts.env.ByExternalID["faq-dev2-materials"]
	if w := res.Warnings[1]; w.Row != 4 || !strings.Contains(w.Message, fmt.Sprintf("条目 %d", materials)) || !strings.Contains(w.Message, "请合并两个条目或改写其中一个问法") {
		t.Errorf("clash with the KB: %+v", w)
	}

	// Moving the wording: the entry that had it is rewritten in the same upload.
	var had kb.Entry
	ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", materials), maint, "", 200, &had)
	had.Title = "第二类医疗器械注册的申报资料有哪些？"
	moved := append(rows[2:], kb.SyncRow{File: "faq.xlsx", Row: 5, Entry: &had})
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Rows: moved, DryRun: true}), 200, &res)
	for _, w := range res.Warnings {
		if strings.Contains(w.Message, "同一个问题") {
			t.Errorf("a moved wording warned of: %+v", w)
		}
	}
}

// An update names what it changes, and warns before it takes away similar
// questions the entry has now: reviewers add them on the review page, and a
// file exported before that would drop them without a word.
func TestSyncNamesChangesAndWarnsOfDroppedWordings(t *testing.T) {
	ts := mustStartServer(t)
	maint := ts.mustToken(t, "器械维护员", kb.RoleMaintainer, "器械注册处")
	id := ts.env.ByExternalID["faq-dev2-materials"]
	var e kb.Entry
	ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", id), maint, "", 200, &e)
	if len(e.Similar) == 0 {
		t.Fatal("the entry has no similar questions")
	}
	learnt := e.Similar[0]
	stale := e
	stale.Similar = e.Similar[1:]
	stale.Content = e.Content + "\n补充说明。"
	var res kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Rows: []kb.SyncRow{{File: "faq.xlsx", Row: 2, Entry: &stale}}, DryRun: true}), 200, &res)
	if len(res.Changes) != 1 || res.Changes[0].Action != "update" || !slices.Equal(res.Changes[0].Changed, []string{"内容", "相似问法"}) || res.Changes[0].OldTitle != "" {
		t.Errorf("changes: %+v", res.Changes)
	}
	// A row that renames the entry it names by its 编号 says what it was.
	renamed := stale
	renamed.Title = e.Title + "（改）"
	var dry kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Rows: []kb.SyncRow{{File: "faq.xlsx", Row: 2, Entry: &renamed}}, DryRun: true}), 200, &dry)
	if len(dry.Changes) != 1 || dry.Changes[0].OldTitle != e.Title || dry.Changes[0].Title != renamed.Title {
		t.Errorf("rename: %+v", dry.Changes)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Field != "similar_questions" || !strings.Contains(res.Warnings[0].Message, "“"+learnt+"”") ||
		!strings.Contains(res.Warnings[0].Message, "会删去") {
		t.Errorf("warnings: %+v", res.Warnings)
	}
	// Written, the warning says what was done and how to undo it.
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Rows: []kb.SyncRow{{File: "faq.xlsx", Row: 2, Entry: &stale}}}), 200, &res)
	if !res.Written || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "本次上传已删去") || !strings.Contains(res.Warnings[0].Message, "修改历史") {
		t.Errorf("written: %+v", res)
	}
}

// interleavedSyncs lands another change to an entry between an upload's
// check and its write, as a reviewer's link at that moment would.
type interleavedSyncs struct {
	kb.SyncStore
	meanwhile func()
}

func (s interleavedSyncs) ApplySync(ctx context.Context, creates, updates []*kb.Entry, deletes []int64, actor string) error {
	s.meanwhile()
	return s.SyncStore.ApplySync(ctx, creates, updates, deletes, actor)
}

// An upload that would overwrite a change made while it was being checked
// is refused whole, and the change is kept.
func TestSyncRefusesToUndoAChangeMadeMeanwhile(t *testing.T) {
	ts := mustStartServer(t)
	maint := ts.mustToken(t, "器械维护员", kb.RoleMaintainer, "器械注册处")
	rows := faqRows("", 2, "ZZ")
	var first kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: rows}), 200, &first)
	id := first.Changes[0].EntryID
	real := ts.env.Service.Syncs
	ts.env.Service.Syncs = interleavedSyncs{SyncStore: real, meanwhile: func() {
		e, err := ts.env.Store.FindEntry(t.Context(), id)
		if err != nil {
			t.Error(err)
			return
		}
		e.Similar = append(e.Similar, "审核员刚加的问法")
		if err := ts.env.Store.UpdateEntry(t.Context(), e, "审核员"); err != nil {
			t.Error(err)
		}
	}}
	defer func() { ts.env.Service.Syncs = real }()

	rows = faqRows("", 2, "ZZ")
	rows[0].Entry.Content, rows[1].Entry.Content = "新的答复口径", "新的答复口径"
	msg := ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: rows}), 409, nil)
	if !strings.Contains(msg, fmt.Sprintf("条目 %d 已被他人修改", id)) || !strings.Contains(msg, "本次上传未写入任何内容，请重新上传") {
		t.Errorf("upload over a change made meanwhile: %s", msg)
	}
	for _, c := range first.Changes {
		e, err := ts.env.Store.FindEntry(t.Context(), c.EntryID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Content != "答复口径内容" {
			t.Errorf("entry %d was half-written by the refused upload: %q", e.ID, e.Content)
		}
		if e.ID == id && !containsString(e.Similar, "审核员刚加的问法") {
			t.Errorf("the change made meanwhile was lost: %v", e.Similar)
		}
	}
}

// A row whose 编号 belongs to a deleted entry (an upload pruned it, or a
// maintainer deleted it) brings that entry back, with its id and history,
// rather than a new entry beside the deleted one.
func TestUploadRestoresADeletedEntry(t *testing.T) {
	ts := mustStartServer(t)
	maint := ts.mustToken(t, "器械维护员", kb.RoleMaintainer, "器械注册处")
	var first kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: faqRows("", 3, "RS")}), 200, &first)
	ids := map[string]int64{}
	for _, c := range first.Changes {
		ids[c.ExternalID] = c.EntryID
	}
	// A prune with one row left deletes the other two of the department's
	// uploaded rows (and its seeded FAQ entries).
	var pruned kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Prune: true, Rows: faqRows("", 1, "RS")}), 200, &pruned)
	if pruned.Deleted < 2 {
		t.Fatalf("prune: %+v", pruned)
	}
	if r := ts.ask(t, "RS测试问题2怎么办理"); r.Answered && r.Answer.EntryID == ids["RS-002"] {
		t.Fatalf("a pruned entry still answers: %+v", r.Answer)
	}

	count := ts.entryCount(t)
	var again kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: faqRows("", 3, "RS")}), 200, &again)
	if again.Restored != 2 || again.Created != 0 || again.Unchanged != 1 || ts.entryCount(t) != count+2 {
		t.Fatalf("upload of the pruned rows again: %+v (entries %d → %d)", again, count, ts.entryCount(t))
	}
	for _, c := range again.Changes {
		if c.Action == "restore" && c.EntryID != ids[c.ExternalID] {
			t.Errorf("%s restored as entry %d, was %d", c.ExternalID, c.EntryID, ids[c.ExternalID])
		}
	}
	id := ids["RS-002"]
	var e kb.Entry
	ts.call(t, "GET", fmt.Sprintf("/api/v1/entries/%d", id), maint, "", 200, &e)
	if e.Title != "RS测试问题2怎么办理？" {
		t.Errorf("restored entry: %+v", e)
	}
	history, err := ts.env.Store.EntryHistory(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range history {
		actions = append(actions, r.Action)
	}
	if !slices.Equal(actions, []string{"create", "delete", "restore"}) {
		t.Errorf("history of the restored entry: %v", actions)
	}
	if r := ts.ask(t, "RS测试问题2怎么办理"); !r.Answered || r.Answer.EntryID != id {
		t.Errorf("the restored entry does not answer: %+v", r)
	}
	// Another department, or another column, cannot take the 编号 of a
	// deleted entry: its owner could never upload it back.
	ts.call(t, "DELETE", fmt.Sprintf("/api/v1/entries/%d", ids["RS-001"]), maint, "", 200, nil)
	cosmetics := ts.mustToken(t, "化妆品维护员", kb.RoleMaintainer, "化妆品监管处")
	var taken kb.SyncResult
	ts.call(t, "POST", "/api/v1/entries/sync", cosmetics, syncBody(t, kb.SyncRequest{Column: kb.ColumnFAQ, Rows: faqRows("", 2, "RS")[1:]}), 422, &taken)
	if len(taken.Errors) != 1 || taken.Errors[0].Field != "external_id" || !strings.Contains(taken.Errors[0].Message, fmt.Sprintf("编号 \"RS-001\" 属于已删除的条目 %d", ids["RS-001"])) {
		t.Errorf("another department's upload of a deleted entry's 编号: %+v", taken.Errors)
	}
	// Nor through the one-entry API.
	msg := ts.call(t, "POST", "/api/v1/entries", cosmetics, `{"external_id":"RS-001","column":"faq","title":"化妆品的另一个问题？","content":"答"}`, 400, nil)
	if !strings.Contains(msg, fmt.Sprintf(`属于已删除的条目 %d`, ids["RS-001"])) {
		t.Errorf("another department's new entry with a deleted entry's 编号: %s", msg)
	}
	wiki := faqRows("", 2, "RS")[1:]
	wiki[0].Entry.Column = kb.ColumnWiki
	ts.call(t, "POST", "/api/v1/entries/sync", maint, syncBody(t, kb.SyncRequest{Column: kb.ColumnWiki, Rows: wiki}), 422, &taken)
	if len(taken.Errors) != 1 || taken.Errors[0].Field != "external_id" {
		t.Errorf("another column's upload of a deleted entry's 编号: %+v", taken.Errors)
	}
	// An update of a deleted entry by its id, as before, finds none.
	ts.call(t, "DELETE", fmt.Sprintf("/api/v1/entries/%d", id), maint, "", 200, nil)
	ts.call(t, "PUT", fmt.Sprintf("/api/v1/entries/%d", id), maint, `{"column":"faq","title":"RS测试问题2怎么办理？","content":"新"}`, 404, nil)
}
