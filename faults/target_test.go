package faults

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime/mounts"
)

// TestHostPIDTargetIsTheProcessNamed: `exec`, `mount`, `mounts` and
// `umount` with a host PID act in that process's namespaces and root, as
// nsenter -t PID does, not in its PID namespace's init's. The seed's second
// shell (nsenter --pid, then unshare --mount --uts, chroot) used to be
// entered and mounted into as if it were the init, with exit code 0.
func TestHostPIDTargetIsTheProcessNamed(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.FreshRootfs(t)
	initPID := testutil.StartUnshare(t, rootfs, "/bin/sleep", "1000")
	second := testutil.StartSecondShell(t, initPID, rootfs, "second", "/bin/sleep", "1001")
	init, sec := strconv.Itoa(initPID), strconv.Itoa(second)
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"", "0"} { // the fast path where it serves, and Go
		c.env = append(c.env, "BOXTUI_FASTEXEC="+mode)
		if got := c.mustRun("exec", sec, "--", "hostname"); got != "second\n" {
			t.Errorf("BOXTUI_FASTEXEC=%q exec %s -- hostname = %q, want the second shell's \"second\"", mode, sec, got)
		}
		if got := c.mustRun("exec", init, "--", "hostname"); got != host+"\n" {
			t.Errorf("BOXTUI_FASTEXEC=%q exec %s -- hostname = %q, want the init's %q", mode, init, got, host)
		}
	}

	srcA, srcB := t.TempDir(), t.TempDir()
	list := func(target string) []mounts.Mount {
		t.Helper()
		var ms, at []mounts.Mount
		if err := json.Unmarshal([]byte(c.mustRun("mounts", "--json", target)), &ms); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Target == "/mnt/t" {
				at = append(at, m)
			}
		}
		return at
	}
	inTable := func(pid int) int {
		t.Helper()
		infos, err := testutil.MountTableOf(pid)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, in := range infos {
			if in.Mountpoint == "/mnt/t" {
				n++
			}
		}
		return n
	}
	c.mustRun("mount", "--mkdir", sec, srcA, "/mnt/t")
	if a, b := inTable(second), inTable(initPID); a != 1 || b != 0 {
		t.Fatalf("after mount into the second shell: %d mounts at /mnt/t there, %d in the init's table; want 1 and 0", a, b)
	}
	if got := list(sec); len(got) != 1 || !got[0].Managed || got[0].Source != srcA {
		t.Errorf("mounts %s at /mnt/t: %+v, want %s managed", sec, got, srcA)
	}
	if got := list(init); len(got) != 0 {
		t.Errorf("mounts %s (the init) at /mnt/t: %+v, want nothing", init, got)
	}
	// exec, with and without --new-mount-proc (whose fresh mount namespace
	// starts as a copy of the process's), sees the mount in the second
	// shell only.
	if err := os.WriteFile(filepath.Join(srcA, "who"), []byte("srcA\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{sec}, {"--new-mount-proc", sec}} {
		if got := c.mustRun(append(append([]string{"exec"}, args...), "--", "cat", "/mnt/t/who")...); got != "srcA\n" {
			t.Errorf("exec %q cat /mnt/t/who = %q, want the mount made in the second shell", args, got)
		}
	}
	for _, args := range [][]string{{init}, {"--new-mount-proc", init}} {
		if out, _, code := c.run(append(append([]string{"exec"}, args...), "--", "cat", "/mnt/t/who")...); code == 0 {
			t.Errorf("exec %q cat /mnt/t/who = %q, want no such file in the init's namespace", args, out)
		}
	}
	c.mustRun("mount", init, srcB, "/mnt/t")
	if a, b := inTable(second), inTable(initPID); a != 1 || b != 1 {
		t.Fatalf("after mount into the init: %d mounts at /mnt/t in the second shell, %d in the init's; want 1 and 1", a, b)
	}
	if got := list(sec); len(got) != 1 || got[0].Source != srcA {
		t.Errorf("mounts %s at /mnt/t: %+v, want only %s", sec, got, srcA)
	}
	if got := list(init); len(got) != 1 || !got[0].Managed || got[0].Source != srcB {
		t.Errorf("mounts %s at /mnt/t: %+v, want %s managed", init, got, srcB)
	}
	c.mustRun("umount", sec, "/mnt/t")
	if a, b := inTable(second), inTable(initPID); a != 0 || b != 1 {
		t.Errorf("after umount in the second shell: %d mounts at /mnt/t there, %d in the init's; want 0 and 1", a, b)
	}
	c.mustRun("umount", init, "/mnt/t")
	if _, errOut, code := c.run("umount", sec, "/mnt/t"); code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("umount of a mount already gone: exit %d, %q; want one error line", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "mnt/t")); err != nil {
		t.Errorf("--mkdir into the second shell made no /mnt/t in its root: %v", err)
	}
}
