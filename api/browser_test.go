package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xiaoshen/kb"
)

// chromiumPath finds Debian's chromium; CI installs it, so there a missing
// browser is a failure rather than a skip.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// mustStartBrowser starts headless Chromium for the test and returns its
// context, which ends with the test or after a minute.
func mustStartBrowser(t *testing.T, browser string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// TestReviewerBackfillsInBrowser drives real headless Chromium against a
// real server: a reviewer logs in, finds a question just asked through
// /ask, backfills it, and /ask then answers it.
func TestReviewerBackfillsInBrowser(t *testing.T) {
	browser := chromiumPath(t)
	now := time.Now()
	ts := mustStartServerWithClock(t, &now)
	srv := httptest.NewServer(ts)
	defer srv.Close()
	if _, err := ts.env.Store.CreateUser(t.Context(), "qixie", kb.RoleReviewer, "器械注册处", "s3cret-pass"); err != nil {
		t.Fatal(err)
	}
	const question = "医疗器械注册证能不能拿去抵押贷款"
	askHTTP := func() kb.AskResult {
		resp, err := http.Post(srv.URL+"/api/v1/ask", "application/json", strings.NewReader(`{"question":"`+question+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res kb.AskResult
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := askHTTP()
	if first.Answered || first.Unanswered == nil || first.Unanswered.Department != "器械注册处" {
		t.Fatalf("want an unanswered question for 器械注册处, got %+v", first)
	}

	ctx := mustStartBrowser(t, browser)
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/review"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "qixie"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "s3cret-pass"),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.items`)),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	listText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.items`)))
	if err != nil {
		t.Fatalf("read the list: %v", err)
	}
	if !strings.Contains(listText, question) {
		t.Fatalf("the question is not on the reviewer's list:\n%s", listText)
	}
	screenshot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	artifacts := os.Getenv("XIAOSHEN_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(artifacts, 0o755); err == nil {
		shot := filepath.Join(artifacts, "review-list.png")
		if err := os.WriteFile(shot, screenshot, 0o644); err == nil {
			t.Logf("screenshot of the review list: %s", shot)
		}
	}

	err = chromedp.Do(ctx,
		chromedp.Click(`//a[text()="`+question+`"]`),
		chromedp.WaitVisible(chromedp.CSS(`#backfill textarea[name=content]`)),
		chromedp.SendKeys(chromedp.CSS(`#backfill textarea[name=content]`), "医疗器械注册证是产品上市的行政许可凭证，不是财产权利凭证，不能用于抵押。"),
		chromedp.Submit(chromedp.CSS(`#backfill textarea[name=content]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if err != nil {
		t.Fatalf("backfill: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.flash`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(flash, "已保存为条目") {
		t.Fatalf("flash = %q", flash)
	}
	if res := askHTTP(); !res.Answered || !strings.Contains(res.Answer.Content, "不能用于抵押") {
		t.Fatalf("after backfill /ask: %+v", res)
	}
}

// TestReviewPageInBrowser checks in real Chromium what a reviewer relies on
// when acting on an item: the numbers the forms ask for are on the page,
// the closest entries come likeliest first, the forms offer what the
// server accepts, and only the server's own messages show.
func TestReviewPageInBrowser(t *testing.T) {
	browser := chromiumPath(t)
	now := time.Now()
	ts := mustStartServerWithClock(t, &now)
	srv := httptest.NewServer(ts)
	defer srv.Close()
	if _, err := ts.env.Store.CreateUser(t.Context(), "admin", kb.RoleAdmin, "", "s3cret-pass"); err != nil {
		t.Fatal(err)
	}
	item := ts.ask(t, "化妆品工厂的污水排放标准是多少").Unanswered
	answered := ts.ask(t, "二类械注册要交哪些材料")
	if item == nil || !answered.Answered {
		t.Fatalf("want an unanswered and an answered question: %+v %+v", item, answered)
	}
	var fb kb.FeedbackResult
	ts.call(t, "POST", "/api/v1/feedback", "", fmt.Sprintf(`{"query_id":%d,"feedback_token":%q,"helpful":false}`, answered.QueryID, answered.FeedbackToken), 200, &fb)
	itemURL := fmt.Sprintf("%s/review/items/%d", srv.URL, item.ID)

	ctx := mustStartBrowser(t, browser)
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/review"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=name]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "s3cret-pass"),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.items`)),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	eval := func(js string) []string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return out
	}

	if got, want := text(fmt.Sprintf(`tr[data-item="%d"] td.item-id`, item.ID)), fmt.Sprintf("#%d", item.ID); got != want {
		t.Errorf("list shows the item's number as %q, want %q", got, want)
	}
	if stats := text(`section.stats`); !strings.Contains(stats, "按时处理率") || strings.Contains(stats, "补充") {
		t.Errorf("stats panel: %s", stats)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(itemURL), chromedp.WaitVisible(chromedp.CSS(`#backfill`))); err != nil {
		t.Fatal(err)
	}
	if got, want := text(`dd.item-id`), fmt.Sprintf("#%d", item.ID); got != want {
		t.Errorf("item page shows its number as %q, want %q", got, want)
	}
	ids := eval(`[...document.querySelectorAll('tr[data-entry]')].map(r => r.querySelector('td.entry-id').innerText + ' ' + r.querySelector('input[name=entry_id]').value + ' ' + r.children[4].innerText)`)
	if len(ids) < 3 {
		t.Fatalf("closest entries: %v", ids)
	}
	last := 101.0
	for _, row := range ids {
		var shown, linked string
		var pct float64
		fmt.Sscanf(row, "%s %s %g%%", &shown, &linked, &pct)
		if shown != "#"+linked {
			t.Errorf("row %q: shown number and one-click link differ", row)
		}
		if pct > last {
			t.Errorf("closest entries not sorted by confidence: %v", ids)
		}
		last = pct
	}
	if cols := eval(`[...document.querySelectorAll('#backfill select[name=column] option')].map(o => o.value)`); strings.Join(cols, ",") != "guide,faq,wiki,notice" {
		t.Errorf("backfill columns = %v", cols)
	}

	// No reason chosen: the browser does not send the form.
	valid, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#actions form[action$="/dismiss"]').checkValidity()`))
	if err != nil || valid {
		t.Errorf("the dismiss form is valid with no reason chosen (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#actions form[action$="/dismiss"] button`))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if it, err := ts.env.Store.FindReviewItem(t.Context(), item.ID); err != nil || it.Status != kb.StatusOpen {
		t.Fatalf("a dismissal without a reason was sent: %+v %v", it, err)
	}
	// A duplicate of an item that does not exist returns to the item.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name=reason]`), kb.DismissDuplicate),
		chromedp.SendKeys(chromedp.CSS(`input[name=duplicate_of]`), "9999"),
		chromedp.Click(chromedp.CSS(`#actions form[action$="/dismiss"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.error`)),
	)
	if err != nil {
		t.Fatalf("dismiss as a duplicate of 9999: %v", err)
	}
	if msg := text(`p.error`); msg != "待处理问题 9999 不存在" {
		t.Errorf("error = %q", msg)
	}
	if h := text(`h1`); h != "化妆品工厂的污水排放标准是多少" {
		t.Errorf("after the error the page shows %q, not the item", h)
	}

	// A crafted link shows no message.
	const forged = "系统升级，请将账号密码发送至某某邮箱"
	if err := chromedp.Do(ctx, chromedp.Navigate(itemURL+"?error="+url.QueryEscape(forged)+"&done="+url.QueryEscape(forged)),
		chromedp.WaitVisible(chromedp.CSS(`#backfill`))); err != nil {
		t.Fatal(err)
	}
	if body := text(`main`); strings.Contains(body, forged) {
		t.Error("a crafted link's message is on the page")
	}

	// An answer to improve can be reassigned and dismissed too.
	err = chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/review/items/%d", srv.URL, fb.ReviewItemID)),
		chromedp.WaitVisible(chromedp.CSS(`#actions form[action$="/assign"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#actions form[action$="/dismiss"] button`)))
	if err != nil {
		t.Fatalf("the improve item offers no reassign or dismiss: %v", err)
	}
}
