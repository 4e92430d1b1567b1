package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"xiaoshen/api"
	"xiaoshen/internal/testkb"
	"xiaoshen/kb"
)

// uploadEnv is a real server on a real KB, driven through the CLI.
type uploadEnv struct {
	env *testkb.Env
	url string
	dir string
}

func mustStartUploadServer(t *testing.T, now func() time.Time) *uploadEnv {
	t.Helper()
	env := testkb.New(t, testkb.Options{Now: now})
	srv := api.New(env.Service, env.Store, slog.New(slog.NewTextHandler(io.Discard, nil)), api.Options{})
	srv.SetReady(true)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &uploadEnv{env: env, url: hs.URL, dir: t.TempDir()}
}

func (u *uploadEnv) token(t *testing.T, role, department string) string {
	t.Helper()
	_, tok, err := u.env.Store.CreateToken(t.Context(), "维护员-"+department, role, department)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// cli runs the xiaoshen command and returns its exit code and output.
func (u *uploadEnv) cli(t *testing.T, token string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	head := 1
	if args[0] == "entries" {
		head = 2 // entries <action> --server …
	}
	full := append(append(append([]string{}, args[:head]...), "--server", u.url, "--token", token), args[head:]...)
	code := run(t.Context(), full, &out, &out)
	return code, out.String()
}

func (u *uploadEnv) count(t *testing.T) int {
	t.Helper()
	n, err := u.env.Store.CountEntries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (u *uploadEnv) file(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(u.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func xlsxFile(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// docxFile builds a minimal Word policy document.
func docxFile(t *testing.T, paragraphs ...string) []byte {
	t.Helper()
	var body strings.Builder
	for _, p := range paragraphs {
		body.WriteString(`<w:p><w:r><w:t>` + p + `</w:t></w:r></w:p>`)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
			body.String() + `</w:body></w:document>`,
	} {
		w, _ := zw.Create(name)
		w.Write([]byte(content))
	}
	zw.Close()
	return buf.Bytes()
}

func TestUploadCLI(t *testing.T) {
	u := mustStartUploadServer(t, nil)
	maint := u.token(t, kb.RoleMaintainer, "器械注册处")
	faqXLSX := u.file(t, "器械问答.xlsx", xlsxFile(t, [][]any{
		{"编号", "问题", "答复口径", "相似问法", "关键词"},
		{"QX-1", "医疗器械注册证可以转让吗？", "医疗器械注册证不得转让。", "械注册证能卖给别的公司吗\n注册证能转给别人吗", "转让"},
		{"QX-2", "二类械注册证补发要多久？", "【待维护人员填写：补发时限】", "", "补发"},
	}))
	before := u.count(t)

	t.Run("dry run writes nothing", func(t *testing.T) {
		code, out := u.cli(t, maint, "upload", "--column", "faq", "--dry-run", faqXLSX)
		if code != 0 || !strings.Contains(out, "试运行，未写入：新增 2") || u.count(t) != before {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("upload, then the same file again changes nothing", func(t *testing.T) {
		code, out := u.cli(t, maint, "upload", "--column", "常见问题", faqXLSX)
		if code != 0 || !strings.Contains(out, "已写入：新增 2，更新 0") || u.count(t) != before+2 {
			t.Fatalf("exit %d: %s", code, out)
		}
		code, out = u.cli(t, maint, "upload", "--column", "faq", faqXLSX)
		if code != 0 || !strings.Contains(out, "新增 0，更新 0，不变 2") {
			t.Fatalf("second upload: exit %d: %s", code, out)
		}
		res, err := u.env.Service.Ask(t.Context(), kb.AskRequest{Question: "械注册证能卖给别的公司吗"})
		if err != nil || !res.Answered || res.Answer.Department != "器械注册处" {
			t.Fatalf("uploaded entry not answered: %+v %v", res, err)
		}
	})
	t.Run("a dry run names what an update changes", func(t *testing.T) {
		edited := u.file(t, "器械问答-改.xlsx", xlsxFile(t, [][]any{
			{"编号", "问题", "答复口径", "相似问法", "关键词"},
			{"QX-1", "医疗器械注册证可以转让吗？", "医疗器械注册证不得转让，可办理变更。", "械注册证能卖给别的公司吗\n注册证能转给别人吗", "转让"},
		}))
		code, out := u.cli(t, maint, "upload", "--column", "faq", "--dry-run", edited)
		if code != 0 || !strings.Contains(out, "将更新：医疗器械注册证可以转让吗？（内容）") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("a dry run names the title a row's 编号 replaces", func(t *testing.T) {
		// QX-1 copied onto a row of another question: the dry run must show
		// which entry the row would rewrite, not only the row's own title.
		reused := u.file(t, "器械问答-编号重复使用.xlsx", xlsxFile(t, [][]any{
			{"编号", "问题", "答复口径"},
			{"QX-1", "第三类医疗器械注册证在哪里办？", "向国家药监局申请。"},
		}))
		code, out := u.cli(t, maint, "upload", "--column", "faq", "--dry-run", reused)
		if code != 0 || !strings.Contains(out, "将更新：“医疗器械注册证可以转让吗？”→“第三类医疗器械注册证在哪里办？”（编号 QX-1）（标题、内容") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("prune beside a skipped row deletes nothing", func(t *testing.T) {
		// QX-2 keeps its 编号 but lost its 问题: the row is skipped, and
		// the entry it stands for must not be pruned, nor any other.
		partial := u.file(t, "器械问答-部分.xlsx", xlsxFile(t, [][]any{
			{"编号", "问题", "答复口径"},
			{"QX-1", "医疗器械注册证可以转让吗？", "医疗器械注册证不得转让。"},
			{"QX-2", "", "【待维护人员填写：补发时限】"},
		}))
		live := u.count(t)
		code, out := u.cli(t, maint, "upload", "--column", "faq", "--prune", "--skip-invalid", "--yes", partial)
		if code != 0 || !strings.Contains(out, "本次不删除任何条目") || !strings.Contains(out, "删除 0") || u.count(t) != live ||
			!strings.Contains(out, "跳过 器械问答-部分.xlsx:3 [问题]") || !strings.Contains(out, "按 --skip-invalid 跳过有错误的行或文件（共 1 处错误），其余 1 行照常提交") {
			t.Fatalf("exit %d, %d → %d entries: %s", code, live, u.count(t), out)
		}
	})
	t.Run("GBK CSV as Excel saves it", func(t *testing.T) {
		csv := gbk(t, "编号,标题,内容\r\nQX-3,第二类医疗器械注册证能抵押吗？,注册证不是财产权利凭证，不能抵押。\r\n")
		code, out := u.cli(t, maint, "upload", "--column", "faq", u.file(t, "gbk.csv", csv))
		if code != 0 || !strings.Contains(out, "新增 1") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("many bad rows: the first ones are listed, the rest counted", func(t *testing.T) {
		var csv strings.Builder
		csv.WriteString("编号,标题,内容\n")
		for i := range 150 {
			fmt.Fprintf(&csv, "BAD-%d,,缺少标题的第 %d 行\n", i, i)
		}
		file := u.file(t, "bad.csv", []byte(csv.String()))
		n := u.count(t)
		code, out := u.cli(t, maint, "upload", "--column", "faq", file)
		if code != 1 || strings.Count(out, "错误 ") != 100 || !strings.Contains(out, "另有 50 处未列出") ||
			!strings.Contains(out, "发现 150 处错误，本次未写入任何内容") || u.count(t) != n {
			t.Fatalf("exit %d, %d errors listed:\n%s", code, strings.Count(out, "错误 "), out)
		}
		code, out = u.cli(t, maint, "upload", "--column", "faq", "--max-errors", "0", file)
		if code != 1 || strings.Count(out, "错误 ") != 150 || strings.Contains(out, "未列出") {
			t.Fatalf("--max-errors 0: exit %d, %d errors listed", code, strings.Count(out, "错误 "))
		}
		if code, out = u.cli(t, maint, "upload", "--column", "faq", "--max-errors", "-1", file); code != 2 || !strings.Contains(out, "--max-errors") {
			t.Fatalf("--max-errors -1: exit %d: %s", code, out)
		}
	})
	t.Run("a maintainer is refused on another department", func(t *testing.T) {
		n := u.count(t)
		code, out := u.cli(t, maint, "upload", "--column", "faq", "--department", "化妆品监管处", faqXLSX)
		if code == 0 || !strings.Contains(out, "403") || u.count(t) != n {
			t.Fatalf("exit %d: %s", code, out)
		}
	})

	malformed := []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"missing required column", "缺列.csv", []byte("编号,内容\nA,答案\n"), "缺少必需的列"},
		{"bad date", "政策.xlsx", xlsxFile(t, [][]any{{"标题", "内容", "实施日期"}, {"某政策", "正文", "下个月"}}), "政策.xlsx:2"},
		{"wrong encoding", "utf16.csv", append([]byte{0xff, 0xfe}, []byte("t\x00i\x00t\x00l\x00e\x00")...), "utf16.csv"},
		{"empty file", "空.csv", nil, "空.csv"},
		{"a 1 MB cell", "大.csv", []byte("标题,内容\n大单元格," + strings.Repeat("长", 350_000) + "\n"), "大.csv:2"},
		{"truncated XLSX", "截断.xlsx", xlsxFile(t, [][]any{{"标题", "内容"}, {"问", "答"}})[:300], "截断.xlsx"},
	}
	for _, m := range malformed {
		t.Run(m.name, func(t *testing.T) {
			n := u.count(t)
			col := "faq"
			if strings.HasPrefix(m.file, "政策") {
				col = "policy"
			}
			code, out := u.cli(t, maint, "upload", "--column", col, u.file(t, m.file, m.data))
			if code == 0 || !strings.Contains(out, m.want) || !strings.Contains(out, "未写入任何内容") {
				t.Errorf("exit %d, output lacks %q:\n%s", code, m.want, out)
			}
			if u.count(t) != n {
				t.Errorf("entry count changed %d → %d", n, u.count(t))
			}
		})
	}

	t.Run("a policy from a Word document", func(t *testing.T) {
		doc := docxFile(t, "关于优化第二类医疗器械注册审评流程的通知", "沪药监械注〔2099〕1号", "为进一步优化审评流程，现就有关事项通知如下。")
		code, out := u.cli(t, maint, "upload", "--column", "政策文件", u.file(t, "通知.docx", doc))
		if code != 0 || !strings.Contains(out, "新增 1") {
			t.Fatalf("exit %d: %s", code, out)
		}
		entries, _, _ := u.env.Store.FindEntries(t.Context(), kb.EntryFilter{Column: kb.ColumnPolicy, Title: "关于优化第二类医疗器械注册审评流程的通知"})
		if len(entries) != 1 || entries[0].Fields[kb.FieldDocNumber] != "沪药监械注〔2099〕1号" {
			t.Fatalf("policy entry: %+v", entries)
		}
	})
	t.Run("export needs a token", func(t *testing.T) {
		// Without one the server shows what citizens read, placeholders
		// replaced: the file would not upload back as it was.
		code, out := u.cli(t, "", "export", "--column", "faq", "--out", filepath.Join(u.dir, "无令牌.xlsx"))
		if code != 2 || !strings.Contains(out, "导出需要访问令牌") {
			t.Fatalf("exit %d: %s", code, out)
		}
	})
	t.Run("export then upload is a no-op", func(t *testing.T) {
		for _, format := range []string{"xlsx", "csv", "jsonl"} {
			out := filepath.Join(u.dir, "导出."+format)
			args := []string{"export", "--column", "faq", "--out", out}
			if format != "xlsx" { // a maintainer's export defaults to its department
				args = append(args, "--department", "器械注册处")
			}
			code, msg := u.cli(t, maint, args...)
			if code != 0 || !strings.Contains(msg, "已导出器械注册处的") {
				t.Fatalf("export %s: %s", format, msg)
			}
			code, msg = u.cli(t, maint, "upload", "--column", "faq", out)
			if code != 0 || !strings.Contains(msg, "新增 0，更新 0") {
				t.Errorf("round trip %s: exit %d: %s", format, code, msg)
			}
		}
	})
	t.Run("history and delete", func(t *testing.T) {
		entries, _, _ := u.env.Store.FindEntries(t.Context(), kb.EntryFilter{ExternalID: "QX-1"})
		id := fmt.Sprint(entries[0].ID)
		code, out := u.cli(t, maint, "entries", "history", id)
		if code != 0 || !strings.Contains(out, "创建") {
			t.Fatalf("history: %s", out)
		}
		code, out = u.cli(t, maint, "entries", "delete", "--yes", id)
		if code != 0 || !strings.Contains(out, "已删除") {
			t.Fatalf("delete: %s", out)
		}
		if _, err := u.env.Store.FindEntry(t.Context(), entries[0].ID); kb.ErrorCode(err) != kb.ENOTFOUND {
			t.Error("deleted entry still live")
		}
	})
}

// TestEntriesByExternalID checks that a maintainer can name an entry by the 编号
// of its row in the upload file, which is what it knows it by.
func TestEntriesByExternalID(t *testing.T) {
	u := mustStartUploadServer(t, nil)
	maint := u.token(t, kb.RoleMaintainer, "法规处")
	file := u.file(t, "法规问答.csv", []byte("编号,问题,答复口径\nFGC-FAQ-003,在哪里可以查到药监局发布的规范性文件？,在本局网站公布。\n"))
	if code, out := u.cli(t, maint, "upload", "--column", "faq", file); code != 0 {
		t.Fatalf("upload: %s", out)
	}
	entries, _, _ := u.env.Store.FindEntries(t.Context(), kb.EntryFilter{ExternalID: "FGC-FAQ-003"})
	id := fmt.Sprint(entries[0].ID)

	code, out := u.cli(t, maint, "entries", "list", "--department", "法规处", "--column", "faq")
	if code != 0 || !strings.Contains(out, "ID") || !regexp.MustCompile(id+` +FGC-FAQ-003 +常见问题`).MatchString(out) {
		t.Errorf("list shows no ID and 编号: %s", out)
	}
	code, out = u.cli(t, maint, "entries", "history", "FGC-FAQ-003")
	if code != 0 || !strings.Contains(out, "创建") {
		t.Errorf("history by 编号: exit %d: %s", code, out)
	}
	code, out = u.cli(t, maint, "entries", "delete", "--yes", "FGC-FAQ-404")
	if code == 0 || !strings.Contains(out, "没有编号为“FGC-FAQ-404”的条目") {
		t.Errorf("delete of an unknown 编号: exit %d: %s", code, out)
	}
	code, out = u.cli(t, maint, "entries", "delete", "--yes", "FGC-FAQ-003")
	if code != 0 || !strings.Contains(out, "已删除条目 "+id+"“在哪里可以查到药监局发布的规范性文件？”") {
		t.Fatalf("delete by 编号: exit %d: %s", code, out)
	}
	if _, err := u.env.Store.FindEntry(t.Context(), entries[0].ID); kb.ErrorCode(err) != kb.ENOTFOUND {
		t.Error("the entry deleted by its 编号 is still live")
	}
}

func TestPolicyTimelinessOnUpload(t *testing.T) {
	now := time.Date(2024, 9, 30, 16, 0, 0, 0, kb.Shanghai)
	u := mustStartUploadServer(t, func() time.Time { return now })
	maint := u.token(t, kb.RoleMaintainer, "法规处")
	policy := func(id, title string) string {
		return u.file(t, id+".csv", []byte("编号,标题,内容,实施日期\n"+id+","+title+",正文,2024年10月8日\n"))
	}
	code, out := u.cli(t, maint, "upload", "--column", "policy", policy("P1", "按时入库的政策"))
	if code != 0 || strings.Contains(out, "逾期") || !strings.Contains(out, "未关联解读") {
		t.Fatalf("on time: exit %d: %s", code, out)
	}
	now = time.Date(2024, 10, 1, 10, 0, 0, 0, kb.Shanghai)
	code, out = u.cli(t, maint, "upload", "--column", "policy", policy("P2", "逾期入库的政策"))
	if code != 0 || !strings.Contains(out, "记为逾期") || !strings.Contains(out, "2024-09-30 23:59") {
		t.Fatalf("late: exit %d: %s", code, out)
	}
}

// TestLargeUploadWhileAsking uploads 20,000 rows in one CSV while askers
// keep asking; it prints the throughput rather than asserting a time.
func TestLargeUploadWhileAsking(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 20,000 rows")
	}
	u := mustStartUploadServer(t, nil)
	admin := u.token(t, kb.RoleAdmin, "")
	var csv strings.Builder
	csv.WriteString("编号,标题,内容,部门,相似问法\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&csv, "BULK-%05d,批量条目第%d号事项如何办理？,第%d号事项的答复口径。,综合处,第%d号事项咋办\n", i, i, i, i)
	}
	file := u.file(t, "批量.csv", []byte(csv.String()))
	before := u.count(t)

	stopAsking := keepAsking(u.url, 4)
	start := time.Now()
	code, out := u.cli(t, admin, "upload", "--column", "faq", file)
	elapsed := time.Since(start)
	asks, failures := stopAsking()
	if code != 0 || !strings.Contains(out, "新增 20000") || u.count(t) != before+20000 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if failures > 0 {
		t.Errorf("%d of %d asks failed during the upload", failures, asks)
	}
	t.Logf("20,000 rows uploaded in %s (%.0f rows/s); %d asks answered meanwhile", elapsed.Round(time.Millisecond), 20000/elapsed.Seconds(), asks)
	res, err := u.env.Service.Ask(t.Context(), kb.AskRequest{Question: "批量条目第12345号事项如何办理"})
	if err != nil || !res.Answered {
		t.Errorf("a bulk entry is not answerable: %+v %v", res, err)
	}
}

func TestTokenRevokeAndList(t *testing.T) {
	u := mustStartUploadServer(t, nil)
	var out bytes.Buffer
	if code := run(t.Context(), []string{"token", "create", "--data", u.env.Dir, "--name", "脚本", "--role", "maintainer", "--department", "综合处"}, &out, &out); code != 0 {
		t.Fatalf("token create: %s", out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	if code, msg := u.cli(t, token, "entries", "list", "--limit", "1"); code != 0 {
		t.Fatalf("list with a fresh token: %s", msg)
	}
	if code, msg := u.cli(t, token, "upload", "--column", "faq", "--dry-run", u.file(t, "a.csv", []byte("标题,内容\n新问题,新答案\n"))); code != 0 {
		t.Fatalf("dry run with a fresh token: %s", msg)
	}
	out.Reset()
	run(t.Context(), []string{"token", "list", "--data", u.env.Dir}, &out, &out)
	if !strings.Contains(out.String(), "脚本") || strings.Contains(out.String(), "从未使用") {
		t.Errorf("token list must show the token's last use:\n%s", out.String())
	}
	tokens, err := u.env.Store.Tokens(t.Context())
	if err != nil || len(tokens) == 0 {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(t.Context(), []string{"token", "revoke", "--data", u.env.Dir, fmt.Sprint(tokens[0].ID)}, &out, &out); code != 0 {
		t.Fatalf("revoke: %s", out.String())
	}
	if code, msg := u.cli(t, token, "upload", "--column", "faq", "--dry-run", u.file(t, "b.csv", []byte("标题,内容\n新问题,新答案\n"))); code == 0 || !strings.Contains(msg, "401") {
		t.Errorf("a revoked token still works: exit %d: %s", code, msg)
	}
}

// keepAsking has workers ask a covered question at baseURL over and over
// until the returned stop is called, which reports how many asks were made
// and how many failed.
func keepAsking(baseURL string, workers int) (stop func() (asks, failures int)) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var asks, failures int
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				resp, err := http.Post(baseURL+"/api/v1/ask", "application/json", strings.NewReader(`{"question":"二类械注册要交哪些材料"}`))
				mu.Lock()
				asks++
				if err != nil || resp.StatusCode != 200 {
					failures++
				}
				mu.Unlock()
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	return func() (int, int) {
		close(done)
		wg.Wait()
		return asks, failures
	}
}

// TestServerAndTokenFromEnvironment: XIAOSHEN_SERVER and XIAOSHEN_TOKEN
// stand in for --server and --token, and the command line wins over them.
func TestServerAndTokenFromEnvironment(t *testing.T) {
	u := mustStartUploadServer(t, nil)
	maint := u.token(t, kb.RoleMaintainer, "综合处")
	t.Setenv("XIAOSHEN_SERVER", u.url)
	t.Setenv("XIAOSHEN_TOKEN", maint)
	csv := u.file(t, "env.csv", []byte("标题,内容\n环境变量里的令牌能用吗？,能用。\n"))
	cli := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(t.Context(), args, &out, &out)
		return code, out.String()
	}

	if code, out := cli("upload", "-h"); code != 0 || strings.Contains(out, maint) || !strings.Contains(out, "XIAOSHEN_TOKEN") {
		t.Fatalf("upload -h: exit %d, the token must not be shown:\n%s", code, out)
	}
	if code, out := cli("upload", "--column", "faq", "--dry-run", csv); code != 0 || !strings.Contains(out, "新增 1") {
		t.Errorf("upload with the token from the environment: exit %d: %s", code, out)
	}
	if code, out := cli("entries", "list", "--limit", "1"); code != 0 {
		t.Errorf("entries list with the token from the environment: exit %d: %s", code, out)
	}
	t.Setenv("XIAOSHEN_TOKEN", "xs_not_a_token")
	if code, out := cli("upload", "--column", "faq", "--dry-run", csv); code == 0 || !strings.Contains(out, "401") {
		t.Errorf("a bad token from the environment was not used: exit %d: %s", code, out)
	}
	if code, out := cli("upload", "--token", maint, "--column", "faq", "--dry-run", csv); code != 0 {
		t.Errorf("--token must win over the environment: exit %d: %s", code, out)
	}
}

// TestOverdueExitCodes: a daily cron job tells "items are overdue" (1)
// from "the check failed" (2).
func TestOverdueExitCodes(t *testing.T) {
	overdue := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(t.Context(), append([]string{"overdue"}, args...), &out, &out)
		return code, out.String()
	}
	t.Run("nothing overdue", func(t *testing.T) {
		u := mustStartUploadServer(t, nil)
		if code, out := overdue("--data", u.env.Dir); code != 0 || !strings.Contains(out, "没有逾期未处理的问题") {
			t.Errorf("exit %d, want 0: %s", code, out)
		}
	})
	t.Run("items overdue", func(t *testing.T) {
		monthAgo := time.Now().AddDate(0, -1, 0)
		u := mustStartUploadServer(t, func() time.Time { return monthAgo })
		res, err := u.env.Service.Ask(t.Context(), kb.AskRequest{Question: "兽药经营许可正怎么申请啊"})
		if err != nil || res.Answered {
			t.Fatalf("an uncovered question was answered: %+v %v", res, err)
		}
		if code, out := overdue("--data", u.env.Dir); code != 1 || !strings.Contains(out, "兽药经营许可正怎么申请啊") {
			t.Errorf("exit %d, want 1: %s", code, out)
		}
	})
	t.Run("errors", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nonexistent")
		if code, out := overdue("--data", missing); code != 2 || !strings.Contains(out, missing) {
			t.Errorf("missing data directory: exit %d, want 2: %s", code, out)
		}
		if code, out := overdue("--no-such-flag"); code != 2 {
			t.Errorf("unknown flag: exit %d, want 2: %s", code, out)
		}
	})
	t.Run("help names the codes", func(t *testing.T) {
		if code, out := overdue("-h"); code != 0 || !strings.Contains(out, "1 有逾期的问题") || !strings.Contains(out, "2 出错") {
			t.Errorf("exit %d: %s", code, out)
		}
	})
}

// A file that is not there or cannot be read is named plainly, not as Go's
// "stat nosuch.xlsx: no such file or directory".
func TestUploadNamesMissingFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"upload", "--server", "http://127.0.0.1:1", "--token", "xs_x", "--department", "器械注册处", "nosuch.xlsx"},
		{"import", "--data", "data", "nosuch.xlsx"},
	} {
		t.Run(args[0], func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(t.Context(), args, io.Discard, &stderr)
			if got, want := stderr.String(), "文件 nosuch.xlsx 不存在"; code != 1 || !strings.Contains(got, want) || strings.Contains(got, "stat ") {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, got, want)
			}
		})
	}
	if _, err := os.Stat("data"); err == nil {
		t.Error("import of a missing file created the data directory")
	}
	t.Run("permission denied", func(t *testing.T) {
		err := fileProblem("私有.xlsx", &fs.PathError{Op: "open", Path: "私有.xlsx", Err: syscall.EACCES})
		if got, want := err.Error(), "没有读取 私有.xlsx 的权限"; got != want || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("got %q, want %q wrapping fs.ErrPermission", got, want)
		}
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		os.WriteFile("私有.xlsx", []byte("x"), 0o000)
		_, err = expandFiles([]string{"私有.xlsx"})
		if err == nil || err.Error() != "没有读取 私有.xlsx 的权限" {
			t.Errorf("expandFiles: %v", err)
		}
	})
}
