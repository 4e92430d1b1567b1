package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"xiaoshen/kb"
)

func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reindex", stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "已停止的服务的数据目录（环境变量 XIAOSHEN_DATA）")
	dict := fs.String("dict", "", "gojieba 词典目录（默认：程序旁的 dict 目录，其次 Go 模块缓存）")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger := newLogger(stderr, "text", "warn")
	if err := requireDatabase(*data); err != nil {
		return err
	}
	a, err := openData(ctx, appConfig{DataDir: *data, DictDir: *dict, Logger: logger, Notices: stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	total, _ := a.store.CountEntries(ctx)
	bar := newProgress(stderr, "重建索引", total)
	err = a.rebuild(ctx, bar.Set)
	bar.Done()
	if err != nil {
		return err
	}
	n, _ := a.index.Count()
	fmt.Fprintf(stdout, "索引已重建：%d 个条目，用时 %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

func runCalendar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError{fmt.Errorf("用法：xiaoshen calendar import --data DIR FILE")}
	}
	fs := newFlagSet("calendar import", stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "数据目录（环境变量 XIAOSHEN_DATA）")
	if err := parseFlagsWithArgs(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("需要一个日历文件")}
	}
	file := fs.Arg(0)
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	cal := kb.NewCalendar()
	years, err := cal.Load(bytesReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %s", file, kb.ErrorMessage(err))
	}
	if len(years) == 0 {
		return fmt.Errorf("%s: 文件中没有任何日期", file)
	}
	dir := filepath.Join(*data, "calendar")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	dst := filepath.Join(dir, fmt.Sprintf("%d.json", years[0]))
	if err := os.WriteFile(dst, raw, 0o640); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已导入 %v 年的节假日安排到 %s；服务重启后生效\n", years, dst)
	return nil
}

// runHealthcheck exits 0 when the local server answers /healthz; the
// container HEALTHCHECK uses it, as the image has no curl.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	addr := envString(fs, "addr", "XIAOSHEN_ADDR", "127.0.0.1:8080", "服务地址（环境变量 XIAOSHEN_ADDR）")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return usageError{err}
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
