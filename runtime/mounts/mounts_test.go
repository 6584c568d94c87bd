package mounts

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"github.com/moby/sys/mountinfo"
)

// The whole life of a read-only bind in a container with its own mount
// namespace, checked from outside: its mountinfo, and writes through
// nsenter.
func TestAddFlipRemoveOwnNamespace(t *testing.T) {
	b := newBox(t, true)
	src := srcDir(t)
	before := testutil.MountPoints(b.table())

	if err := Add(b.c, src, "/var/x", AddOptions{ReadOnly: true}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	m := b.mountAt("/var/x")
	if m == nil || !isRO(m) || !hasOption(m.Options, "nosuid") || !hasOption(m.Options, "nodev") {
		t.Fatalf("mount at /var/x = %+v, want ro,nosuid,nodev", m)
	}
	if got, err := b.read("/var/x/hello"); err != nil || got != "hello from the host\n" {
		t.Fatalf("read /var/x/hello inside = %q, %v", got, err)
	}
	if err := b.write("/var/x/hello"); err == nil || !strings.Contains(err.Error(), "Read-only") {
		t.Fatalf("write to a read-only mount: %v, want a read-only error", err)
	}
	b.checkRecords("/var/x:read-only")
	b.checkHostUnchanged(src) // the mount is only in the container's namespace

	for i := range 3 {
		if err := Remount(b.c, "/var/x", false); err != nil {
			t.Fatalf("Remount rw: %v", err)
		}
		if m := b.mountAt("/var/x"); m == nil || isRO(m) {
			t.Fatalf("round %d: after remount rw: %+v", i, m)
		}
		if err := b.write("/var/x/rw"); err != nil {
			t.Fatalf("round %d: write after remount rw: %v", i, err)
		}
		b.checkRecords("/var/x:read-write")
		if err := Remount(b.c, "/var/x", true); err != nil {
			t.Fatalf("Remount ro: %v", err)
		}
		if m := b.mountAt("/var/x"); m == nil || !isRO(m) || !hasOption(m.Options, "nosuid") {
			t.Fatalf("round %d: after remount ro: %+v", i, m)
		}
		if err := b.write("/var/x/rw"); err == nil {
			t.Fatalf("round %d: write after remount ro went through", i)
		}
		b.checkRecords("/var/x:read-only")
	}
	data, _ := os.ReadFile(filepath.Join(src, "rw"))
	if string(data) != "x\nx\nx\n" {
		t.Errorf("host file written through the rw mount = %q, want three lines", data)
	}

	if err := Remove(b.c, "/var/x"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if m := b.mountAt("/var/x"); m != nil {
		t.Fatalf("mount still at /var/x after Remove: %+v", m)
	}
	if err := b.write("/var/x/after"); err != nil {
		t.Fatalf("write to the plain directory after Remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(src, "after")); err == nil {
		t.Errorf("write after Remove reached the host directory")
	}
	b.checkRecords()
	if _, err := os.Stat(recordPath(b.c.Namespaces[namespace.PID])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("record file left after the last mount was removed: %v", err)
	}
	if after := testutil.MountPoints(b.table()); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("container mount table changed:\nbefore %v\nafter  %v", before, after)
	}
	b.checkHostUnchanged(src)
}

// A writer hammers the target while it is attached read-only and detached
// again, over and over: not one write may reach the host directory.
func TestReadOnlyHoldsUnderConcurrentWriter(t *testing.T) {
	b := newBox(t, true)
	src := t.TempDir()
	stop := filepath.Join(b.rootfs, "tmp", "stop")

	// ok counts writes that landed (on the container's own /var/x between
	// attaches), ro those refused by the read-only mount.
	writer := exec.Command("nsenter", "-t", strconv.Itoa(b.pid), "-m", "-r", "-w", "sh", "-c",
		`ok=0; ro=0; while [ ! -e /tmp/stop ]; do if echo x >> /var/x/w 2>/dev/null; then ok=$((ok+1)); else ro=$((ro+1)); fi; done; echo $ok $ro`)
	var out strings.Builder
	writer.Stdout = &out
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Process.Kill(); writer.Wait() })

	const cycles = 300
	began := time.Now()
	for i := range cycles {
		if err := AddToProcess(b.pid, b.c.StartTime, src, "/var/x", AddOptions{ReadOnly: true}); err != nil {
			t.Fatalf("cycle %d: attach: %v", i, err)
		}
		if err := RemoveFromProcess(b.pid, b.c.StartTime, "/var/x"); err != nil {
			t.Fatalf("cycle %d: detach: %v", i, err)
		}
	}
	took := time.Since(began)
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writer.Wait(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	var ok, ro int
	fmt.Sscan(out.String(), &ok, &ro)
	t.Logf("%d attach+detach cycles in %v (%v each); writer: %d writes landed on the container's own directory, %d refused read-only",
		cycles, took, took/cycles, ok, ro)

	entries, _ := os.ReadDir(src)
	if len(entries) != 0 {
		data, _ := os.ReadFile(filepath.Join(src, "w"))
		t.Fatalf("%d writes got through the read-only mount to the host (%d entries in %s)", strings.Count(string(data), "\n"), len(entries), src)
	}
	if ro == 0 {
		t.Errorf("the writer never hit the read-only mount: the test proved nothing")
	}
	if m := b.mountAt("/var/x"); m != nil {
		t.Errorf("leftover mount at /var/x: %+v", m)
	}
	b.checkHostUnchanged(src)
}

// Symlinks planted in the container cannot steer a mkdir or a mount out of
// its root, whether or not it has its own mount namespace.
func TestSymlinkEscapesAreContained(t *testing.T) {
	for _, ownNS := range []bool{true, false} {
		t.Run(fmt.Sprintf("ownNS=%v", ownNS), func(t *testing.T) {
			b := newBox(t, ownNS)
			src := srcDir(t)
			name := fmt.Sprintf("boxtui-escape-%d", os.Getpid())
			for link, to := range map[string]string{
				"var/evil":  "/etc",
				"var/evil2": "../../..",
				"var/evil3": "/etc/" + name + "-dangling",
				"var/evil4": "/" + name + "-nowhere",
				"var/proc":  "/proc",
			} {
				if err := os.Symlink(to, filepath.Join(b.rootfs, link)); err != nil {
					t.Fatal(err)
				}
			}
			hostMustNotExist := []string{"/etc/" + name, "/" + name, "/etc/" + name + "-dangling", "/" + name + "-nowhere"}
			for _, p := range hostMustNotExist {
				if _, err := os.Lstat(p); err == nil {
					t.Fatalf("%s exists on the host before the test", p)
				}
			}

			// Through a symlink in the middle: resolved in the container's
			// root, so the mount lands in the container's /etc and /.
			for _, c := range []struct{ via, lands string }{
				{"/var/evil/" + name, "/etc/" + name},
				{"/var/evil2/" + name, "/" + name},
			} {
				if err := Add(b.c, src, c.via, AddOptions{ReadOnly: true, Mkdir: true}); err != nil {
					t.Fatalf("Add at %s: %v", c.via, err)
				}
				if m := b.mountAt(c.lands); m == nil || !isRO(m) {
					t.Fatalf("Add at %s: no read-only mount at %s inside: %+v", c.via, c.lands, m)
				}
				// Recorded where it landed, so List marks it managed.
				b.checkRecords(c.lands + ":read-only")
				list, err := List(b.c)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range list {
					if m.Target == c.lands && !m.Managed {
						t.Errorf("List: %s not managed: %+v", c.lands, m)
					}
				}
				if _, err := os.Stat(filepath.Join(b.rootfs, c.lands, "hello")); ownNS && err == nil {
					t.Errorf("own namespace: the mount is visible on the host at %s", filepath.Join(b.rootfs, c.lands))
				} else if !ownNS && err != nil {
					t.Errorf("shared namespace: the mount is not at %s on the host: %v", filepath.Join(b.rootfs, c.lands), err)
				}
				if err := Remove(b.c, c.via); err != nil {
					t.Fatalf("Remove %s: %v", c.via, err)
				}
				if m := b.mountAt(c.lands); m != nil {
					t.Fatalf("mount left at %s: %+v", c.lands, m)
				}
			}

			// A symlink as the last component is refused, dangling or not.
			for _, via := range []string{"/var/evil", "/var/evil3"} {
				err := Add(b.c, src, via, AddOptions{ReadOnly: true, Mkdir: true})
				wantErr(t, err, ErrSymlink, "Add onto symlink "+via)
			}
			// A dangling symlink in the middle is not followed out.
			err := Add(b.c, src, "/var/evil4/sub", AddOptions{Mkdir: true})
			wantErr(t, err, nil, "Add through a dangling symlink")
			// A symlink into /proc does not get around the refusal. (Only the
			// own-namespace box has a proc mounted in its root.)
			err = Add(b.c, src, "/var/proc/sys", AddOptions{})
			if ownNS {
				wantErr(t, err, ErrProtectedTarget, "Add through a symlink to /proc")
			} else {
				wantErr(t, err, nil, "Add through a symlink to an empty /proc")
			}
			err = Add(b.c, src, "/var/proc/newdir", AddOptions{Mkdir: true})
			wantErr(t, err, nil, "Add with mkdir through a symlink to /proc")

			for _, p := range hostMustNotExist {
				if _, err := os.Lstat(p); err == nil {
					os.Remove(p)
					t.Errorf("%s was created on the host", p)
				}
			}
			for _, p := range []string{"etc/" + name + "-dangling", name + "-nowhere"} {
				if _, err := os.Lstat(filepath.Join(b.rootfs, p)); err == nil {
					t.Errorf("%s was created in the rootfs by a refused Add", p)
				}
			}
			b.checkRecords()
			b.checkHostUnchanged(src)
		})
	}
}

// Every bad input gets a clear one-line error and leaves the container's
// and the host's mount tables, the rootfs and the records as they were.
func TestBadInputLeavesNothing(t *testing.T) {
	b := newBox(t, true)
	src := srcDir(t)
	file := filepath.Join(src, "hello")
	if err := os.WriteFile(filepath.Join(b.rootfs, "etc/afile"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := testutil.MountPoints(b.table())

	for _, target := range []string{"/", "/proc", "/sys", "/dev", "/proc/sys", "/sys/fs", "/dev/../proc", "//proc/"} {
		wantErr(t, Add(b.c, src, target, AddOptions{Mkdir: true}), ErrProtectedTarget, "Add at "+target)
		wantErr(t, Remount(b.c, target, true), ErrProtectedTarget, "Remount "+target)
		wantErr(t, Remove(b.c, target), ErrProtectedTarget, "Remove "+target)
	}
	wantErr(t, Add(b.c, src, "var/x", AddOptions{}), nil, "Add at a relative path")
	wantErr(t, Add(b.c, src, "", AddOptions{}), nil, "Add at an empty path")
	wantErr(t, Add(b.c, filepath.Join(src, "missing"), "/var/x", AddOptions{}), ErrSourceMissing, "Add a missing host path")
	wantErr(t, Add(b.c, file, "/var/x", AddOptions{}), ErrKindMismatch, "Add a file onto a directory")
	wantErr(t, Add(b.c, src, "/etc/afile", AddOptions{}), ErrKindMismatch, "Add a directory onto a file")
	wantErr(t, Add(b.c, src, "/var/missing/deeper", AddOptions{}), ErrTargetMissing, "Add at a missing path without mkdir")
	wantErr(t, Add(b.c, src, "/etc/afile/sub", AddOptions{Mkdir: true}), nil, "Add below a file")
	wantErr(t, Remount(b.c, "/var/x", true), ErrNotMount, "Remount a plain directory")
	wantErr(t, Remove(b.c, "/var/x"), ErrNotMount, "Remove a plain directory")
	wantErr(t, Remove(b.c, "/var/nothing"), ErrTargetMissing, "Remove a missing path")

	if _, err := os.Lstat(filepath.Join(b.rootfs, "var/missing")); err == nil {
		t.Errorf("a failed Add created var/missing")
	}
	if after := testutil.MountPoints(b.table()); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("container mount table changed:\nbefore %v\nafter  %v", before, after)
	}
	b.checkRecords()
	b.checkHostUnchanged(src)
}

// With --mkdir a failed mount removes the directories it created: the
// creation is undone last first.
func TestCreateUndo(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	rootFD, err := openPathDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFD(rootFD)
	in := inside{root: rootFD, proc: -1}
	for _, srcIsDir := range []bool{true, false} {
		fd, done, err := create(in, "/var/a/b/c", srcIsDir)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		st, err := fstatx(fd)
		if err != nil || st.isDir() != srcIsDir {
			t.Fatalf("created handle: %+v, %v; want dir=%v", st, err, srcIsDir)
		}
		closeFD(fd)
		done(true)
		if _, err := os.Lstat(filepath.Join(root, "var/a")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("undo left var/a: %v", err)
		}
	}
	// A successful creation stays.
	fd, done, err := create(in, "/var/a/b", true)
	if err != nil {
		t.Fatal(err)
	}
	closeFD(fd)
	done(false)
	if st, err := os.Stat(filepath.Join(root, "var/a/b")); err != nil || !st.IsDir() {
		t.Fatalf("var/a/b after a kept creation: %v", err)
	}
}

// A file can be bound onto a file, which --mkdir creates empty when
// missing.
func TestAddFile(t *testing.T) {
	b := newBox(t, true)
	src := srcDir(t)
	file := filepath.Join(src, "hello")
	if err := Add(b.c, file, "/etc/boxtui/injected", AddOptions{ReadOnly: true, Mkdir: true}); err != nil {
		t.Fatalf("Add file: %v", err)
	}
	if got, err := b.read("/etc/boxtui/injected"); err != nil || got != "hello from the host\n" {
		t.Fatalf("read injected file = %q, %v", got, err)
	}
	if err := b.write("/etc/boxtui/injected"); err == nil {
		t.Fatalf("write to a read-only file mount went through")
	}
	if st, err := os.Stat(filepath.Join(b.rootfs, "etc/boxtui/injected")); err != nil || st.Size() != 0 {
		t.Fatalf("the mount point file in the rootfs: %v (want an empty file)", err)
	}
	wantErr(t, Add(b.c, file, "/etc/boxtui", AddOptions{}), ErrKindMismatch, "Add a file onto the directory that holds it")
	if err := Remove(b.c, "/etc/boxtui/injected"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if m := b.mountAt("/etc/boxtui/injected"); m != nil {
		t.Fatalf("mount left: %+v", m)
	}
	b.checkHostUnchanged(src)
}

// A container whose init has exited: a clear error wrapping
// procfs.ErrNoProcess, and no clone of the host path left anywhere.
func TestContainerGone(t *testing.T) {
	b := newBox(t, true)
	src := srcDir(t)
	if err := signals.Send(b.pid, b.c.StartTime, 9); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, func() bool {
		_, err := procfs.StartTime(b.pid)
		return err != nil
	}, "the container to exit")
	wantErr(t, Add(b.c, src, "/var/x", AddOptions{ReadOnly: true}), procfs.ErrNoProcess, "Add to a gone container")
	wantErr(t, Remount(b.c, "/var/x", true), procfs.ErrNoProcess, "Remount in a gone container")
	wantErr(t, Remove(b.c, "/var/x"), procfs.ErrNoProcess, "Remove from a gone container")
	_, err := List(b.c)
	wantErr(t, err, procfs.ErrNoProcess, "List of a gone container")
	if _, err := os.Stat(recordPath(b.c.Namespaces[namespace.PID])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a record was written for a gone container")
	}
	b.checkHostUnchanged(src)
}

// A container that shares the host's mount namespace (the seed's plain
// `unshare --pid --fork chroot`) gets the mount at its root's path, as the
// seed's host-side `mount --bind` does, read-only from the start.
func TestSharedNamespaceContainer(t *testing.T) {
	b := newBox(t, false)
	if b.c.Namespaces[namespace.Mnt] != namespace.Host()[namespace.Mnt] {
		t.Fatalf("the box has a mount namespace of its own")
	}
	src := srcDir(t)
	if err := Add(b.c, src, "/var/x", AddOptions{ReadOnly: true}); err != nil {
		t.Fatalf("Add: %v", err)
	}
	hostPath := filepath.Join(b.rootfs, "var/x")
	var onHost *mountinfo.Info
	infos, _ := testutil.HostMounts()
	for _, m := range infos {
		if m.Mountpoint == hostPath {
			onHost = m
		}
	}
	if onHost == nil || !isRO(onHost) {
		t.Fatalf("host mount at %s = %+v, want a read-only mount", hostPath, onHost)
	}
	if err := os.WriteFile(filepath.Join(hostPath, "f"), []byte("x"), 0o644); err == nil {
		t.Fatalf("write on the host through %s went through", hostPath)
	}
	if err := b.write("/var/x/f"); err == nil {
		t.Fatalf("write inside through /var/x went through")
	}
	if got, err := b.read("/var/x/hello"); err != nil || got != "hello from the host\n" {
		t.Fatalf("read inside = %q, %v", got, err)
	}
	list, err := List(b.c)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range list {
		if m.Target == "/var/x" {
			found = m.Managed && m.ReadOnly && m.Source == src
		}
		if !strings.HasPrefix(m.Target, "/") || strings.HasPrefix(m.Target, b.rootfs) {
			t.Errorf("List shows a mount outside the container's view: %+v", m)
		}
	}
	if !found {
		t.Errorf("List has no managed read-only /var/x from %s: %+v", src, list)
	}
	if err := Remount(b.c, "/var/x", false); err != nil {
		t.Fatal(err)
	}
	if err := b.write("/var/x/f"); err != nil {
		t.Fatalf("write after remount rw: %v", err)
	}
	if err := Remove(b.c, "/var/x"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if left, _ := testutil.MountsUnder(b.rootfs); len(left) != 0 {
		t.Fatalf("mounts left under the rootfs: %v", left)
	}
	b.checkRecords()
	b.checkHostUnchanged(src)
}

// List shows what the container sees and which mounts boxtui added;
// mounts stacked at one path are pushed and popped in order.
func TestListAndStackedRecords(t *testing.T) {
	b := newBox(t, true)
	src1, src2 := srcDir(t), srcDir(t)
	if err := Add(b.c, src1, "/var/x", AddOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	if err := Add(b.c, src2, "/var/x", AddOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := List(b.c)
	if err != nil {
		t.Fatal(err)
	}
	var at []Mount
	proc := false
	for _, m := range list {
		if m.Target == "/var/x" {
			at = append(at, m)
		}
		if m.Target == "/proc" {
			proc = m.FSType == "proc" && !m.Managed
		}
	}
	if !proc {
		t.Errorf("List has no unmanaged proc at /proc: %+v", list)
	}
	if len(at) != 2 || at[0].Source != src1 || !at[0].ReadOnly || !at[0].Managed ||
		at[1].Source != src2 || at[1].ReadOnly || !at[1].Managed {
		t.Fatalf("mounts at /var/x = %+v, want %s ro under %s rw, both managed", at, src1, src2)
	}
	b.checkRecords("/var/x:read-only", "/var/x:read-write")
	if err := Remove(b.c, "/var/x"); err != nil {
		t.Fatal(err)
	}
	b.checkRecords("/var/x:read-only")
	if m := b.mountAt("/var/x"); m == nil || !isRO(m) {
		t.Fatalf("after popping the top, /var/x = %+v, want the read-only one", m)
	}
	if err := Remove(b.c, "/var/x"); err != nil {
		t.Fatal(err)
	}
	b.checkRecords()
	// A mount removed behind boxtui's back leaves a stale record, which
	// List ignores and Remove drops.
	if err := Add(b.c, src1, "/var/x", AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nsenter", "-t", strconv.Itoa(b.pid), "-m", "-r", "-w", "umount", "/var/x").CombinedOutput(); err != nil {
		t.Fatalf("umount inside: %v %s", err, out)
	}
	list, _ = List(b.c)
	for _, m := range list {
		if m.Managed {
			t.Errorf("stale record shown as managed: %+v", m)
		}
	}
	wantErr(t, Remove(b.c, "/var/x"), ErrNotMount, "Remove a mount already gone")
	b.checkRecords()
	b.checkHostUnchanged(src1, src2)
}

// For a boxtui container the records live in its state.
func TestRecordsInBoxtuiState(t *testing.T) {
	b := newBox(t, true)
	err := state.Create(state.State{
		Name: "rec", Rootfs: b.rootfs, Command: []string{"/bin/sleep", "1000"},
		Status: state.StatusRunning, Created: time.Now(), InitPID: b.pid, InitStart: b.c.StartTime,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := b.find("rec")
	if c.Name != "rec" {
		t.Fatalf("FindContainer(rec) = %+v", c)
	}
	src := srcDir(t)
	if err := Add(c, src, "/var/x", AddOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	st, err := state.Load("rec")
	if err != nil || len(st.Mounts) != 1 || st.Mounts[0] != (state.MountRecord{Source: src, Target: "/var/x", ReadOnly: true}) {
		t.Fatalf("state mounts = %+v, %v", st.Mounts, err)
	}
	if err := Remount(c, "/var/x", false); err != nil {
		t.Fatal(err)
	}
	if st, _ := state.Load("rec"); len(st.Mounts) != 1 || st.Mounts[0].ReadOnly {
		t.Fatalf("state after remount rw = %+v", st.Mounts)
	}
	list, err := List(c)
	if err != nil {
		t.Fatal(err)
	}
	managed := 0
	for _, m := range list {
		if m.Managed {
			managed++
			if m.Target != "/var/x" || m.Source != src || m.ReadOnly {
				t.Errorf("managed mount %+v", m)
			}
		}
	}
	if managed != 1 {
		t.Errorf("%d managed mounts, want 1: %+v", managed, list)
	}
	if _, err := os.Stat(recordDir()); err == nil {
		t.Errorf("a foreign record file was written for a boxtui container")
	}
	if err := Remove(c, "/var/x"); err != nil {
		t.Fatal(err)
	}
	if st, _ := state.Load("rec"); len(st.Mounts) != 0 {
		t.Fatalf("state after Remove = %+v", st.Mounts)
	}
	b.checkHostUnchanged(src)
}
