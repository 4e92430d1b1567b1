package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

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
