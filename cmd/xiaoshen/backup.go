package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"xiaoshen/kb"
	"xiaoshen/store"
)

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "数据目录，服务运行时也可备份（环境变量 XIAOSHEN_DATA）")
	out := fs.String("out", "", "备份文件路径，如 /backup/xiaoshen-20261127.db")
	force := fs.Bool("force", false, "--out 已存在时覆盖它")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{fmt.Errorf("需要 --out 备份文件路径")}
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		// An earlier backup is worth keeping: a mistyped date in the name
		// would otherwise replace it.
		return usageError{fmt.Errorf("%s 已存在：换一个文件名，或加 --force 覆盖", *out)}
	}
	cfg := appConfig{DataDir: *data}
	if err := requireDatabase(*data); err != nil {
		return err
	}
	start := time.Now()
	info, err := store.Backup(ctx, cfg.dbPath(), *out, time.Now())
	if err != nil {
		return err
	}
	size := int64(0)
	if fi, err := os.Stat(*out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "备份完成：%s（%d 个条目，数据库结构 %s，%.1f MB，用时 %s）\n", *out, info.Entries, info.SchemaVersion,
		float64(size)/(1<<20), time.Since(start).Round(time.Millisecond))
	return nil
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	data := envString(fs, "data", "XIAOSHEN_DATA", "./data", "要恢复到的数据目录，服务须已停止（环境变量 XIAOSHEN_DATA）")
	in := fs.String("in", "", "由 xiaoshen backup 生成的备份文件")
	yes := fs.Bool("yes", false, "不再询问确认")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *in == "" {
		return usageError{fmt.Errorf("需要 --in 备份文件")}
	}
	cfg := appConfig{DataDir: *data}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	lock, err := lockDataDir(*data)
	if err != nil {
		return err
	}
	defer lock.Release()
	info, err := store.ReadBackupInfo(ctx, *in)
	if err != nil {
		return errors.New(kb.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "备份：%s，备份时间 %s，数据库结构 %s，%d 个条目\n", *in, info.CreatedAt.Format("2006-01-02 15:04:05"), info.SchemaVersion, info.Entries)
	_, statErr := os.Stat(cfg.dbPath())
	replacing := statErr == nil
	// Revoking a token, disabling a user or resetting a password is a
	// security decision that the backup may predate; read them now, while
	// the database is still here.
	keep, revErr := store.ReadRevocations(ctx, cfg.dbPath())
	if revErr != nil {
		reason, detail := "数据目录中没有现有数据库", ""
		if replacing {
			reason = "现有数据库无法读取（已损坏或不是数据库文件）"
			if errors.Is(revErr, os.ErrPermission) {
				reason = "现有数据库无权读取"
			}
			// The store's words help whoever looks into it, after the message.
			detail = fmt.Sprintf("（详情：%v）", revErr)
		}
		fmt.Fprintf(stderr, "警告：%s，备份时间（%s）之后吊销的令牌、停用的用户和重设的密码无法带到恢复后的数据库，"+
			"吊销的令牌、停用的用户和重设前的旧密码可能重新生效。"+
			"恢复后请立即用 xiaoshen token list 和 xiaoshen user list 核对，重新吊销、停用，并用 xiaoshen user passwd 再次重设这些密码。%s\n",
			reason, info.CreatedAt.Format("2006-01-02 15:04:05"), detail)
	}
	if replacing && !*yes && !confirm(stderr, fmt.Sprintf("将用备份替换 %s 中的数据库（原数据库另存为 xiaoshen.db.before-restore-日期时间），确认吗？", *data)) {
		fmt.Fprintln(stdout, "已取消，未做任何更改。要在脚本中恢复，请加 --yes。")
		return exitCode(1)
	}
	restored, err := store.Restore(ctx, *in, cfg.dbPath(), keep, time.Now())
	if err != nil {
		if kb.ErrorCode(err) != kb.EINTERNAL {
			return errors.New(kb.ErrorMessage(err))
		}
		return err
	}
	// The index belongs to the old database; the next start rebuilds it
	// from the restored one.
	for _, dir := range []string{cfg.indexPath(), cfg.indexPath() + ".building"} {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove index: %w", err)
		}
	}
	fmt.Fprintf(stdout, "已恢复到 %s：%d 个条目。检索索引已删除，下次启动服务时从数据库重建。\n", *data, info.Entries)
	if revErr == nil {
		printCarried(stdout, restored.Carried)
		printLost(stdout, restored.Lost)
	} else {
		fmt.Fprintln(stdout, "吊销、停用与密码重设：未能从原数据库带入（见上方警告），请用 xiaoshen token list 和 xiaoshen user list 核对。")
	}
	fmt.Fprintln(stdout, "审核页面的登录已全部失效，审核员需重新登录。")
	if restored.KeptAs != "" {
		wal := ""
		if _, err := os.Stat(restored.KeptAs + "-wal"); err == nil {
			// A database too damaged to checkpoint is kept with its WAL.
			wal = fmt.Sprintf("（连同 %s-wal，二者须一起保留或删除）", restored.KeptAs)
		}
		fmt.Fprintf(stdout, "原数据库保存在 %s，%s确认无误后可删除。\n", restored.KeptAs, wal)
	}
	return nil
}

// printLost lists the accounts created after the backup, which the
// restore took away: a chatbot using such a token stops at once.
func printLost(w io.Writer, lost *store.Lost) {
	if lost.Empty() {
		return
	}
	fmt.Fprintln(w, "以下账号和令牌是备份之后创建的，恢复后已不存在；仍需要的请重新创建（xiaoshen user create、xiaoshen token create）：")
	for _, u := range lost.Users {
		fmt.Fprintf(w, "  用户 %s\n", u)
	}
	for _, t := range lost.Tokens {
		fmt.Fprintf(w, "  令牌 %d（%s）\n", t.ID, t.Name)
	}
}

// printCarried lists the revocations and password resets a restore kept
// although the backup predates them.
func printCarried(w io.Writer, carried *store.Revocations) {
	if carried.Empty() {
		fmt.Fprintln(w, "吊销、停用与密码重设：备份之后没有新吊销的令牌、新停用的用户或重设的密码，无需带入。")
		return
	}
	fmt.Fprintln(w, "以下吊销、停用与密码重设发生在备份之后，已带入恢复后的数据库：")
	for _, t := range carried.Tokens {
		fmt.Fprintf(w, "  令牌 %d（%s），吊销于 %s\n", t.ID, t.Name, t.RevokedAt.Format("2006-01-02 15:04"))
	}
	for _, u := range carried.Users {
		fmt.Fprintf(w, "  用户 %s，停用于 %s\n", u.Name, u.DisabledAt.Format("2006-01-02 15:04"))
	}
	for _, p := range carried.Passwords {
		fmt.Fprintf(w, "  用户 %s 的密码（备份之后重设过，旧密码不能再登录）\n", p.Name)
	}
}
