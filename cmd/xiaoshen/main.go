// Command xiaoshen is the 小申 knowledge-base service: the server and the
// tools that maintain its data directory.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"xiaoshen/api"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"serve":       {"运行问答服务（默认加载内置知识库）", runServe},
	"reindex":     {"从 SQLite 重建检索索引", runReindex},
	"check":       {"检查数据库完整性及索引与数据库是否一致：check --data DIR [--repair]", runCheck},
	"backup":      {"在线备份数据库（服务运行时也可）：backup --data DIR --out FILE", runBackup},
	"restore":     {"从备份恢复数据库（服务须已停止）：restore --data DIR --in FILE [--yes]", runRestore},
	"calendar":    {"导入新一年的节假日安排、列出已载入的年份：calendar import --data DIR [--force] FILE | calendar list --data DIR", runCalendar},
	"healthcheck": {"检查本机服务是否就绪（容器健康检查用）", runHealthcheck},
	"user":        {"创建、列出、重设密码、停用审核页面账号：user create|list|passwd|disable --data DIR ...", runUser},
	"token":       {"创建、列出、吊销访问令牌：token create|list|revoke --data DIR ...", runToken},
	"eval":        {"评测答复质量：eval --data DIR --questions FILE（本部署的知识库）| --tianchi FILE | --kuake FILE | --corpus-questions DIR", runEval},
	"explain":     {"解释问题的匹配过程：分词、候选条目、置信度及影响最大的特征：explain [--data DIR | --corpus | --tianchi FILE] 问题…", runExplain},
	"fit":         {"拟合匹配模型（见 docs/quality.md）：fit --kuake TRAIN.json --tianchi DEV.csv --corpus-questions corpus/testdata", runFit},
	"calibrate":   {"按本部署的知识库和带标注的问题校准置信度与阈值（服务可在运行）：calibrate --data DIR --questions FILE|DIR", runCalibrate},
	"upload":      {"上传 Excel、CSV、JSON、Markdown、Word、网页文件到知识库（经服务器 API）", runUpload},
	"import":      {"离线导入文件到已停止服务的数据目录（首次批量导入）", runImport},
	"export":      {"导出栏目为 xlsx、csv 或 jsonl，可原样再上传", runExport},
	"entries":     {"查看、删除条目及其修改历史：entries list|show|delete|history", runEntries},
	"overdue":     {"列出逾期未答复的问题，供每日定时任务使用（退出码：0 无逾期，1 有逾期，2 出错）", runOverdue},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "xiaoshen: 未知子命令 %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "xiaoshen %s: %v\n", args[0], err)
			return 2
		}
		var f failure
		if errors.As(err, &f) {
			fmt.Fprintf(stderr, "xiaoshen %s: %v\n", args[0], err)
			return f.code
		}
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		fmt.Fprintf(stderr, "xiaoshen %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// usageError is a mistake in the command line.
type usageError struct{ error }

// failure ends a command with its message and a status other than 1, for
// a command whose status 1 reports a finding rather than an error.
type failure struct {
	error
	code int
}

// exitCode ends a command with a status but no further message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func usage(w io.Writer) {
	fmt.Fprintln(w, "用法：xiaoshen <子命令> [参数]\n\n子命令：")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\n各子命令的参数：xiaoshen <子命令> -h")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("xiaoshen "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, for a command that takes no positional
// arguments, and turns a flag error or a leftover word into a usage error.
// The flag package stops at the first word that is not a flag and would
// leave it unread: "--seed false" would seed all the same.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parseFlagsWithArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("多余的参数 %q%s", fs.Arg(0), boolValueHint(fs, args))}
	}
	return nil
}

// parseFlagsWithArgs parses args for a command that takes positional
// arguments (files, questions, an id), left in fs.Args(). A true or false
// right after a switch is still refused: it was meant as the switch's
// value, not as a file or a question.
func parseFlagsWithArgs(fs *flag.FlagSet, args []string) error {
	// The flag package prints its English message and the whole help
	// before returning an error; held back here, so that a bad value is
	// told in one line of what the flag expects.
	out := fs.Output()
	var held bytes.Buffer
	fs.SetOutput(&held)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			out.Write(held.Bytes())
			return err
		}
		if m := badFlagValue.FindStringSubmatch(err.Error()); m != nil {
			if f := fs.Lookup(m[2]); f != nil {
				if want := expectedValue(f.Value, err); want != "" {
					value, _ := strconv.Unquote(m[1])
					return usageError{fmt.Errorf("--%s=%q：%s", f.Name, value, want)}
				}
			}
		}
		out.Write(held.Bytes())
		return usageError{err}
	}
	if hint := boolValueHint(fs, args); hint != "" {
		return usageError{fmt.Errorf("多余的参数 %q%s", fs.Arg(0), hint)}
	}
	if at := len(args) - fs.NArg(); at > 0 && args[at-1] == "--" {
		return nil // the words after "--" are words, whatever they look like
	}
	for _, word := range fs.Args() {
		name, _, _ := strings.Cut(strings.TrimLeft(word, "-"), "=")
		if strings.HasPrefix(word, "-") && fs.Lookup(name) != nil {
			return usageError{fmt.Errorf("参数 %s 应写在 %q 之前：第一个不是参数的词之后的内容都不再按参数读取", word, fs.Arg(0))}
		}
	}
	return nil
}

// badFlagValue matches the flag package's error for a value its flag
// cannot take, capturing the quoted value and the flag's name.
var badFlagValue = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-(\S+): `)

// expectedValue says what a flag of v's type takes, for the error err of
// setting it; "" for a type whose own error says it best.
func expectedValue(v flag.Value, err error) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return ""
	}
	if strings.HasSuffix(err.Error(), "value out of range") {
		return "数值超出范围"
	}
	switch g.Get().(type) {
	case time.Duration:
		return "应为时长，如 15s、2m"
	case int, int64, uint, uint64:
		return "应为整数"
	case float64:
		return "应为数字"
	case bool:
		return "应为 true 或 false"
	}
	return ""
}

// boolValueHint explains a first positional word of true or false (or
// yes, no …) that follows a bool flag: the flag package takes such a value only as
// --name=false. It is "" otherwise.
func boolValueHint(fs *flag.FlagSet, args []string) string {
	if fs.NArg() == 0 {
		return ""
	}
	word := strings.ToLower(fs.Arg(0))
	value, ok := boolWords[word]
	at := len(args) - fs.NArg()
	if !ok || at == 0 {
		return ""
	}
	prev := args[at-1]
	name := strings.TrimLeft(prev, "-")
	if prev == "--" || name == prev || strings.Contains(name, "=") {
		return ""
	}
	f := fs.Lookup(name)
	if f == nil {
		return ""
	}
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
		return ""
	}
	return fmt.Sprintf("：布尔参数请写成 --%s=%s", name, value)
}

// boolWords are the words people write after a switch, and what they mean.
var boolWords = map[string]string{"true": "true", "false": "false", "yes": "true", "no": "false",
	"on": "true", "off": "false", "是": "true", "否": "false"}

// envString defines a string flag that, when the command line does not
// give it, takes the value of the environment variable env. The flag's
// default stays def, so help never prints the environment's value: it may
// be a secret such as XIAOSHEN_TOKEN. usage should name env.
func envString(fs *flag.FlagSet, name, env, def, usage string) *string {
	p := fs.String(name, def, usage)
	if v := os.Getenv(env); v != "" {
		*p = v // set before parsing, so the command line still wins
	}
	return p
}

// stringsFlag collects a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// newLogger returns the process logger: JSON or text lines on stderr, with
// the request id of each request.
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(api.LogHandler(h))
}
