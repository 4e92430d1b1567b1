package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"xiaoshen/kb"
	"xiaoshen/search"
)

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "用法：xiaoshen check [--data DIR] [--repair]\n\n检查已停止的服务的数据目录：数据库完整性、索引与数据库是否一致、校准文件。\n退出码：0 通过；1 发现问题；2 无法检查（如数据目录不存在或被运行中的服务占用、参数有误）。\n\n参数：\n")
		fs.PrintDefaults()
	}
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "已停止的服务的数据目录（环境变量 XIAOSHEN_DATA）")
	dict := fs.String("dict", "", "gojieba 词典目录（默认：程序旁的 dict 目录，其次 Go 模块缓存）")
	repair := fs.Bool("repair", false, "修复索引：补建缺失和过期的条目、删除多余的文档，索引无法读取时重建")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	err := checkData(ctx, *data, *dict, *repair, stdout, stderr)
	var finding exitCode
	if err == nil || errors.As(err, &finding) {
		return err
	}
	// Status 1 is a finding; a check that could not run must not read as one.
	return failure{err, checkFailed}
}

// checkFailed is the exit status of check when it cannot check.
const checkFailed = 2

// checkData checks the data directory and returns exitCode(1) for a
// finding, another error when it cannot check.
func checkData(ctx context.Context, data, dict string, repair bool, stdout, stderr io.Writer) error {
	if err := requireDatabase(data); err != nil {
		return err
	}
	a, err := openData(ctx, appConfig{DataDir: data, DictDir: dict, Logger: newLogger(stderr, "text", "warn"), Notices: stderr})
	if err != nil {
		return err
	}
	defer a.Close()

	problems, err := a.store.IntegrityCheck(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "数据库完整性检查：发现 %d 个问题\n", len(problems))
		for _, p := range problems[:min(len(problems), 20)] {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
		fmt.Fprintln(stdout, "数据库已损坏，请停止服务并用 xiaoshen restore 从最近的备份恢复。")
		return exitCode(1)
	}
	fmt.Fprintln(stdout, "数据库完整性检查：通过")
	// A damaged calibration file stops serve: report it, and fail the check.
	calibrationOK := writeCalibrationStatus(stdout, filepath.Join(data, search.CalibrationFileName))
	if err := writePlaceholderStatus(ctx, stdout, a.store); err != nil {
		return err
	}
	finish := func() error {
		if !calibrationOK {
			return exitCode(1)
		}
		return nil
	}

	idx, err := search.Open(a.cfg.indexPath(), a.seg)
	var report *kb.IndexReport
	if err == nil {
		a.useIndex(idx)
		report, err = a.checkIndex(ctx, repair)
		if err != nil && report == nil {
			err = fmt.Errorf("%w: %v", search.ErrRebuildNeeded, err)
		}
	}
	if errors.Is(err, search.ErrRebuildNeeded) {
		fmt.Fprintf(stdout, "索引无法使用：%v\n", err)
		if !repair {
			fmt.Fprintln(stdout, "结论：索引需要重建；加 --repair 重建（或运行 xiaoshen reindex）")
			return exitCode(1)
		}
		if a.index != nil {
			a.index.Close()
			a.index = nil
		}
		if err := a.rebuild(ctx, nil); err != nil {
			return err
		}
		n, _ := a.index.Count()
		fmt.Fprintf(stdout, "结论：已从数据库重建索引，共 %d 个条目\n", n)
		return finish()
	}
	if report != nil {
		printIndexReport(stdout, report)
	}
	if err != nil {
		return err
	}
	switch {
	case report.Repaired:
		fmt.Fprintln(stdout, "结论：索引与数据库不一致，已修复")
	case report.Consistent() && report.Queued == 0:
		fmt.Fprintln(stdout, "结论：索引与数据库一致")
	case report.Consistent():
		fmt.Fprintln(stdout, "结论：索引内容一致，但有待处理的索引队列；加 --repair 清理")
		return exitCode(1)
	default:
		fmt.Fprintln(stdout, "结论：索引与数据库不一致；加 --repair 修复")
		return exitCode(1)
	}
	return finish()
}

// writePlaceholderStatus lists the entries that still hold details left
// for maintainers to fill in (【待维护人员填写：…】): answers show citizens
// a neutral note in their place, so nothing else tells anyone they are
// missing. It is information, not a failure.
func writePlaceholderStatus(ctx context.Context, w io.Writer, st kb.Store) error {
	entries, _, err := st.FindEntries(ctx, kb.EntryFilter{})
	if err != nil {
		return err
	}
	type gap struct {
		e      *kb.Entry
		fields []string
	}
	var gaps []gap
	byDept := map[string]int{}
	for _, e := range entries {
		var fields []string
		if kb.HasPlaceholder(e.Content) {
			fields = append(fields, "内容")
		}
		codes := slices.Sorted(maps.Keys(e.Fields))
		for _, code := range codes {
			if kb.HasPlaceholder(e.Fields[code]) {
				label := code
				if spec, ok := e.Column.FieldSpec(code); ok {
					label = spec.Label
				}
				fields = append(fields, label)
			}
		}
		if len(fields) > 0 {
			gaps = append(gaps, gap{e, fields})
			byDept[e.Department]++
		}
	}
	if len(gaps) == 0 {
		fmt.Fprintln(w, "待填写的占位内容：没有")
		return nil
	}
	var depts []string
	for _, d := range slices.Sorted(maps.Keys(byDept)) {
		depts = append(depts, fmt.Sprintf("%s %d", d, byDept[d]))
	}
	fmt.Fprintf(w, "待填写的占位内容：%d 个条目（%s），答复中显示为“此项信息正在补充”，请维护人员补全：\n", len(gaps), strings.Join(depts, "，"))
	for _, g := range gaps[:min(len(gaps), 10)] {
		fmt.Fprintf(w, "  条目 %d“%s”（%s）：%s\n", g.e.ID, g.e.Title, g.e.Department, strings.Join(g.fields, "、"))
	}
	if len(gaps) > 10 {
		fmt.Fprintf(w, "  ……另有 %d 个\n", len(gaps)-10)
	}
	return nil
}

// writeCalibrationStatus says which calibration serve will answer with, by
// the profile name serve logs as calibration=, and whether the deployment's file is usable; a damaged one stops serve.
func writeCalibrationStatus(w io.Writer, path string) (ok bool) {
	c, m, err := deploymentCalibration(path)
	switch {
	case errors.Is(err, search.ErrCalibrationStale):
		fmt.Fprintf(w, "置信度校准：%s 是用另一版本的模型拟合的，服务将改用内置校准（%s，阈值 %.3f）；请重新运行 xiaoshen calibrate\n", path, search.DefaultModel.Profile, search.DefaultModel.Threshold)
	case err != nil:
		fmt.Fprintf(w, "置信度校准：%v；服务将无法启动：删除或移走该文件即恢复内置校准，再运行 xiaoshen calibrate 重新拟合\n", err)
		return false
	case m == nil:
		fmt.Fprintf(w, "置信度校准：内置（%s，阈值 %.3f）\n", search.DefaultModel.Profile, search.DefaultModel.Threshold)
	default:
		fmt.Fprintf(w, "置信度校准：本部署的（%s，%s，%d 个问题，%s 拟合，阈值 %.3f）\n", c.Profile.Name, path, c.Questions, c.FittedAt.In(kb.Shanghai).Format("2006-01-02 15:04"), c.Profile.Threshold)
	}
	return true
}

// printIndexReport prints the comparison of the store with the index.
func printIndexReport(w io.Writer, r *kb.IndexReport) {
	fmt.Fprintf(w, "知识库条目（数据库）：%d\n", r.StoreEntries)
	fmt.Fprintf(w, "索引文档：%d\n", r.IndexDocuments)
	fmt.Fprintf(w, "待索引的变更：%d\n", r.Queued)
	for _, part := range []struct {
		name string
		ids  []int64
	}{{"缺失", r.Missing}, {"版本过期", r.Stale}, {"多余", r.Extra}} {
		fmt.Fprintf(w, "%s：%d%s\n", part.name, len(part.ids), idList(part.ids))
	}
}

// idList shows the first entry ids of a list.
func idList(ids []int64) string {
	if len(ids) == 0 {
		return ""
	}
	const shown = 20
	parts := make([]string, 0, shown)
	for _, id := range ids[:min(len(ids), shown)] {
		parts = append(parts, fmt.Sprint(id))
	}
	more := ""
	if len(ids) > shown {
		more = " …"
	}
	return "（条目 " + strings.Join(parts, " ") + more + "）"
}
