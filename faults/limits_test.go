package faults

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
)

// Known limit, pinned: a boxtui container's root is the host's root. It
// keeps every capability, sees a writable /proc/sys (core_pattern there is
// global: writing it runs a program as root on the host), and boxtui sets
// no seccomp filter, capability bound, user namespace or cgroup limit.
// docs/security.md says so; if this test starts failing, hardening has
// landed and that page must be updated with it.
func TestContainersAreNotASecurityBoundary(t *testing.T) {
	c := newCLI(t)
	c.detached("plain", testutil.Rootfs(t), "/bin/sleep", "1000")
	out := c.mustRun("exec", "plain", "--", "/bin/sh", "-c",
		`grep CapEff /proc/1/status; test -w /proc/sys/kernel/core_pattern && echo core-pattern-writable; grep -c . /proc/1/uid_map`)
	t.Logf("inside a boxtui container:\n%s", out)
	if !strings.Contains(out, "core-pattern-writable") {
		t.Errorf("/proc/sys is not writable inside: update docs/security.md (hardening landed?)")
	}
	var capEff uint64
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			capEff, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	// CAP_SYS_MODULE (16), CAP_SYS_ADMIN (21), CAP_MKNOD (27): each alone
	// is enough to take the host over.
	for _, bit := range []uint{16, 21, 27} {
		if capEff&(1<<bit) == 0 {
			t.Errorf("the container's init lacks capability %d (CapEff %#x): update docs/security.md", bit, capEff)
		}
	}
}

// startUnshareWith starts `unshare FLAGS --pid --fork --kill-child sleep`
// on the host's own files and returns the container found for its init.
func startUnshareWith(t *testing.T, flags ...string) discovery.Container {
	t.Helper()
	mark := marker()
	args := append(append([]string{}, flags...), "--pid", "--fork", "--kill-child", "/bin/sleep", "1000", mark)
	cmd := exec.Command("unshare", args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var c discovery.Container
	testutil.WaitFor(t, 10*time.Second, func() bool {
		for _, pid := range processesWith(mark) {
			found, err := discovery.FindContainer(fmt.Sprint(pid))
			if err == nil && found.PID == pid && strings.HasPrefix(found.Command, "/bin/sleep 1000 "+mark) {
				c = found
				return true
			}
		}
		return false
	}, "the container to start")
	return c
}

// A multithreaded program cannot join a user or a time namespace; boxtui's
// C stages can. Every exec path enters a container that has its own, as
// nsenter -a does: the plain exec both ways (C fast path, Go through the
// enter stage), a PTY, --new-mount-proc. Before the stage, boxtui refused
// them with one line ("joining a user namespace is not supported").
func TestOwnUserOrTimeNamespaceIsEntered(t *testing.T) {
	c := newCLI(t)
	with := func(env ...string) *cli {
		d := *c
		d.env = append(append([]string{}, c.env...), env...)
		return &d
	}
	const probe = "readlink /proc/self/ns/user /proc/self/ns/time /proc/self/ns/pid; id -u; id -g"
	for ns, flags := range map[string][]string{
		"user": {"--user", "--map-root-user", "--mount-proc"},
		"time": {"--time", "--boottime", "1000"},
	} {
		ct := startUnshareWith(t, flags...)
		pid := fmt.Sprint(ct.PID)
		if _, ok := findPID(c.ls(false), ct.PID); !ok {
			t.Errorf("the container with its own %s namespace is not listed", ns)
		}
		want, err := exec.Command("nsenter", "-t", pid, "-a", "/bin/sh", "-c", probe).Output()
		if err != nil {
			t.Fatalf("nsenter -t %s -a: %v", pid, err)
		}
		for _, tc := range []struct {
			name string
			c    *cli
			args []string
		}{
			{"go path and enter stage", with("BOXTUI_FASTEXEC=0"), []string{"exec", pid}},
			{"fast path", with("BOXTUI_FASTEXEC=require"), []string{"exec", pid}},
			{"pty", c, []string{"exec", "-t", pid}},
			{"new mount proc", c, []string{"exec", "--new-mount-proc", pid}},
		} {
			out, errOut, code := tc.c.run(append(tc.args, "--", "/bin/sh", "-c", probe)...)
			out = strings.ReplaceAll(out, "\r\n", "\n") // the PTY's
			if code != 0 || out != string(want) {
				t.Errorf("%s namespace, %s: exit %d, %q%s; nsenter -a prints %q", ns, tc.name, code, out, errOut, want)
			}
		}
		c.mustRun("kill", "-s", "KILL", pid)
		testutil.WaitFor(t, 5*time.Second, func() bool { return !alive(ct.PID) }, "the container to die")
	}
}

// findPID returns the listed container whose init is pid.
func findPID(cs []discovery.Container, pid int) (discovery.Container, bool) {
	for _, c := range cs {
		if c.PID == pid {
			return c, true
		}
	}
	return discovery.Container{}, false
}
