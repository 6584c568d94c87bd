package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"boxtui/internal/testutil"
)

// startMappedContainer starts a container the way a rootless runtime
// does: its own user namespace with ids 0-65535 inside mapped to
// 100000-165535 outside (setgroups denied), its own PID and mount
// namespaces, chrooted into rootfs, its init running as root inside. It
// returns the init's host PID.
func startMappedContainer(t *testing.T, rootfs string) int {
	t.Helper()
	// Pdeathsig fires when the forking thread exits: keep this one.
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	cmd := exec.Command("/bin/sleep", "1000", marker())
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		Chroot:      rootfs,
		Credential:  &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a user-namespaced container: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// Hot-plugged mounts work in a container with its own user namespace: the
// mount engine enters only its mount namespace, from the host's user
// namespace, where root has every capability. A rw mount is writable by
// root inside (as the host uid it maps to), remount --ro makes it
// read-only inside, umount removes it, mounts lists it, and no mount shows
// up on the host.
func TestMountIntoUserNamespacedContainer(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.FreshRootfs(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "from-host"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Root inside is uid 100000 outside: give it the directory.
	if err := os.Chown(src, 100000, 100000); err != nil {
		t.Fatal(err)
	}
	// The host's mounts under the rootfs and the source: the ones a
	// mount that went to the wrong namespace would show up as.
	hostMounts := func() string {
		a, err1 := testutil.MountsUnder(filepath.Dir(rootfs))
		b, err2 := testutil.MountsUnder(src)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		return strings.Join(append(a, b...), "\n")
	}
	before := hostMounts()
	pid := fmt.Sprint(startMappedContainer(t, rootfs))
	inside := func(script string) (string, int) {
		out, errOut, code := c.run("exec", pid, "--", "/bin/sh", "-c", script)
		return out + errOut, code
	}
	if out, code := inside("id -u"); code != 0 || out != "0\n" {
		t.Fatalf("exec into the user-namespaced container: exit %d, %q", code, out)
	}

	c.mustRun("mount", "--mkdir", pid, src, "/mnt/src")
	if out, code := inside("cat /mnt/src/from-host && echo inside > /mnt/src/from-container"); code != 0 || out != "hello\n" {
		t.Errorf("rw mount: exit %d, %q", code, out)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(src, "from-container"), &st); err != nil || st.Uid != 100000 {
		t.Errorf("the file root inside wrote: %v, owner %d; want host uid 100000", err, st.Uid)
	}
	if out := c.mustRun("mounts", pid); !strings.Contains(out, "/mnt/src") || !strings.Contains(out, " rw ") {
		t.Errorf("mounts does not list /mnt/src rw:\n%s", out)
	}

	c.mustRun("remount", "--ro", pid, "/mnt/src")
	if out, code := inside("echo again > /mnt/src/from-container"); code == 0 || !strings.Contains(out, "Read-only file system") {
		t.Errorf("write after remount --ro: exit %d, %q; want a read-only file system", code, out)
	}
	if out := c.mustRun("mounts", pid); !strings.Contains(out, " ro ") {
		t.Errorf("mounts does not list /mnt/src ro:\n%s", out)
	}
	c.mustRun("remount", "--rw", pid, "/mnt/src")
	if out, code := inside("echo again > /mnt/src/from-container && cat /mnt/src/from-container"); code != 0 || out != "again\n" {
		t.Errorf("write after remount --rw: exit %d, %q", code, out)
	}

	c.mustRun("umount", pid, "/mnt/src")
	if out, code := inside("ls -A /mnt/src"); code != 0 || out != "" {
		t.Errorf("after umount /mnt/src holds %q (exit %d); want it empty", out, code)
	}
	if after := hostMounts(); after != before {
		t.Errorf("the host's mounts under the rootfs and the source changed: %q, then %q", before, after)
	}
}
