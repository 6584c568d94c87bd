package mounts

import (
	"os"
	goruntime "runtime"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime"
)

func init() {
	// As cmd/boxtui does: keep the main goroutine on the main thread, so the
	// runtime never parks a thread that entered a container in its place
	// (the main thread cannot exit; a tainted one would stay around).
	goruntime.LockOSThread()
}

// TestMain also lets the test binary be launch's holder and init stages:
// launch.Run re-executes /proc/self/exe, which here is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && runtime.IsStage(os.Args[1]) {
		os.Exit(runtime.RunStage(os.Args[1], os.Args[2:]))
	}
	testutil.Main(m)
}
