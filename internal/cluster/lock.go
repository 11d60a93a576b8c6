package cluster

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Lock is an exclusive advisory lock on a data directory, held for the life
// of a kdp process. The kernel drops it when the process dies, even by
// kill -9, so a stale lock never blocks a restart.
type Lock struct{ f *os.File }

// ErrLocked is returned when another process holds the lock.
var ErrLocked = errors.New("in use by another kdp process")

// AcquireLock takes the lock of the data directory at layout.Root without
// waiting. It records the holder's pid in the lock file for the error message
// a second kdp prints.
func AcquireLock(layout Layout) (*Lock, error) {
	f, err := os.OpenFile(layout.Lock(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", layout.Root, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(layout.Lock())
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("data dir %s is %w (pid %s); stop it or use another --data-dir", layout.Root, ErrLocked, pid)
		}
		return nil, fmt.Errorf("locking data dir %s: %w", layout.Root, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release drops the lock. The pid is left in the file: it is only read while
// the lock is held.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// PrepareDataDir creates the data directory (mode 0700) if it does not
// exist, and checks that kdp can write to it. It reports whether it created
// the directory, so that a start that fails early can leave nothing behind.
func PrepareDataDir(dir string) (created bool, err error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		created = true
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("data dir %s: %w", dir, pathCause(err))
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return created, fmt.Errorf("data dir %s is not writable: %w", dir, pathCause(err))
	}
	name := probe.Name()
	_ = probe.Close()
	return created, os.Remove(name)
}
