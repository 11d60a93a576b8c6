package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// Binary returns the path of the kdp binary the tests run: $KDP_BINARY
// (`make test` builds it once and sets it), or else bin/kdp built now with
// `make build`. Building takes a lock, so test packages that start at the
// same time build it once between them.
func Binary() (string, error) {
	binaryOnce.Do(func() {
		if p := os.Getenv("KDP_BINARY"); p != "" {
			binaryPath, binaryErr = filepath.Abs(p)
			if binaryErr == nil {
				_, binaryErr = os.Stat(binaryPath)
			}
			return
		}
		binaryPath, binaryErr = build()
	})
	return binaryPath, binaryErr
}

func build() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(root, "bin", ".build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	cmd := exec.Command("make", "-s", "build")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("make build: %w\n%s", err, out)
	}
	return filepath.Join(root, "bin", "kdp"), nil
}

// moduleRoot is the directory of kdp's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// lockFile takes an exclusive lock on path, creating it and its directory,
// and returns the function that releases it. It serializes builds between
// test binaries that run at the same time.
func lockFile(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { lock.Close() }, nil
}
