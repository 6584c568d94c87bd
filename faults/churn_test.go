package faults

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"boxtui/internal/testutil"

	"golang.org/x/sys/unix"
)

// hostChurn makes the host busy the way that broke scoped lookups: one
// goroutine renames a file back and forth in a host temp dir as fast as it
// can (rename_lock), another mounts a tmpfs on a host temp dir and unmounts
// it again in a loop (mount_lock). Any openat2(RESOLVE_IN_ROOT) that
// crosses ".." meanwhile fails with EAGAIN unless it is retried. Both stop,
// and everything they made is unmounted and removed, when the test ends.
func hostChurn(t *testing.T) (renames, mounts *atomic.Int64) {
	t.Helper()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A private bind of a dir on itself: the tmpfs mounts below it do not
	// propagate into other mount namespaces through the host's shared /.
	priv := filepath.Join(dir, "priv")
	mnt := filepath.Join(priv, "m")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(priv, priv, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("", priv, "", unix.MS_PRIVATE, ""); err != nil {
		unix.Unmount(priv, unix.MNT_DETACH)
		t.Fatal(err)
	}
	renames, mounts = new(atomic.Int64), new(atomic.Int64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	wg.Go(func() {
		for !stopped() {
			if unix.Rename(a, b) == nil && unix.Rename(b, a) == nil {
				renames.Add(2)
			}
		}
	})
	wg.Go(func() {
		// A thread of the test's own: nothing else must run on it while
		// it mounts, and it is certainly in the host's mount namespace.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for !stopped() {
			if unix.Mount("boxtui-churn", mnt, "tmpfs", 0, "size=64k") == nil {
				if unix.Unmount(mnt, 0) == nil {
					mounts.Add(1)
				}
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		for range 10 {
			if unix.Unmount(mnt, unix.MNT_DETACH) != nil {
				break
			}
		}
		if err := unix.Unmount(priv, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount the churn's %s: %v", priv, err)
		}
		if ms := mountsUnder(t, dir); len(ms) != 0 {
			t.Errorf("the churn left mounts: %v", ms)
		}
	})
	testutil.WaitFor(t, 10*time.Second, func() bool { return renames.Load() > 1000 && mounts.Load() > 10 }, "the host churn to start")
	return renames, mounts
}

// hostileTar is a small archive whose hard link and whose last file are
// reached through a symlink climbing with "..": unpacking it resolves paths
// crossing "..", inside the new root.
func hostileTar(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "dir/f", Typeflag: tar.TypeReg}, "f")
	add(&tar.Header{Name: "dir/up", Typeflag: tar.TypeSymlink, Linkname: "../.."}, "")
	add(&tar.Header{Name: "hl", Typeflag: tar.TypeLink, Linkname: "dir/up/dir/f"}, "")
	add(&tar.Header{Name: "dir/up/dir/sub/g", Typeflag: tar.TypeReg}, "g")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "hostile.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every action that resolves a path inside a container's root (or a new
// rootfs) — mount --mkdir through a "../.." symlink, remount both ways,
// mounts, exec -w, umount, run -v, rootfs import, run of a rootfs whose
// /proc is a symlink through ".." — goes through the real binary while the
// host renames and mounts in a loop elsewhere. An
// unrelated rename or mount must never fail an action: openat2 returns
// EAGAIN for them, which boxtui retries (bounded). Before the retry, 21 to
// 31 of this test's actions failed with "resource temporarily unavailable"
// in each of four runs (mount, remount, umount, rootfs import and the
// init's /proc alike; a failed mount skips the actions on it, so a run has
// 133 to 198 actions); after it, none in five.
func TestHostChurnDoesNotFailPathResolution(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.FreshRootfs(t)
	if err := os.MkdirAll(filepath.Join(rootfs, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	// /data/up leads back to / with "..": every path through it crosses
	// ".." twice (three times, counting the climb the root stops).
	if err := os.Symlink("../../..", filepath.Join(rootfs, "data/up")); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "SENTINEL"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.detached("churn", rootfs, "/bin/sleep", "1000")
	// A rootfs whose /proc is reached through "..": the init stage opens
	// it in the root (openat2) for every launch. The Go init stage runs
	// here (a run that is its own holder clones the C one whatever
	// BOXTUI_INIT_STAGE says, hence BOXTUI_OWN_HOLDER=0); the C one
	// (initstage.c) is for the same test once it retries with the same
	// bound.
	climbing := testutil.FreshRootfs(t)
	if err := os.Remove(filepath.Join(climbing, "proc")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(climbing, "p2/proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("p2/../p2/proc", filepath.Join(climbing, "proc")); err != nil {
		t.Fatal(err)
	}
	goInit := *c
	goInit.env = append(append([]string(nil), c.env...), "BOXTUI_INIT_STAGE=go", "BOXTUI_OWN_HOLDER=0")
	tarball := hostileTar(t)
	importDir := t.TempDir()

	renames, mounts := hostChurn(t)
	const rounds = 30
	var failures []string
	count := map[string]int{}
	act := func(what string, args ...string) bool {
		t.Helper()
		count[what]++
		run := c.run
		if what == "run (go init)" {
			run = goInit.run
		}
		out, errOut, code := run(args...)
		if code != 0 {
			failures = append(failures, fmt.Sprintf("%s: exit %d: %s%s", strings.Join(args, " "), code, out, strings.TrimSpace(errOut)))
			return false
		}
		return true
	}
	for i := range rounds {
		target := fmt.Sprintf("/data/up/data/m%d", i)
		if act("mount", "mount", "--mkdir", "churn", src, target) {
			act("remount", "remount", "--ro", "churn", target)
			act("remount", "remount", "--rw", "churn", target)
			act("mounts", "mounts", "churn")
			act("exec -w", "exec", "-w", target, "churn", "--", "/bin/cat", "SENTINEL")
			act("umount", "umount", "churn", target)
		}
		if i%5 == 0 {
			act("run -v", "run", "--rm", "--rootfs", rootfs, "-v", src+":"+fmt.Sprintf("/data/up/data/v%d", i)+":ro", "--", "/bin/cat", fmt.Sprintf("/data/v%d/SENTINEL", i))
			act("rootfs import", "rootfs", "import", tarball, filepath.Join(importDir, fmt.Sprint(i)))
			act("run (go init)", "run", "--rm", "--rootfs", climbing, "--", "/bin/true")
		}
	}
	total := 0
	for _, n := range count {
		total += n
	}
	t.Logf("host churn: %d renames, %d mounts; actions: %v; %d of %d failed", renames.Load(), mounts.Load(), count, len(failures), total)
	for _, f := range failures {
		t.Error(f)
	}
	// Nothing boxtui mounted is left in the container.
	for _, m := range c.mustMounts("churn") {
		if strings.HasPrefix(m, "/data/") {
			t.Errorf("mount left at %s", m)
		}
	}
	// The import really went through the symlink, inside its root.
	if data, err := os.ReadFile(filepath.Join(importDir, "0", "dir/sub/g")); err != nil && !errors.Is(err, os.ErrNotExist) || (err == nil && string(data) != "g") {
		t.Errorf("import: dir/sub/g = %q, %v", data, err)
	}
}

// mustMounts lists the mount points of target as `boxtui mounts` shows
// them.
func (c *cli) mustMounts(target string) []string {
	c.t.Helper()
	var out []string
	for i, line := range strings.Split(strings.TrimSpace(c.mustRun("mounts", target)), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}
