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

// pinThread locks the test goroutine to its OS thread until the test's
// cleanups have run. Call it before testutil.StartUnshare: that starts
// unshare with Pdeathsig, which the kernel ties to the forking *thread*;
// without the pin, that thread may later be taken by one of the engine's
// throwaway goroutines and exit with it, killing the container mid-test.
func pinThread(t *testing.T) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}
