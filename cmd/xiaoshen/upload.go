package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"xiaoshen/ingest"
	"xiaoshen/kb"
)

// uploadFlags are the flags shared by upload (through the server) and
// import (offline, on a stopped server's data directory).
type uploadFlags struct {
	column, department, sheet, encoding string
	maps                                stringsFlag
	dryRun, skipInvalid, prune, yes     bool
	maxErrors                           int
}

func (f *uploadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.column, "column", "", "栏目：代码或中文名（如 faq 或 常见问题）；行中未写栏目时使用")
	fs.StringVar(&f.department, "department", "", "部门；维护员默认为本部门")
	fs.StringVar(&f.sheet, "sheet", "", "XLSX 工作表名（默认第一个）")
	fs.StringVar(&f.encoding, "encoding", "", "CSV 编码：utf-8、gbk 或 gb18030（默认自动识别）")
	fs.Var(&f.maps, "map", "表头映射：表头=字段，可重复，如 --map 回复内容=content")
	fs.BoolVar(&f.dryRun, "dry-run", false, "只检查并显示将新增、更新、不变的条目，不写入")
	fs.BoolVar(&f.skipInvalid, "skip-invalid", false, "跳过有错误的行，写入其余的行（默认有任何错误则整批不写入）")
	fs.BoolVar(&f.prune, "prune", false, "软删除该部门该栏目中本次上传没有的条目（需确认或 --yes）")
	fs.BoolVar(&f.yes, "yes", false, "不再询问确认")
	fs.IntVar(&f.maxErrors, "max-errors", 100, "最多列出多少处错误和提醒，其余只计数（0 为全部列出）")
}

// problemList prints problems up to a limit and counts the rest, so that a
// file with thousands of bad rows does not bury the summary.
type problemList struct {
	w      io.Writer
	limit  int // 0: no limit
	shown  int
	hidden int
}

func (l *problemList) print(label string, problem any) {
	if l.limit > 0 && l.shown >= l.limit {
		l.hidden++
		return
	}
	fmt.Fprintf(l.w, "%s %s\n", label, problem)
	l.shown++
}

// done says how many problems were not printed.
func (l *problemList) done() {
	if l.hidden > 0 {
		fmt.Fprintf(l.w, "……另有 %d 处未列出（加 --max-errors 0 可全部列出）\n", l.hidden)
		l.hidden = 0
	}
}

func (f *uploadFlags) options() (ingest.Options, error) {
	opts := ingest.Options{Department: f.department, Sheet: f.sheet, Encoding: f.encoding, Map: map[string]string{}}
	if f.maxErrors < 0 {
		return opts, usageError{fmt.Errorf("--max-errors 不能为负数（0 为全部列出）")}
	}
	if f.column != "" {
		col, err := kb.ParseColumn(f.column)
		if err != nil {
			return opts, usageError{errors.New(kb.ErrorMessage(err))}
		}
		opts.Column = col
	}
	for _, m := range f.maps {
		k, v, ok := strings.Cut(m, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return opts, usageError{fmt.Errorf("--map %q 应为 表头=字段", m)}
		}
		opts.Map[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return opts, nil
}

// expandFiles lists the files to upload: files as given, folders walked
// for supported files.
func expandFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fileProblem(a, err)
		}
		if !fi.IsDir() {
			// Opened here, so that an unreadable file is named as such
			// before any parsing rather than as a row error.
			f, err := os.Open(a)
			if err != nil {
				return nil, fileProblem(a, err)
			}
			f.Close()
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fileProblem(p, err)
			}
			if !d.IsDir() && ingest.Supported(p) && !strings.HasPrefix(d.Name(), ".") && !strings.HasPrefix(d.Name(), "~$") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	if len(files) == 0 {
		return nil, usageError{fmt.Errorf("没有要上传的文件")}
	}
	return files, nil
}

// fileError is a file named on the command line that cannot be read,
// worded for the person who typed it.
type fileError struct {
	message string
	err     error
}

func (e *fileError) Error() string { return e.message }
func (e *fileError) Unwrap() error { return e.err }

// fileProblem words the error of opening or reading path: missing and
// unreadable files plainly, anything else as it is.
func fileProblem(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &fileError{fmt.Sprintf("文件 %s 不存在", path), err}
	case errors.Is(err, fs.ErrPermission):
		return &fileError{fmt.Sprintf("没有读取 %s 的权限", path), err}
	}
	return err
}

// parseUpload parses every file into sync rows; row problems are printed
// under label (错误, or 跳过 when the rows are skipped) and returned as a
// count.
func parseUpload(files []string, opts ingest.Options, maxErrors int, label string, stderr io.Writer) ([]kb.SyncRow, int, error) {
	var rows []kb.SyncRow
	problems := 0
	list := &problemList{w: stderr, limit: maxErrors}
	up := ingest.NewUpload()
	bar := newProgress(stderr, "解析", 0)
	for _, f := range files {
		if !ingest.Supported(f) {
			fmt.Fprintf(stderr, "%s：不支持的文件类型（支持 xlsx、csv、json、jsonl、md、docx、html）\n", f)
			problems++
			continue
		}
		errs, err := up.ParseFile(f, opts, func(r *ingest.Record) error {
			rows = append(rows, kb.SyncRow{File: r.File, Row: r.Row, Entry: r.Entry})
			bar.Set(len(rows))
			return nil
		})
		for _, e := range errs {
			list.print(label, e)
		}
		problems += len(errs)
		if err != nil {
			list.print(label, err)
			problems++
		}
	}
	bar.Done()
	list.done()
	return rows, problems, nil
}

func printSyncResult(w io.Writer, res *kb.SyncResult, maxErrors int) {
	list := &problemList{w: w, limit: maxErrors}
	for _, e := range res.Errors {
		list.print("错误", e)
	}
	list.done()
	list = &problemList{w: w, limit: maxErrors}
	for _, e := range res.Warnings {
		list.print("提醒", e)
	}
	list.done()
	if res.DryRun {
		shown := 0
		for _, c := range res.Changes {
			if c.Action == "unchanged" {
				continue
			}
			if shown == 50 {
				fmt.Fprintf(w, "……（共 %d 项变更）\n", res.Created+res.Updated+res.Restored+res.Deleted)
				break
			}
			name := map[string]string{"create": "新增", "update": "更新", "restore": "恢复已删除的条目", "delete": "删除"}[c.Action]
			changed := ""
			if len(c.Changed) > 0 {
				changed = "（" + strings.Join(c.Changed, "、") + "）"
			}
			title := c.Title
			if c.OldTitle != "" {
				// Named by its 编号, the entry may be another document.
				title = fmt.Sprintf("“%s”→“%s”（编号 %s）", c.OldTitle, c.Title, c.ExternalID)
			}
			fmt.Fprintf(w, "  将%s：%s%s\n", name, title, changed)
			shown++
		}
	}
	verb := "已写入"
	switch {
	case res.DryRun:
		verb = "试运行，未写入"
	case !res.Written && res.Rejected > 0:
		verb = "有被驳回的行，整批未写入"
	case !res.Written:
		verb = "没有需要写入的变更"
	}
	restored := ""
	if res.Restored > 0 {
		restored = fmt.Sprintf("，恢复 %d（编号属于已删除的条目，按原条目恢复，保留其编号和修改历史）", res.Restored)
	}
	fmt.Fprintf(w, "%s：新增 %d，更新 %d，不变 %d，删除 %d，驳回 %d%s\n", verb, res.Created, res.Updated, res.Unchanged, res.Deleted, res.Rejected, restored)
}

// ownDepartment is the department of the token's holder, or "" for an
// admin: a maintainer's uploads and exports default to it, so that what a
// maintainer exports uploads back within the department's rights.
func ownDepartment(ctx context.Context, client *apiClient) (string, error) {
	var me struct{ Name, Role, Department string }
	if err := client.do(ctx, "GET", "/api/v1/me", nil, &me); err != nil {
		return "", err
	}
	if me.Role == kb.RoleAdmin {
		return "", nil
	}
	return me.Department, nil
}

// readUpload parses the files named on the command line; with any row
// problem and no --skip-invalid it reports that nothing was written and
// returns ok=false.
func readUpload(uf *uploadFlags, args []string, stdout, stderr io.Writer) (rows []kb.SyncRow, opts ingest.Options, ok bool, err error) {
	if opts, err = uf.options(); err != nil {
		return nil, opts, false, err
	}
	files, err := expandFiles(args)
	if err != nil {
		return nil, opts, false, err
	}
	label := "错误"
	if uf.skipInvalid {
		label = "跳过"
	}
	rows, problems, err := parseUpload(files, opts, uf.maxErrors, label, stderr)
	if err != nil {
		return nil, opts, false, err
	}
	if problems > 0 && uf.skipInvalid {
		fmt.Fprintf(stdout, "按 --skip-invalid 跳过有错误的行或文件（共 %d 处错误），其余 %d 行照常提交。\n", problems, len(rows))
	}
	if problems > 0 && !uf.skipInvalid {
		fmt.Fprintf(stdout, "发现 %d 处错误，本次未写入任何内容。请修正后重新上传，或加 --skip-invalid 跳过错误行。\n", problems)
		return nil, opts, false, nil
	}
	if problems > 0 && uf.prune {
		// The skipped rows never reach the server, whose own guard would
		// otherwise see them.
		uf.prune = false
		fmt.Fprintf(stdout, "提醒：%s\n", kb.NoPruneMessage)
	}
	return rows, opts, true, nil
}

// confirm asks a yes/no question on a terminal.
func confirm(stderr io.Writer, question string) bool {
	if !isTerminal(os.Stdin) {
		return false
	}
	fmt.Fprintf(stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	line = strings.ToLower(strings.TrimSpace(line))
	return line == "y" || line == "yes" || line == "是"
}

func runUpload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("upload", stderr)
	server, token := serverFlags(fs)
	var uf uploadFlags
	uf.register(fs)
	if err := parseFlagsWithArgs(fs, args); err != nil {
		return err
	}
	if *token == "" {
		return usageError{fmt.Errorf("需要访问令牌：--token 或环境变量 XIAOSHEN_TOKEN（由 xiaoshen token create 生成）")}
	}
	client, err := newAPIClient(*server, *token)
	if err != nil {
		return err
	}
	if uf.department == "" {
		if uf.department, err = ownDepartment(ctx, client); err != nil {
			return err
		}
	}
	start := time.Now()
	rows, opts, ok, err := readUpload(&uf, fs.Args(), stdout, stderr)
	if err != nil {
		return err
	} else if !ok {
		return exitCode(1)
	}
	req := kb.SyncRequest{Column: opts.Column, Department: uf.department, DryRun: uf.dryRun, Prune: uf.prune, SkipInvalid: uf.skipInvalid, Rows: rows}
	if uf.prune && !uf.dryRun && !uf.yes {
		preview := req
		preview.DryRun = true
		var res kb.SyncResult
		if err := client.do(ctx, "POST", "/api/v1/entries/sync", preview, &res); err != nil {
			return err
		}
		if res.Deleted > 0 && !confirm(stderr, fmt.Sprintf("将删除 %d 个本次上传中没有的条目（可在历史记录中查到），确认吗？", res.Deleted)) {
			fmt.Fprintln(stdout, "已取消，未写入。要在脚本中使用 --prune，请同时加 --yes。")
			return exitCode(1)
		}
	}
	fmt.Fprintf(stderr, "正在提交 %d 行到 %s …\n", len(rows), client.base)
	var res kb.SyncResult
	err = client.do(ctx, "POST", "/api/v1/entries/sync", req, &res)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == 422 {
		printSyncResult(stdout, &res, uf.maxErrors)
		return exitCode(1)
	} else if err != nil {
		return err
	}
	printSyncResult(stdout, &res, uf.maxErrors)
	if res.Written {
		elapsed := time.Since(start)
		fmt.Fprintf(stdout, "用时 %s（%.0f 行/秒）\n", elapsed.Round(time.Millisecond), float64(len(rows))/elapsed.Seconds())
	}
	return nil
}

// runImport loads files directly into a stopped server's data directory,
// for the first bulk load; the same validation and all-or-nothing rule
// apply.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "已停止的服务的数据目录（环境变量 XIAOSHEN_DATA）")
	dict := fs.String("dict", "", "gojieba 词典目录（默认：程序旁的 dict 目录，其次 Go 模块缓存）")
	seed := fs.Bool("seed", false, "数据目录为空时先载入内置知识库")
	var uf uploadFlags
	uf.register(fs)
	if err := parseFlagsWithArgs(fs, args); err != nil {
		return err
	}
	start := time.Now()
	rows, opts, ok, err := readUpload(&uf, fs.Args(), stdout, stderr)
	if err != nil {
		return err
	} else if !ok {
		return exitCode(1)
	}
	if uf.prune && !uf.dryRun && !uf.yes && !confirm(stderr, "--prune 会删除本次导入中没有的条目，确认吗？") {
		return exitCode(1)
	}
	a, err := openApp(ctx, appConfig{DataDir: *data, DictDir: *dict, Seed: *seed, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Notices: stderr})
	if err != nil {
		return fmt.Errorf("打开数据目录 %s 失败（服务是否仍在运行？导入需要先停止服务）：%w", *data, err)
	}
	defer a.Close()
	admin := &kb.Principal{Name: "import", Role: kb.RoleAdmin}
	res, err := a.service.Sync(ctx, admin, kb.SyncRequest{Column: opts.Column, Department: uf.department, DryRun: uf.dryRun,
		Prune: uf.prune, SkipInvalid: uf.skipInvalid, Rows: rows})
	if err != nil {
		return err
	}
	printSyncResult(stdout, res, uf.maxErrors)
	if res.Rejected > 0 && !uf.skipInvalid {
		return exitCode(1)
	}
	if res.Written {
		elapsed := time.Since(start)
		fmt.Fprintf(stdout, "用时 %s（%.0f 行/秒）\n", elapsed.Round(time.Millisecond), float64(len(rows))/elapsed.Seconds())
	}
	return nil
}
