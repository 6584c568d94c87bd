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
