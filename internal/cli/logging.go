package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kdp-project/kdp/internal/cluster"
)

// setVerbosity sets klog's verbosity. The embedded components set it too,
// from the same value.
func setVerbosity(v int) {
	var fs flag.FlagSet
	klog.InitFlags(&fs)
	_ = fs.Set("v", strconv.Itoa(v))
}

func logPath(f *upFlags, layout cluster.Layout) string {
	if f.logFile == "" {
		return layout.LogFile()
	}
	return f.logFile
}

// setupLogging sends every component's logs (they all log through klog) and
// the manager's to one file, or to stderr for "-".
func setupLogging(f *upFlags, layout cluster.Layout) (io.Writer, func(), error) {
	ctrl.SetLogger(klog.NewKlogr())
	setVerbosity(f.verbosity)
	path := logPath(f, layout)
	if path == "-" {
		return os.Stderr, func() { klog.Flush() }, nil
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--log-file: %w", err)
	}
	klog.LogToStderr(false)
	klog.SetOutput(file)
	return file, func() {
		klog.Flush()
		_ = file.Close()
	}, nil
}
