package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"xiaoshen/ingest"
	"xiaoshen/kb"
)

// serverFlags adds --server and --token.
func serverFlags(fs *flag.FlagSet) (server, token *string) {
	return envString(fs, "server", "XIAOSHEN_SERVER", "", "服务器地址（环境变量 XIAOSHEN_SERVER）"),
		envString(fs, "token", "XIAOSHEN_TOKEN", "", "访问令牌（环境变量 XIAOSHEN_TOKEN）")
}

// entryPage is the answer of GET /api/v1/entries.
type entryPage struct {
	Total   int         `json:"total"`
	Entries []*kb.Entry `json:"entries"`
}

// eachServerEntry pages through GET /api/v1/entries.
func eachServerEntry(ctx context.Context, c *apiClient, q url.Values, fn func(*kb.Entry) error) (int, error) {
	const page = 1000
	total := 0
	for offset := 0; ; offset += page {
		q.Set("limit", strconv.Itoa(page))
		q.Set("offset", strconv.Itoa(offset))
		var p entryPage
		if err := c.do(ctx, "GET", "/api/v1/entries?"+q.Encode(), nil, &p); err != nil {
			return total, err
		}
		for _, e := range p.Entries {
			if err := fn(e); err != nil {
				return total, err
			}
			total++
		}
		if len(p.Entries) < page {
			return total, nil
		}
	}
}

// runExport writes a column's entries as XLSX, CSV or JSONL that upload
// back as a no-op.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	server, token := serverFlags(fs)
	column := fs.String("column", "", "栏目（代码或中文名）；不填则导出全部栏目")
	department := fs.String("department", "", "只导出该部门的条目（维护员默认为本部门）")
	format := fs.String("format", "", "xlsx、csv 或 jsonl（默认按 --out 的扩展名，否则 xlsx）")
	out := fs.String("out", "", "输出文件（默认 导出-栏目.格式）")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *token == "" {
		// Without one the server shows entries as citizens read them, with
		// details still to be filled in replaced: the file would not
		// upload back as it was.
		return usageError{fmt.Errorf("导出需要访问令牌：--token 或环境变量 XIAOSHEN_TOKEN（维护员或审核员的令牌，导出的文件才能原样再上传）")}
	}
	client, err := newAPIClient(*server, *token)
	if err != nil {
		return err
	}
	if *department == "" {
		// A maintainer's export uploads back: other departments' entries
		// in it would be refused.
		if *department, err = ownDepartment(ctx, client); err != nil {
			return err
		}
	}
	var col kb.Column
	if *column != "" {
		if col, err = kb.ParseColumn(*column); err != nil {
			return usageError{fmt.Errorf("%s", kb.ErrorMessage(err))}
		}
	}
	if *format == "" {
		*format = strings.TrimPrefix(filepath.Ext(*out), ".")
		if *format == "" {
			*format = "xlsx"
		}
	}
	if *out == "" {
		name := "全部"
		if col != "" {
			name = col.Name()
		}
		*out = fmt.Sprintf("导出-%s.%s", name, *format)
	}
	tmp := *out + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w, err := ingest.NewWriter(*format, f, col)
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return usageError{fmt.Errorf("%s", kb.ErrorMessage(err))}
	}
	q := url.Values{}
	if col != "" {
		q.Set("column", string(col))
	}
	if *department != "" {
		q.Set("department", *department)
	}
	n, err := eachServerEntry(ctx, client, q, w.Write)
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	if *department != "" {
		fmt.Fprintf(stdout, "已导出%s的 %d 个条目到 %s\n", *department, n, *out)
	} else {
		fmt.Fprintf(stdout, "已导出 %d 个条目到 %s\n", n, *out)
	}
	return nil
}

const entriesUsage = "用法：xiaoshen entries list|show|delete|history [参数]"

const entriesHelp = entriesUsage + `

子命令：
  list      列出条目（可按栏目、部门筛选）
  show      查看一个条目：xiaoshen entries show 条目ID或编号
  delete    删除一个条目（软删除；其编号的行再上传即恢复）：xiaoshen entries delete 条目ID或编号
  history   查看一个条目的修改历史：xiaoshen entries history 条目ID或编号

条目ID 是 list 所列的数字 ID；编号是上传文件“编号”列中的值（如 FAQ-001）。

参数：--server、--token（各子命令通用），--column、--department、--limit（list），--yes（delete）`

// runEntries covers the everyday tasks: list, show, delete and history.
func runEntries(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := usageError{errors.New(entriesUsage)}
	if len(args) == 0 {
		return usage
	}
	if askedForHelp(args) {
		fmt.Fprintln(stderr, entriesHelp)
		return flag.ErrHelp
	}
	fs := newFlagSet("entries "+args[0], stderr)
	server, token := serverFlags(fs)
	column := fs.String("column", "", "栏目（list）")
	department := fs.String("department", "", "部门（list）")
	limit := fs.Int("limit", 50, "最多列出几条（list）")
	yes := fs.Bool("yes", false, "不再询问确认（delete）")
	parse := parseFlagsWithArgs // show, delete and history take an entry id
	if args[0] == "list" {
		parse = parseFlags
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	client, err := newAPIClient(*server, *token)
	if err != nil {
		return err
	}
	// id reads the entry named on the command line by its id, or by the
	// 编号 (external id) a maintainer's file gives it: maintainers know
	// their entries by the latter.
	id := func() (int64, error) {
		if fs.NArg() != 1 {
			return 0, usageError{fmt.Errorf("需要一个条目ID或编号")}
		}
		arg := strings.TrimSpace(fs.Arg(0))
		if n, err := strconv.ParseInt(arg, 10, 64); err == nil {
			if n <= 0 {
				return 0, usageError{fmt.Errorf("条目ID %q 无效", arg)}
			}
			return n, nil
		}
		var p entryPage
		if err := client.do(ctx, "GET", "/api/v1/entries?"+url.Values{"external_id": {arg}, "limit": {"1"}}.Encode(), nil, &p); err != nil {
			return 0, err
		}
		if len(p.Entries) == 0 {
			return 0, fmt.Errorf("知识库中没有编号为“%s”的条目（已删除的条目也查不到）：条目ID和编号见 xiaoshen entries list", arg)
		}
		return p.Entries[0].ID, nil
	}
	switch args[0] {
	case "list":
		q := url.Values{"limit": {strconv.Itoa(*limit)}}
		if *column != "" {
			col, err := kb.ParseColumn(*column)
			if err != nil {
				return usageError{fmt.Errorf("%s", kb.ErrorMessage(err))}
			}
			q.Set("column", string(col))
		}
		if *department != "" {
			q.Set("department", *department)
		}
		var p entryPage
		if err := client.do(ctx, "GET", "/api/v1/entries?"+q.Encode(), nil, &p); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		// 编号 is the external id, as in an upload's header; the id the
		// other subcommands also take is ID.
		fmt.Fprintln(tw, "ID\t编号\t栏目\t部门\t标题\t更新时间")
		for _, e := range p.Entries {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, cmp.Or(e.ExternalID, "-"), e.Column.Name(), e.Department, e.Title, e.UpdatedAt.In(kb.Shanghai).Format("2006-01-02 15:04"))
		}
		tw.Flush()
		fmt.Fprintf(stdout, "共 %d 条，显示 %d 条\n", p.Total, len(p.Entries))
		return nil
	case "show":
		n, err := id()
		if err != nil {
			return err
		}
		var e json.RawMessage
		if err := client.do(ctx, "GET", fmt.Sprintf("/api/v1/entries/%d", n), nil, &e); err != nil {
			return err
		}
		return printJSON(stdout, e)
	case "history":
		n, err := id()
		if err != nil {
			return err
		}
		var h struct {
			Revisions []kb.Revision `json:"revisions"`
		}
		if err := client.do(ctx, "GET", fmt.Sprintf("/api/v1/entries/%d/history", n), nil, &h); err != nil {
			return err
		}
		names := map[string]string{"create": "创建", "update": "修改", "delete": "删除", "restore": "恢复"}
		for _, r := range h.Revisions {
			fmt.Fprintf(stdout, "v%d  %s  %s  %s\n", r.Version, r.At.In(kb.Shanghai).Format("2006-01-02 15:04:05"), r.Actor, names[r.Action])
			if r.OldValue != nil && r.NewValue != nil {
				for _, d := range entryDiff(r.OldValue, r.NewValue) {
					fmt.Fprintf(stdout, "      %s\n", d)
				}
			}
		}
		return nil
	case "delete":
		n, err := id()
		if err != nil {
			return err
		}
		// The prompt names the entry, so that a mistyped id is caught.
		var e kb.Entry
		if err := client.do(ctx, "GET", fmt.Sprintf("/api/v1/entries/%d", n), nil, &e); err != nil {
			return err
		}
		if !*yes && !confirm(stderr, fmt.Sprintf("删除条目 %d“%s”（%s，%s%s；软删除，可在历史中查到）？", n, e.Title, e.Column.Name(), e.Department, externalIDNote(e.ExternalID))) {
			fmt.Fprintln(stdout, "已取消。要在脚本中删除，请加 --yes。")
			return exitCode(1)
		}
		if err := client.do(ctx, "DELETE", fmt.Sprintf("/api/v1/entries/%d", n), nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "已删除条目 %d“%s”\n", n, e.Title)
		return nil
	}
	return usage
}

// externalIDNote names an entry's 编号 in a sentence, if it has one.
func externalIDNote(id string) string {
	if id == "" {
		return ""
	}
	return "，编号 " + id
}

// entryDiff names the fields that changed between two revisions.
func entryDiff(a, b *kb.Entry) []string {
	var out []string
	cmp := func(name, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s：%q → %q", name, clip(x), clip(y)))
		}
	}
	cmp("标题", a.Title, b.Title)
	cmp("内容", a.Content, b.Content)
	cmp("部门", a.Department, b.Department)
	cmp("事项", a.Matter, b.Matter)
	cmp("相似问法", strings.Join(a.Similar, "；"), strings.Join(b.Similar, "；"))
	cmp("关键词", strings.Join(a.Keywords, "；"), strings.Join(b.Keywords, "；"))
	for k, v := range b.Fields {
		cmp(k, a.Fields[k], v)
	}
	return out
}

func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func printJSON(w io.Writer, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
