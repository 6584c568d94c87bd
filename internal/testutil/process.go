package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// PinThread keeps the test goroutine on its OS thread until the test's
// last cleanup. Children started with Pdeathsig (StartUnshare and the
// like) get that signal when the *thread* that forked them exits
// (go.dev/issue/27505); unpinned, that thread may later be taken by a
// goroutine that locks it and exits with it (a namespace entry does),
// killing the container mid-test. Call it before starting such children.
func PinThread(t testing.TB) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread) // registered first: runs last
}

// NSLink is the namespace link of a process ("mnt:[4026531841]"), read from
// the host's /proc.
func NSLink(t testing.TB, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatalf("read %s namespace of %d: %v", ns, pid, err)
	}
	return l
}

// StartGroup starts a host command in a process group of its own and, at
// cleanup, SIGKILLs the whole group and reaps the command.
func StartGroup(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}

// Children lists the child PIDs of pid (of its main thread, from
// /proc/PID/task/PID/children); none when pid is gone.
func Children(pid int) []int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}
