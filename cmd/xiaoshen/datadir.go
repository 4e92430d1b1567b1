package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFileName is the file in the data directory that a process locks
// while it owns the index: serve, reindex, import, check and restore.
const lockFileName = "xiaoshen.lock"

// dataDirInUseError is returned when another process holds the data
// directory; its message names the holder.
type dataDirInUseError struct{ dir, holder string }

func (e *dataDirInUseError) Error() string {
	return fmt.Sprintf("数据目录 %s 正被另一个 xiaoshen 进程（pid %s）使用，请先停止该进程", e.dir, e.holder)
}

// dataLock is an exclusive advisory lock on a data directory. The kernel
// drops it when the process dies, even by SIGKILL, so a crash never leaves
// a stale lock behind.
type dataLock struct{ f *os.File }

// lockDataDir takes the data directory's lock without waiting, and writes
// the process id into the lock file so that a refused command can name the
// holder.
func lockDataDir(dir string) (*dataLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrPermission) {
		// Another user (root, say) created the file; a read-only
		// descriptor can hold the lock all the same.
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "未知"
			if raw, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(raw)) != "" {
				holder = strings.TrimSpace(string(raw))
			}
			return nil, &dataDirInUseError{dir: dir, holder: holder}
		}
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataLock{f: f}, nil
}

// Release drops the lock. The file stays: removing it could let two
// processes lock two different files of the same name.
func (l *dataLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	err := l.f.Close()
	l.f = nil
	return err
}
