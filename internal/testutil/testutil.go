// Package testutil holds helpers shared by boxtui's tests: skipping without
// root, one real root filesystem per test binary, containers started the
// way the seed blog post does (unshare + chroot), polling with deadlines,
// and mount table snapshots for leak checks.
//
// It must not import boxtui/runtime, so that runtime's own in-package tests
// can use it without an import cycle.
//
// A package whose tests call Rootfs should remove the shared tree when the
// test binary ends:
//
//	func TestMain(m *testing.M) { testutil.Main(m) }
//
// Without that, the tree is left in os.TempDir() and removed by the next
// test binary that builds one (it belongs to a dead PID by then).
package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/runtime/rootfs"
)

// RequireRoot skips the test unless it runs as root. why says what the test
// needs root for ("mounts proc", "joins namespaces"); the skip message is
// "needs root: <why>".
func RequireRoot(t testing.TB, why ...string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	reason := strings.Join(why, " ")
	if reason == "" {
		reason = t.Name() + " makes namespaces, mounts or chroots"
	}
	t.Skip("needs root: " + reason)
}

// Main runs the tests of a package and then Cleanup, and exits. Use it as
// the whole body of TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

const sharedPrefix = "boxtui-testrootfs-"

var (
	sharedOnce sync.Once
	sharedDir  string // the per-process parent; the rootfs is sharedDir/rootfs
	sharedErr  error
)

// Rootfs returns a root filesystem built by rootfs.Create, shared by every
// test of this test binary (built once, about 0.1-1 s). Treat it as
// read-only: tests may run in parallel on it. A test that mounts into it
// must unmount in its own cleanup; one that must change files should use
// FreshRootfs.
func Rootfs(t testing.TB) string {
	t.Helper()
	sharedOnce.Do(func() {
		removeStaleRootfs()
		sharedDir = filepath.Join(os.TempDir(), sharedPrefix+strconv.Itoa(os.Getpid()))
		if sharedErr = os.RemoveAll(sharedDir); sharedErr != nil {
			return
		}
		if sharedErr = os.MkdirAll(sharedDir, 0o700); sharedErr != nil {
			return
		}
		_, sharedErr = rootfs.Create(filepath.Join(sharedDir, "rootfs"), rootfs.Options{})
	})
	if sharedErr != nil {
		t.Fatalf("build shared test rootfs: %v", sharedErr)
	}
	return filepath.Join(sharedDir, "rootfs")
}

// FreshRootfs builds a root filesystem of the test's own in t.TempDir(),
// for tests that change files in it.
func FreshRootfs(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	if _, err := rootfs.Create(dir, rootfs.Options{}); err != nil {
		t.Fatalf("build test rootfs: %v", err)
	}
	return dir
}

// Cleanup removes the binary Binary built and the rootfs shared by Rootfs.
// It refuses to remove the rootfs (and says so on
// stderr) while something is still mounted inside it, rather than have
// RemoveAll descend into a mount.
func Cleanup() {
	removeBinary()
	if sharedDir == "" {
		return
	}
	if ms, err := MountsUnder(sharedDir); err == nil && len(ms) > 0 {
		fmt.Fprintf(os.Stderr, "testutil: not removing %s: still mounted inside: %s\n", sharedDir, strings.Join(ms, ", "))
		return
	}
	os.RemoveAll(sharedDir)
}

// removeStaleRootfs removes shared trees left by test binaries that ended
// without Cleanup; they are keyed by the PID of a process now gone.
func removeStaleRootfs() {
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		pidText, ok := strings.CutPrefix(e.Name(), sharedPrefix)
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // alive (or PID reused: leave it, it is only disk)
		}
		dir := filepath.Join(os.TempDir(), e.Name())
		if ms, err := MountsUnder(dir); err == nil && len(ms) == 0 {
			os.RemoveAll(dir)
		}
	}
}

// WaitFor polls cond every few milliseconds until it returns true, and fails
// the test with msg if timeout passes first. Call it from the test goroutine.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	WaitForState(t, timeout, msg, func() (bool, string) { return cond(), "" })
}

// WaitForState is WaitFor for a condition that can say how things stand
// when it does not hold: state returns whether the wait is over and, if
// not, what it saw ("terminal 1 has \"ech\""); the last of those ends the
// failure message. Call it from the test goroutine.
func WaitForState(t testing.TB, timeout time.Duration, msg string, state func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		done, now := state()
		if done {
			return
		}
		if time.Now().After(deadline) {
			if now != "" {
				t.Fatalf("timed out after %v waiting for %s; last seen: %s", timeout, msg, now)
			} else {
				t.Fatalf("timed out after %v waiting for %s", timeout, msg)
			}
			return
		}
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}
