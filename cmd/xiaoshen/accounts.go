package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"xiaoshen/kb"
	"xiaoshen/store"
)

// openStore opens only the SQLite store of a data directory; it is safe
// while the server runs (WAL mode).
func openStore(data string) (*store.Store, error) {
	if _, err := os.Stat(data); err != nil {
		return nil, fmt.Errorf("数据目录 %s 不存在：%w", data, err)
	}
	return store.Open(filepath.Join(data, "xiaoshen.db"))
}

// parseAndOpen parses a subcommand's flags, refusing stray words, and opens
// the store of its data directory.
func parseAndOpen(fs *flag.FlagSet, args []string, data *string) (*store.Store, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return openStore(*data)
}

// askedForHelp reports whether the first word of a command made of
// subcommands asks for its help, which the flag package would give a
// subcommand's flags.
func askedForHelp(args []string) bool {
	return len(args) > 0 && slices.Contains([]string{"-h", "-help", "--help"}, args[0])
}

const userUsage = "用法：xiaoshen user create|list|passwd|disable --data DIR ..."

const userHelp = userUsage + `

子命令：
  create   创建审核页面账号（登录名、角色、部门、初始密码）
  list     列出所有账号及其状态
  passwd   重设密码，该账号已登录的会话均退出
  disable  停用账号，已登录的会话立即失效

各子命令的参数：xiaoshen user <子命令> -h`

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := usageError{errors.New(userUsage)}
	if len(args) == 0 {
		return usage
	}
	if askedForHelp(args) {
		fmt.Fprintln(stderr, userHelp)
		return flag.ErrHelp
	}
	fs := newFlagSet("user "+args[0], stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "数据目录（环境变量 XIAOSHEN_DATA）")
	switch args[0] {
	case "create":
		name := fs.String("name", "", "登录名")
		role := fs.String("role", "", "角色：reviewer（审核员）、maintainer（维护员）或 admin（管理员）")
		department := fs.String("department", "", "部门（审核员和维护员必填）")
		fromStdin := fs.Bool("password-stdin", false, "从标准输入的第一行读取密码")
		st, err := parseAndOpen(fs, args[1:], data)
		if err != nil {
			return err
		}
		defer st.Close()
		password, generated, err := newPassword(*fromStdin)
		if err != nil {
			return err
		}
		if err := warnNewDepartment(ctx, st, *role, *department, stderr); err != nil {
			return err
		}
		id, err := st.CreateUser(ctx, *name, *role, *department, password)
		if err != nil {
			return fmt.Errorf("%s", kb.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "已创建用户 %s（编号 %d，角色 %s，部门 %s）\n", *name, id, *role, orDash(*department))
		if generated {
			fmt.Fprintf(stdout, "初始密码（只显示这一次）：\n%s\n", password)
		}
		return nil
	case "list":
		st, err := parseAndOpen(fs, args[1:], data)
		if err != nil {
			return err
		}
		defer st.Close()
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "编号\t登录名\t角色\t部门\t创建时间\t状态")
		for _, u := range users {
			state := "有效"
			if u.DisabledAt != nil {
				state = "已停用 " + u.DisabledAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, orDash(u.Department), u.CreatedAt.Format("2006-01-02 15:04"), state)
		}
		return tw.Flush()
	case "passwd":
		fromStdin := fs.Bool("password-stdin", false, "从标准输入的第一行读取新密码；不加时生成随机密码")
		name, st, err := openNamedUser(fs, args[1:], data, " [--password-stdin]")
		if err != nil {
			return err
		}
		defer st.Close()
		password, generated, err := newPassword(*fromStdin)
		if err != nil {
			return err
		}
		if err := st.SetPassword(ctx, name, password); err != nil {
			return fmt.Errorf("%s", kb.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "已重设用户 %s 的密码，该用户已登录的会话均已退出\n", name)
		if generated {
			fmt.Fprintf(stdout, "新密码（只显示这一次）：\n%s\n", password)
		}
		return nil
	case "disable":
		name, st, err := openNamedUser(fs, args[1:], data, "")
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.DisableUser(ctx, name); err != nil {
			return fmt.Errorf("%s", kb.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "已停用用户 %s：不能再登录，已登录的会话立即失效\n", name)
		return nil
	}
	return usage
}

// openNamedUser adds --name to the flags of a subcommand acting on one
// user, parses args, and opens the store of the data directory (the
// --data flag, read once parsed); flags names the subcommand's other
// flags for its usage line.
func openNamedUser(fs *flag.FlagSet, args []string, data *string, flags string) (string, *store.Store, error) {
	name := fs.String("name", "", "登录名")
	if err := parseFlags(fs, args); err != nil {
		return "", nil, err
	}
	if *name == "" {
		return "", nil, usageError{fmt.Errorf("用法：%s --data DIR --name 登录名%s", fs.Name(), flags)}
	}
	st, err := openStore(*data)
	return *name, st, err
}

// newPassword reads a password from the first line of stdin, or generates
// a random one when fromStdin is false.
func newPassword(fromStdin bool) (password string, generated bool, err error) {
	if !fromStdin {
		return randomPassword(), true, nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", false, fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

// randomPassword returns a random initial password (base32, 130 bits).
func randomPassword() string { return rand.Text() }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

const tokenUsage = "用法：xiaoshen token create|list|revoke --data DIR ..."

const tokenHelp = tokenUsage + `

子命令：
  create   创建访问令牌（持有人、角色、部门），令牌只显示一次
  list     列出所有令牌及其状态
  revoke   按编号吊销令牌

各子命令的参数：xiaoshen token <子命令> -h`

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := usageError{errors.New(tokenUsage)}
	if len(args) == 0 {
		return usage
	}
	if askedForHelp(args) {
		fmt.Fprintln(stderr, tokenHelp)
		return flag.ErrHelp
	}
	fs := newFlagSet("token "+args[0], stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "数据目录（环境变量 XIAOSHEN_DATA）")
	switch args[0] {
	case "create":
		name := fs.String("name", "", "令牌持有人")
		role := fs.String("role", "", "角色：reviewer（审核员）、maintainer（维护员）、admin（管理员）或 chatbot（智能客服）")
		department := fs.String("department", "", "部门（审核员和维护员必填）")
		st, err := parseAndOpen(fs, args[1:], data)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := warnNewDepartment(ctx, st, *role, *department, stderr); err != nil {
			return err
		}
		id, secret, err := st.CreateToken(ctx, *name, *role, *department)
		if err != nil {
			return fmt.Errorf("%s", kb.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "已创建令牌 %d（%s，角色 %s，部门 %s）。令牌只显示这一次，请妥善保存：\n%s\n", id, *name, *role, orDash(*department), secret)
		return nil
	case "list":
		st, err := parseAndOpen(fs, args[1:], data)
		if err != nil {
			return err
		}
		defer st.Close()
		tokens, err := st.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "编号\t名称\t角色\t部门\t创建时间\t最近使用\t状态")
		for _, t := range tokens {
			used, state := "从未使用", "有效"
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.Format("2006-01-02 15:04")
			}
			if t.RevokedAt != nil {
				state = "已吊销 " + t.RevokedAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, orDash(t.Department), t.CreatedAt.Format("2006-01-02 15:04"), used, state)
		}
		return tw.Flush()
	case "revoke":
		if err := parseFlagsWithArgs(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageError{fmt.Errorf("用法：xiaoshen token revoke --data DIR 令牌编号")}
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return usageError{fmt.Errorf("令牌编号 %q 无效", fs.Arg(0))}
		}
		st, err := openStore(*data)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.RevokeToken(ctx, id); err != nil {
			return fmt.Errorf("%s", kb.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "已吊销令牌 %d\n", id)
		return nil
	}
	return usage
}

// overdueFailed is the exit status of overdue when it cannot tell; 1
// means items are overdue, so a cron job can tell the two apart.
const overdueFailed = 2

// runOverdue prints overdue review items per department, for a daily cron
// job; it exits 1 when any are overdue and 2 when it fails.
func runOverdue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("overdue", stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "用法：xiaoshen overdue [--data DIR]\n\n列出逾期未处理的问题，供每日定时任务使用。\n退出码：0 没有逾期的问题；1 有逾期的问题；2 出错（如数据目录不存在、参数有误）。\n\n参数：\n")
		fs.PrintDefaults()
	}
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "数据目录（环境变量 XIAOSHEN_DATA）")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	total, err := printOverdue(ctx, *data, stdout, stderr)
	if err != nil {
		return failure{err, overdueFailed}
	}
	if total > 0 {
		return exitCode(1)
	}
	return nil
}

// printOverdue prints the overdue review items of the data directory per
// department and returns how many there are.
func printOverdue(ctx context.Context, data string, stdout, stderr io.Writer) (int, error) {
	st, err := openStore(data)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	cal, err := loadCalendar(appConfig{DataDir: data, Logger: newLogger(stderr, "text", "error")})
	if err != nil {
		return 0, err
	}
	now := time.Now()
	overdue := true
	items, total, err := st.FindReviewItems(ctx, kb.ReviewFilter{Status: kb.StatusOpen, Overdue: &overdue, Now: now, Limit: 100000})
	if err != nil {
		return 0, err
	}
	if total == 0 {
		fmt.Fprintln(stdout, "没有逾期未处理的问题。")
		return 0, nil
	}
	byDept := map[string][]*kb.ReviewItem{}
	var depts []string
	for _, it := range items {
		if byDept[it.Department] == nil {
			depts = append(depts, it.Department)
		}
		byDept[it.Department] = append(byDept[it.Department], it)
	}
	fmt.Fprintf(stdout, "逾期未处理的问题共 %d 个（截至 %s）：\n", total, now.In(kb.Shanghai).Format("2006-01-02 15:04"))
	for _, d := range depts {
		fmt.Fprintf(stdout, "\n%s：%d 个\n", d, len(byDept[d]))
		for _, it := range byDept[d] {
			fmt.Fprintf(stdout, "  #%d  %s  应于 %s 前答复，已逾期 %d 个工作日，提问 %d 次（%s）\n", it.ID, it.Question,
				it.DueAt.Format("2006-01-02"), -cal.WorkingDaysLeft(now, it.DueAt), it.Occurrences, kb.ReviewTypeName(it.Type))
		}
	}
	return total, nil
}

// warnNewDepartment says so when an account names a department nothing in
// the data directory has yet: the account creates it, and a typo would
// show up in every department list.
func warnNewDepartment(ctx context.Context, st *store.Store, role, department string, w io.Writer) error {
	if department == "" || (role != kb.RoleReviewer && role != kb.RoleMaintainer) {
		return nil // no department, or the role's refusal says more
	}
	known, err := st.Departments(ctx)
	if err != nil || slices.Contains(known, department) {
		return err
	}
	fmt.Fprintf(w, "提醒：部门“%s”还没有条目、问题或账号，将作为新部门创建，并从此列在部门列表中。已有部门：%s\n", department, strings.Join(known, "、"))
	return nil
}
