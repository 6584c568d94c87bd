package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/mounts"

	"golang.org/x/sys/unix"
)

// hostTarget is a directory of the host that a hostile container aims its
// symlinks at: a tmpfs of its own with a file in it, so that a mount landing
// on it, or an unmount taking it away, shows.
func hostTarget(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("boxtui-faults", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(dir, "host-owned"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkHostTarget fails unless dir is still exactly what hostTarget made.
func checkHostTarget(t *testing.T, dir string) {
	t.Helper()
	if ms := mountsUnder(t, dir); len(ms) != 1 || ms[0] != dir {
		t.Fatalf("mounts at the host's %s changed: %v", dir, ms)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "host-owned" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("the host's %s now holds %v: something was mounted or made there", dir, names)
	}
}

// startSharedNS starts a container with no mount namespace of its own (the
// seed's first recipe without --mount-proc): mounts into it land in the
// host's mount table, which makes an escape there the worst case.
func startSharedNS(t *testing.T, rootfs string) discovery.Container {
	t.Helper()
	mark := marker()
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "chroot", rootfs, "/bin/sleep", "1000", mark)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		for _, pid := range processesWith(mark) {
			unix.Kill(pid, unix.SIGKILL)
		}
		// Whatever the test attached under the rootfs is in the host's
		// table: detach it. A mount may hide another below it (attached
		// before the one on top), so repeat until none is left.
		for range 50 {
			ms, _ := testutil.MountsUnder(rootfs)
			if len(ms) == 0 {
				return
			}
			for _, m := range ms {
				unix.Unmount(m, unix.MNT_DETACH)
			}
		}
		ms, _ := testutil.MountsUnder(rootfs)
		t.Errorf("mounts left under %s: %v", rootfs, ms)
	})
	var c discovery.Container
	testutil.WaitFor(t, 10*time.Second, func() bool {
		for _, pid := range processesWith(mark) {
			if pid == cmd.Process.Pid {
				continue
			}
			// Until chroot has exec'd sleep, the init's root is still the
			// host's /: boxtui would rightly mount there.
			found, err := discovery.FindContainer(fmt.Sprint(pid))
			if err == nil && found.PID == pid && strings.HasPrefix(found.Command, "/bin/sleep 1000 "+mark) {
				c = found
				return true
			}
		}
		return false
	}, "the shared-namespace container to start")
	return c
}

// exchanger swaps two directory entries with renameat2(RENAME_EXCHANGE) as
// fast as it can until stopped: the attack of runc's CVE-2021-30465, where
// a path component is a directory when it is checked and a symlink out of
// the root when it is used. It runs on the host side of the rootfs, which is
// the same directory the container sees: where the renames come from makes
// no difference to the race.
func exchanger(t *testing.T, a, b string) (swaps *atomic.Int64) {
	t.Helper()
	swaps = new(atomic.Int64)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE) == nil {
				swaps.Add(1)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return swaps
}

// checkSourceInRoot fails if the host's mount table shows src mounted
// anywhere but under rootfs (a container with its own mount namespace gets
// its mounts in that namespace: there, src shows nowhere in the host's).
func checkSourceInRoot(t *testing.T, src, rootfs string) {
	t.Helper()
	infos, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range infos {
		// Root is the source's path within its filesystem: src itself,
		// or its tail when /tmp is a mount of its own.
		if m.Root != "/" && strings.HasSuffix(src, m.Root) && !strings.HasPrefix(m.Mountpoint, rootfs+"/") {
			t.Fatalf("the source is mounted outside the container's root, at the host's %s", m.Mountpoint)
		}
	}
}

// A container swaps a directory on the path of a bind mount with a symlink
// to a host directory, over and over, while boxtui attaches and detaches
// mounts at that path hundreds of times. Resolution in the container's root
// and attaching to the resolved handle mean nothing is ever mounted on, or
// unmounted from, the host's directory; mounts land inside the rootfs.
func TestSymlinkExchangeDuringMountStaysInRoot(t *testing.T) {
	for _, ownNS := range []bool{true, false} {
		for _, link := range []string{"absolute", "relative"} {
			t.Run(fmt.Sprintf("ownNS=%v/%s", ownNS, link), func(t *testing.T) {
				c := newCLI(t)
				host := hostTarget(t)
				rootfs := testutil.FreshRootfs(t)
				x := filepath.Join(rootfs, "x")
				if err := os.MkdirAll(filepath.Join(x, "t"), 0o755); err != nil {
					t.Fatal(err)
				}
				to := host
				if link == "relative" {
					to = strings.Repeat("../", 16) + strings.TrimPrefix(host, "/")
				}
				if err := os.Symlink(to, filepath.Join(x, "alt")); err != nil {
					t.Fatal(err)
				}
				src := t.TempDir()
				if err := os.WriteFile(filepath.Join(src, "SENTINEL"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				var ct discovery.Container
				if ownNS {
					ct = c.detached("exchange", rootfs, "/bin/sleep", "1000")
				} else {
					ct = startSharedNS(t, rootfs)
				}
				swaps := exchanger(t, filepath.Join(x, "t"), filepath.Join(x, "alt"))
				added, refused := 0, 0
				for i := range 300 {
					target, opts := "/x/t", mounts.AddOptions{ReadOnly: i%2 == 0}
					if i%3 == 0 {
						target, opts.Mkdir = fmt.Sprintf("/x/t/m%d", i), true
					}
					if err := mounts.AddToProcess(ct.PID, ct.StartTime, src, target, opts); err != nil {
						refused++
					} else {
						added++
						checkSourceInRoot(t, src, rootfs)
						mounts.RemoveFromProcess(ct.PID, ct.StartTime, target)
					}
					checkHostTarget(t, host)
				}
				t.Logf("%d swaps: %d mounts attached (inside the rootfs), %d refused", swaps.Load(), added, refused)
				checkHostTarget(t, host)
			})
		}
	}
}

// `boxtui exec -w DIR` with DIR a symlink out of the container (absolute,
// or climbing with ..): the working directory is resolved inside the
// container's root, so the command never starts in the host's directory.
func TestExecWorkdirThroughSymlinkStaysInRoot(t *testing.T) {
	c := newCLI(t)
	host := hostTarget(t)
	rootfs := testutil.FreshRootfs(t)
	for name, to := range map[string]string{
		"abs": host,
		"rel": strings.Repeat("../", 16) + strings.TrimPrefix(host, "/"),
		"mid": "/",
	} {
		if err := os.Symlink(to, filepath.Join(rootfs, "w"+name)); err != nil {
			t.Fatal(err)
		}
	}
	c.detached("workdir", rootfs, "/bin/sleep", "1000")
	for _, dir := range []string{"/wabs", "/wrel", "/wmid" + host} {
		out, errOut, code := c.run("exec", "-w", dir, "workdir", "--", "/bin/ls", "-a")
		if strings.Contains(out, "host-owned") {
			t.Fatalf("exec -w %s ran in the host's %s: %q", dir, host, out)
		}
		if code != 0 && (strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "working directory")) {
			t.Errorf("exec -w %s: exit %d, %q; want one line about the working directory", dir, code, errOut)
		}
	}
	checkHostTarget(t, host)
}
