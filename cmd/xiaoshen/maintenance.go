package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
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

// calendarUsage is the command line of calendar.
const calendarUsage = "用法：xiaoshen calendar import --data DIR [--force] FILE | xiaoshen calendar list --data DIR"

func runCalendar(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New(calendarUsage)}
	}
	if askedForHelp(args) {
		fmt.Fprintln(stderr, calendarUsage+"\n\n各子命令的参数：xiaoshen calendar <子命令> -h")
		return flag.ErrHelp
	}
	switch args[0] {
	case "import":
		return calendarImport(args[1:], stdout, stderr)
	case "list":
		return calendarList(args[1:], stdout, stderr)
	}
	return usageError{errors.New(calendarUsage)}
}

// calendarImport copies a year's arrangement into the data directory's
// calendar folder, where every start loads it. Replacing a year imported
// before takes --force: the file may hold a correction made by hand.
func calendarImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calendar import", stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "数据目录（环境变量 XIAOSHEN_DATA）")
	force := fs.Bool("force", false, "替换数据目录中已导入的同一年份的安排")
	if err := parseFlagsWithArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Errorf("需要一个日历文件")}
	}
	file := fs.Arg(0)
	// A mistyped --data must not leave a stray data/calendar folder behind
	// and report success.
	if err := requireDatabase(*data); err != nil {
		return err
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return fileProblem(file, err)
	}
	cal := kb.NewCalendar()
	embedded := cal.Years()
	years, err := cal.Load(bytesReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %s", file, kb.ErrorMessage(err))
	}
	if len(years) == 0 {
		return fmt.Errorf("%s: 文件中没有任何日期", file)
	}
	dir := filepath.Join(*data, "calendar")
	dst := filepath.Join(dir, fmt.Sprintf("%d.json", years[0]))
	for _, f := range importedCalendars(dir) {
		overlap := intersect(f.years, years)
		switch {
		case f.path == dst && !*force:
			if len(overlap) == 0 {
				return usageError{fmt.Errorf("%s 已存在；要替换它，请加 --force", dst)}
			}
			return usageError{fmt.Errorf("%s 年的安排已导入（%s）；要用 %s 替换它，请加 --force", yearList(overlap), dst, file)}
		case f.path != dst && len(overlap) > 0:
			// Both files would load, the later name winning: refuse rather
			// than leave which one counts to the order of names.
			return fmt.Errorf("%s 年的安排已由 %s 导入，与 %s 重叠；请先移走该文件再导入", yearList(overlap), f.path, file)
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(dst, raw, 0o640); err != nil {
		return err
	}
	note := ""
	if over := intersect(embedded, years); len(over) > 0 {
		note = fmt.Sprintf("（取代内置的 %s 年安排）", yearList(over))
	}
	fmt.Fprintf(stdout, "已导入 %s 年的节假日安排到 %s%s；服务重启后生效\n", yearList(years), dst, note)
	return nil
}

// calendarList prints the years whose arrangement a start of the service
// on the data directory loads, and where each comes from.
func calendarList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calendar list", stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "数据目录（环境变量 XIAOSHEN_DATA）")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireDatabase(*data); err != nil {
		return err
	}
	source := map[int]string{}
	for _, y := range kb.NewCalendar().Years() {
		source[y] = "内置"
	}
	// In the order loadCalendar reads them: a later file wins a year.
	for _, f := range importedCalendars(filepath.Join(*data, "calendar")) {
		if f.err != nil {
			fmt.Fprintf(stderr, "提醒：%s 有误，启动时不会载入：%s\n", f.path, kb.ErrorMessage(f.err))
			continue
		}
		for _, y := range f.years {
			if source[y] == "内置" {
				source[y] = f.path + "（取代内置安排）"
			} else {
				source[y] = f.path
			}
		}
	}
	years := make([]int, 0, len(source))
	for y := range source {
		years = append(years, y)
	}
	slices.Sort(years)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "年份\t来源")
	for _, y := range years {
		fmt.Fprintf(tw, "%d\t%s\n", y, source[y])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if next := time.Now().In(kb.Shanghai).Year() + 1; source[next] == "" {
		fmt.Fprintf(stdout, "%d 年的节假日安排尚未导入；安排公布后请用 xiaoshen calendar import 导入\n", next)
	}
	return nil
}

// importedCalendar is a holiday arrangement file in a data directory.
type importedCalendar struct {
	path  string
	years []int
	err   error // why a start sets it aside
}

// importedCalendars reads the arrangement files of a data directory's
// calendar folder, in the order loadCalendar loads them.
func importedCalendars(dir string) []importedCalendar {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	out := make([]importedCalendar, 0, len(paths))
	for _, p := range paths {
		f := importedCalendar{path: p}
		raw, err := os.ReadFile(p)
		if err == nil {
			f.years, err = kb.NewCalendar().Load(bytesReader(raw))
		}
		f.err = err
		out = append(out, f)
	}
	return out
}

// yearList words years for a message: 2027、2028.
func yearList(years []int) string {
	words := make([]string, len(years))
	for i, y := range years {
		words[i] = strconv.Itoa(y)
	}
	return strings.Join(words, "、")
}

// intersect returns the years in both a and b.
func intersect(a, b []int) []int {
	var both []int
	for _, y := range a {
		if slices.Contains(b, y) {
			both = append(both, y)
		}
	}
	return both
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
