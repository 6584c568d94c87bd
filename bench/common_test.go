package bench

import (
	"os"
	"os/exec"
	"sort"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// boxtuiBin returns the boxtui binary to measure: $BOXTUI_BIN (what `make
// bench` sets), else one built once for this test binary.
func boxtuiBin(tb testing.TB) string { return testutil.Binary(tb) }

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

// fastTenth returns the 10th percentile of ds (which it sorts): on a busy
// shared machine the median carries other people's load, the fastest tenth
// shows what a way costs by itself.
func fastTenth(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/10].Round(time.Microsecond)
}

// timeCmd runs name args once and returns how long it took.
func timeCmd(tb testing.TB, name string, args ...string) time.Duration {
	tb.Helper()
	return timeCmdEnv(tb, nil, name, args...)
}

// timeCmdEnv is timeCmd with env added to the environment.
func timeCmdEnv(tb testing.TB, env []string, name string, args ...string) time.Duration {
	tb.Helper()
	cmd := exec.Command(name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		tb.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return d
}

func TestMain(m *testing.M) { testutil.EngineMain(m) }
