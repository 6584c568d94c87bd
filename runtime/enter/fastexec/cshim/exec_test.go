//go:build cgo

package cshim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// hooked runs this test binary as `exec ARGS...`: fastexec.c's
// constructor takes it, with the hooks in env, and BOXTUI_FASTEXEC=require
// so that a decline exits 125 rather than starting the test main.
func hooked(t *testing.T, runDir string, env []string, timeout time.Duration, args ...string) (string, string, int) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, append([]string{"exec"}, args...)...)
	cmd.Env = append(os.Environ(), append([]string{"BOXTUI_RUN_DIR=" + runDir, "BOXTUI_FASTEXEC=require"}, env...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("exec %q with %q: still running after %v", args, env, timeout)
	}
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// shimContainer starts a container and makes its history through the
// boxtui binary's Go path (the fast path only appends to one).
func shimContainer(t *testing.T) (runDir, pid string) {
	t.Helper()
	testutil.RequireRoot(t, "enters namespaces")
	runDir = t.TempDir()
	initPID := testutil.StartUnshare(t, testutil.Rootfs(t), "/bin/sleep", "100000")
	pid = strconv.Itoa(initPID)
	out, errOut, code := testutil.RunBinaryEnv(t, []string{"BOXTUI_RUN_DIR=" + runDir, "BOXTUI_FASTEXEC=0"}, "", "exec", pid, "--", "/bin/true")
	if code != 0 {
		t.Fatalf("first exec (Go path): %d %q %q", code, out, errOut)
	}
	// The hook-less path works from this binary.
	if out, errOut, code := hooked(t, runDir, nil, 20*time.Second, pid, "--", "/bin/true"); code != 0 {
		t.Fatalf("exec through the shim: %d %q %q", code, out, errOut)
	}
	return runDir, pid
}

// TestUnreadableNamespaceDeclines: a namespace link of the target that
// cannot be read used to be skipped, and the others joined: a partial
// entry. Now the C path declines (before any side effect) and leaves it to Go.
func TestUnreadableNamespaceDeclines(t *testing.T) {
	runDir, pid := shimContainer(t)
	for _, ns := range []string{"mnt", "uts", "user", "time"} {
		_, errOut, code := hooked(t, runDir, []string{"BOXTUI_TEST_HIDE_NS=" + ns}, 20*time.Second, pid, "--", "/bin/true")
		if code != 125 || !strings.Contains(errOut, "fast exec declined: a namespace link of the target is unreadable") {
			t.Errorf("with the %s link unreadable: exit %d, %q; want the fast path to decline", ns, code, errOut)
		}
	}
}

// TestSignalAtForkForwarded: a SIGTERM that reaches boxtui between the fork
// and the moment it records the child's PID is forwarded, not lost (the
// hook sends it at exactly that moment).
func TestSignalAtForkForwarded(t *testing.T) {
	runDir, pid := shimContainer(t)
	start := time.Now()
	_, errOut, code := hooked(t, runDir, []string{"BOXTUI_TEST_SIGNAL_AT_FORK=1"}, 30*time.Second, pid, "--", "/bin/sleep", "20")
	if code != 128+15 {
		t.Fatalf("exit %d after %v (%q), want 143: the SIGTERM sent during the fork was not forwarded", code, time.Since(start), errOut)
	}
}

// TestCloseRangeFallback: with close_range failing, every fd boxtui was
// started with is still closed in the command (walked one by one).
func TestCloseRangeFallback(t *testing.T) {
	runDir, pid := shimContainer(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hostDir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer hostDir.Close()
	for _, hook := range []string{"0", "1"} {
		cmd := exec.Command(self, "exec", pid, "--", "sh", "-c", "ls /proc/$$/fd")
		cmd.Env = append(os.Environ(), "BOXTUI_RUN_DIR="+runDir, "BOXTUI_FASTEXEC=require", "BOXTUI_TEST_NO_CLOSE_RANGE="+hook)
		cmd.ExtraFiles = []*os.File{hostDir, hostDir, hostDir, nil, hostDir} // 3-5 and 7
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("hook %s: %v: %s", hook, err, errOut.String())
		}
		if fds := strings.Fields(out.String()); strings.Join(fds, " ") != "0 1 2" {
			t.Errorf("BOXTUI_TEST_NO_CLOSE_RANGE=%s: the command has fds %v, want only 0 1 2", hook, fds)
		}
	}
}

// TestContainerEndsWhileEntered: a container whose init exits after the
// C path has joined it (the hook kills it just before the fork) is
// reported as runtime/enter's Start reports it: for the process a host
// PID named, else for the container.
func TestContainerEndsWhileEntered(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	hook := []string{"BOXTUI_TEST_KILL_INIT_AT_FORK=1"}
	// The init named by its host PID: the container's end.
	initPID := testutil.StartUnshare(t, testutil.Rootfs(t), "/bin/sleep", "100000")
	makeHistory(t, runDir, initPID)
	_, errOut, code := hooked(t, runDir, hook, 20*time.Second, strconv.Itoa(initPID), "--", "/bin/true")
	if want := "boxtui: container " + strconv.Itoa(initPID) + ": no such process (its init exited while being entered)\n"; code != 1 || errOut != want {
		t.Errorf("init %d ended while entered: exit %d, %q; want 1, %q", initPID, code, errOut, want)
	}
	// Another process of a container, by its host PID: that process's.
	initPID = testutil.StartUnshare(t, testutil.Rootfs(t), "/bin/sh", "-c", "/bin/sleep 100000 & wait")
	makeHistory(t, runDir, initPID)
	var child int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, _ := os.ReadFile("/proc/" + strconv.Itoa(initPID) + "/task/" + strconv.Itoa(initPID) + "/children")
		f := strings.Fields(string(data))
		if len(f) > 0 {
			child, _ = strconv.Atoi(f[0])
		}
		return child > 0
	}, "the container's sleep")
	_, errOut, code = hooked(t, runDir, hook, 20*time.Second, strconv.Itoa(child), "--", "/bin/true")
	if want := "boxtui: process " + strconv.Itoa(child) + ": no such process (it exited while being entered)\n"; code != 1 || errOut != want {
		t.Errorf("process %d's container ended while entered: exit %d, %q; want 1, %q", child, code, errOut, want)
	}
}

// makeHistory makes the history of the container whose init is initPID
// through the boxtui binary's Go path (the fast path only appends to one).
func makeHistory(t *testing.T, runDir string, initPID int) {
	t.Helper()
	out, errOut, code := testutil.RunBinaryEnv(t, []string{"BOXTUI_RUN_DIR=" + runDir, "BOXTUI_FASTEXEC=0"}, "", "exec", strconv.Itoa(initPID), "--", "/bin/true")
	if code != 0 {
		t.Fatalf("first exec (Go path): %d %q %q", code, out, errOut)
	}
}
