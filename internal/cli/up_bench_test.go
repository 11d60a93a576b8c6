package cli_test

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/testenv"
)

var idleWindow = flag.Duration("kdp.idle", 60*time.Second, "how long BenchmarkUpIdle lets kdp idle before it measures")

// BenchmarkUp measures `kdp up` (control plane and manager) from exec to
// ready (the "is up" line, after /readyz is ok and the kubeconfig written),
// on a fresh data dir and on a restart of an existing one, and the clean
// shutdown after SIGTERM.
func BenchmarkUp(b *testing.B) {
	for _, restart := range []bool{false, true} {
		name := "fresh"
		if restart {
			name = "restart"
		}
		b.Run(name, func(b *testing.B) {
			var up, stop time.Duration
			n := 0
			for b.Loop() {
				dir := filepath.Join(b.TempDir(), "data")
				if restart {
					e := startKdp(b, dir)
					stopKdp(b, e)
				}
				start := time.Now()
				e := startKdp(b, dir)
				up += time.Since(start)
				start = time.Now()
				stopKdp(b, e)
				stop += time.Since(start)
				n++
			}
			b.ReportMetric(up.Seconds()/float64(n), "s-to-ready")
			b.ReportMetric(stop.Seconds()/float64(n), "s-to-stop")
		})
	}
}

// BenchmarkUpIdle measures an idle `kdp up`: resident memory after
// -kdp.idle (60 s by default), and the CPU it used during that window.
func BenchmarkUpIdle(b *testing.B) {
	var rss, cpu float64
	n := 0
	for b.Loop() {
		e := startKdp(b, filepath.Join(b.TempDir(), "data"))
		time.Sleep(5 * time.Second) // let start-up work settle before the window
		before := cpuSeconds(b, e.Pid())
		time.Sleep(*idleWindow)
		cpu += (cpuSeconds(b, e.Pid()) - before) / idleWindow.Seconds() * 100
		rss += rssMiB(b, e.Pid())
		stopKdp(b, e)
		n++
	}
	b.ReportMetric(rss/float64(n), "MiB-rss")
	b.ReportMetric(cpu/float64(n), "%cpu-idle")
}

func startKdp(b *testing.B, dir string) *testenv.Env {
	b.Helper()
	e, err := testenv.Start(testenv.Options{DataDir: dir, Full: true})
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func stopKdp(b *testing.B, e *testenv.Env) {
	b.Helper()
	if err := e.Stop(); err != nil {
		b.Fatal(err)
	}
	e.Cleanup()
}

// cpuSeconds is the user+system CPU time of pid, from /proc/PID/stat.
func cpuSeconds(b *testing.B, pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th of them, in clock ticks (100 per second).
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100
}

func rssMiB(b *testing.B, pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
