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
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(root, "bin", ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	cmd := exec.Command("make", "-s", "build")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("make build: %w\n%s", err, out)
	}
	return filepath.Join(root, "bin", "kdp"), nil
}
