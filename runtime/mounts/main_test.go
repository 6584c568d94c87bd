package mounts

import (
	"os"
	"runtime"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime/reexec"
)

func init() {
	// As cmd/boxtui does: keep the main goroutine on the main thread, so the
	// runtime never parks a thread that entered a container in its place
	// (the main thread cannot exit; a tainted one would stay around).
	runtime.LockOSThread()
}

// TestMain also lets the test binary be launch's holder and init stages:
// launch.Run re-executes /proc/self/exe, which here is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && reexec.Is(os.Args[1]) {
		os.Exit(reexec.Run(os.Args[1], os.Args[2:]))
	}
	testutil.Main(m)
}
