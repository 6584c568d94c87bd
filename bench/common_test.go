package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// boxtuiBin returns the boxtui binary to measure: $BOXTUI_BIN (what `make
// bench` sets), else one built once for this test binary.
func boxtuiBin(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("BOXTUI_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "boxtui-bench-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "boxtui")
		out, err := exec.Command("go", "build", "-o", binPath, "boxtui/cmd/boxtui").CombinedOutput()
		if err != nil {
			binErr = &buildError{out: string(out), err: err}
		}
	})
	if binErr != nil {
		tb.Fatalf("build boxtui: %v", binErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: the benchmark builds real namespaces")
	}
}

// median returns the middle of ds (which it sorts).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// timeCmd runs name args once and returns how long it took.
func timeCmd(tb testing.TB, name string, args ...string) time.Duration {
	tb.Helper()
	cmd := exec.Command(name, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		tb.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return d
}
