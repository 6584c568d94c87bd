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
