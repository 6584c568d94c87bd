package rootfs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s", why)
	}
}

// openBase is a fresh directory under /tmp that every user can search, as
// a user's own directory or /srv would be. It is removed in cleanup.
func openBase(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "boxtui-rootfs-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	return base
}

// fakeDataDir points boxtui's own directories at base/var/lib/boxtui for
// the test, made 0755 as an older boxtui left them, and returns the
// default rootfs path under it.
func fakeDataDir(t *testing.T, base string) string {
	t.Helper()
	data := filepath.Join(base, "var/lib/boxtui")
	if err := os.MkdirAll(filepath.Join(data, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := ownDirs
	ownDirs = []string{data, filepath.Join(data, "rootfs")}
	t.Cleanup(func() { ownDirs = old })
	return filepath.Join(data, "rootfs/default")
}

// setuidArchive holds bin/euid: a copy of the host's id, setuid root. Run
// by another user it prints "euid=0(root)".
func setuidArchive(t *testing.T, extra ...entry) string {
	t.Helper()
	id, err := os.ReadFile("/usr/bin/id")
	if err != nil {
		t.Skipf("host has no /usr/bin/id: %v", err)
	}
	return buildTar(t, append([]entry{dir("bin/"), {name: "bin/euid", typ: tar.TypeReg, mode: 0o4755, body: string(id)}}, extra...), false)
}

// asNobody runs prog as uid and gid 65534 with no supplementary groups.
// A shell as that user execs it: setpriv itself keeps root's capabilities
// until its own execve (PR_SET_KEEPCAPS), so `setpriv ... PROG` looks PROG
// up as root and runs it whatever the directories above it allow.
func asNobody(t *testing.T, prog string) (string, error) {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	out, err := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c", `exec "$0"`, prog).CombinedOutput()
	return string(out), err
}

func wantRootOnly(t *testing.T, dir string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o700 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("%s is %o owned by %d:%d, want root:root 0700", dir, st.Mode&0o7777, st.Uid, st.Gid)
	}
}

// The bug: an imported setuid-root program in a tree every user could
// walk into ran as root for any of them. In the default place, boxtui's
// own directories are now root-only (tightened when an older boxtui left
// them open), the rootfs itself stays 0755, and the program keeps its
// setuid bit.
func TestImportedSetuidIsOutOfOtherUsersReach(t *testing.T) {
	requireRoot(t, "unpacks a setuid-root file and runs it as uid 65534")
	dest := fakeDataDir(t, openBase(t))
	if _, err := Import(setuidArchive(t), dest, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	wantRootOnly(t, filepath.Dir(dest))
	wantRootOnly(t, filepath.Dir(filepath.Dir(dest)))
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("the rootfs itself (the container's /) = %v %v, want 0755", fi, err)
	}
	prog := filepath.Join(dest, "bin/euid")
	fi, err := os.Stat(prog)
	if err != nil || fi.Mode()&fs.ModeSetuid == 0 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("bin/euid = %v %v, want kept setuid root", fi, err)
	}
	out, err := asNobody(t, prog)
	if err == nil || strings.Contains(out, "euid=0") || !strings.Contains(out, "Permission denied") {
		t.Fatalf("uid 65534 ran the imported setuid program: %v: %s", err, out)
	}
}

// rootfs create copies the host's setuid programs (mount, umount): the
// same rule holds for it.
func TestCreateMakesDefaultParentsRootOnly(t *testing.T) {
	requireRoot(t, "checks root-owned modes")
	dest := fakeDataDir(t, openBase(t))
	if _, err := Create(dest, Options{Tools: []string{"sh", "mount", "id"}}); err != nil {
		t.Fatal(err)
	}
	wantRootOnly(t, filepath.Dir(dest))
	wantRootOnly(t, filepath.Dir(filepath.Dir(dest)))
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("the rootfs itself = %v %v, want 0755", fi, err)
	}
	if out, err := asNobody(t, filepath.Join(dest, "bin/sh")); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("uid 65534 reached the created rootfs: %v: %s", err, out)
	}
}

// Asking again for the default parents (`rootfs create` run twice) closes
// ones made open meanwhile, and gives them back to root.
func TestPrepareParentTightensOwnDirs(t *testing.T) {
	requireRoot(t, "chowns directories")
	dest := fakeDataDir(t, openBase(t))
	data := filepath.Dir(filepath.Dir(dest))
	os.Chmod(data, 0o4777)
	os.Chown(filepath.Dir(dest), 65534, 65534)
	got, err := PrepareParent(dest)
	if err != nil || got != dest {
		t.Fatalf("PrepareParent = %q, %v", got, err)
	}
	wantRootOnly(t, data)
	wantRootOnly(t, filepath.Dir(dest))
}

// A DIR the user names whose parent other users can reach is refused in
// one line that says what to do, and nothing is made; missing parents are
// created root-only, which protects it.
func TestReachableDirIsRefused(t *testing.T) {
	requireRoot(t, "the rule is for setuid-root files, which only root makes")
	base := openBase(t)
	arch := setuidArchive(t)

	refused := func(dest, want string) {
		t.Helper()
		_, err := Import(arch, dest, ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Import into %s: %v, want a one-line refusal saying %q", dest, err, want)
		}
		_, err = Create(dest, Options{Tools: []string{"sh"}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Create at %s: %v, want a refusal saying %q", dest, err, want)
		}
		if _, err := os.Lstat(dest); err == nil {
			t.Errorf("%s was made", dest)
		}
		entries, _ := os.ReadDir(filepath.Dir(dest))
		if len(entries) != 0 {
			t.Errorf("left next to %s: %v", dest, entries)
		}
	}
	refused(filepath.Join(base, "rootfs"), "chmod 700 "+base)
	// Under a shared directory such as /tmp, closing it is never the advice.
	shared := filepath.Join(base, "shared")
	os.Mkdir(shared, 0o700)
	unix.Chmod(shared, 0o1777)
	refused(filepath.Join(shared, "rootfs"), "mkdir -m 700 "+filepath.Join(shared, "boxtui"))
	// A closed directory below one another user owns: that user can swap
	// it for their own.
	alice := filepath.Join(base, "alice")
	os.Mkdir(alice, 0o755)
	os.Chown(alice, 65534, 65534)
	os.Mkdir(filepath.Join(alice, "closed"), 0o700)
	refused(filepath.Join(alice, "closed/rootfs"), "owned by uid 65534")
	// Parents made for a refused DIR are removed again.
	refused(filepath.Join(alice, "new/sub/rootfs"), "owned by uid 65534")
	if _, err := os.Lstat(filepath.Join(alice, "new")); err == nil {
		t.Errorf("%s/new was left behind", alice)
	}
	// A symlink to an open place is judged by where it leads.
	os.Mkdir(filepath.Join(base, "open"), 0o755)
	os.Chmod(filepath.Join(base, "open"), 0o755)
	closed := filepath.Join(base, "closed")
	os.Mkdir(closed, 0o700)
	os.Symlink(filepath.Join(base, "open"), filepath.Join(closed, "link"))
	refused(filepath.Join(closed, "link/rootfs"), "chmod 700 "+filepath.Join(base, "open"))

	// A directory boxtui makes is made root-only: that protects what is
	// inside.
	dest := filepath.Join(base, "new/sub/rootfs")
	if _, err := Import(arch, dest, ImportOptions{}); err != nil {
		t.Fatalf("Import under missing parents: %v", err)
	}
	wantRootOnly(t, filepath.Join(base, "new"))
	if out, err := asNobody(t, filepath.Join(dest, "bin/euid")); err == nil || strings.Contains(out, "euid=0") {
		t.Errorf("uid 65534 ran the setuid program: %s", out)
	}
	// And a root-only parent the user made is fine.
	dest = filepath.Join(closed, "rootfs")
	if _, err := Create(dest, Options{Tools: []string{"sh"}}); err != nil {
		t.Fatalf("Create under a root-only parent: %v", err)
	}
}

// Device nodes are refused by default, in one line naming the entry and
// the flag, with nothing left behind; --allow-devices makes them.
func TestImportDeviceNodes(t *testing.T) {
	devs := []entry{
		dir("dev/"),
		{name: "dev/disk", typ: tar.TypeBlock, mode: 0o666, major: 254, minor: 0},
		{name: "dev/mem", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 1},
	}
	arch := buildTar(t, append([]entry{file("etc/os-release", "x")}, devs...), false)
	top := t.TempDir()
	dest := filepath.Join(top, "images/debian/rootfs")
	_, err := Import(arch, dest, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "dev/disk") || !strings.Contains(err.Error(), "--allow-devices") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Import of device nodes: %v, want a one-line refusal naming dev/disk and --allow-devices", err)
	}
	// Not even the parents it made are left.
	if entries, _ := os.ReadDir(top); len(entries) != 0 {
		t.Errorf("left behind in %s: %v", top, entries)
	}

	rep, err := Import(arch, dest, ImportOptions{AllowDevices: true})
	if err != nil {
		t.Fatalf("Import with AllowDevices: %v", err)
	}
	if os.Geteuid() != 0 {
		if len(rep.DeviceNodes) != 0 || len(rep.Skipped) != 2 {
			t.Errorf("without root, devices should be skipped: %+v", rep)
		}
		return
	}
	want := []string{"dev/disk (block 254:0)", "dev/mem (char 1:1)"}
	if strings.Join(rep.DeviceNodes, "|") != strings.Join(want, "|") {
		t.Errorf("DeviceNodes = %q, want %q", rep.DeviceNodes, want)
	}
	if fi, err := os.Lstat(filepath.Join(dest, "dev/disk")); err != nil || fi.Mode()&fs.ModeDevice == 0 {
		t.Errorf("dev/disk = %v %v", fi, err)
	}
}

// While an archive is unpacked, its temporary directory is root's alone
// (0700): the tarball is a FIFO that the test holds half-written.
func TestImportTemporaryDirIsClosedWhileUnpacking(t *testing.T) {
	data, err := os.ReadFile(setuidArchive(t, file("etc/a", strings.Repeat("x", 100000))))
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "in.tar")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	dest := filepath.Join(parent, "rootfs")
	done := make(chan error, 1)
	go func() {
		_, err := Import(fifo, dest, ImportOptions{})
		done <- err
	}()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	var tmp string
	deadline := time.Now().Add(10 * time.Second)
	for tmp == "" && time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(parent, ".rootfs.tmp-*")); len(m) == 1 {
			if _, err := os.Stat(filepath.Join(m[0], "bin/euid")); err == nil {
				tmp = m[0]
			}
		}
		if tmp == "" {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if tmp == "" {
		w.Close()
		t.Fatalf("no half-unpacked temporary directory appeared in %s", parent)
	}
	if fi, err := os.Stat(tmp); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("temporary directory while unpacking = %v %v, want 0700", fi, err)
	}
	w.Write(data[len(data)/2:])
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("the finished rootfs = %v %v, want 0755", fi, err)
	}
}

func TestImportEntryLimit(t *testing.T) {
	var entries []entry
	for i := 0; i < 50; i++ {
		entries = append(entries, file("f"+itoa(i), "x"))
	}
	arch := buildTar(t, entries, false)
	dest := filepath.Join(t.TempDir(), "rootfs")
	_, err := Import(arch, dest, ImportOptions{MaxEntries: 20})
	if err == nil || !strings.Contains(err.Error(), "more than 20 entries") || !strings.Contains(err.Error(), "--max-entries") {
		t.Fatalf("Import of 50 entries with a limit of 20: %v, want an error naming the limit and --max-entries", err)
	}
	onlyDest(t, dest, false)
	if _, err := Import(arch, dest, ImportOptions{MaxEntries: 50}); err != nil {
		t.Fatalf("Import of 50 entries with a limit of 50: %v", err)
	}
}

func TestImportSizeLimit(t *testing.T) {
	arch := buildTar(t, []entry{file("a", strings.Repeat("x", 600)), symlink("l", strings.Repeat("y", 300)), file("b", strings.Repeat("x", 600))}, false)
	dest := filepath.Join(t.TempDir(), "rootfs")
	_, err := Import(arch, dest, ImportOptions{MaxBytes: 1000})
	if err == nil || !strings.Contains(err.Error(), "--max-size") || !strings.Contains(err.Error(), "reached at b") {
		t.Fatalf("Import of 1500 bytes with a limit of 1000: %v, want an error naming --max-size and b", err)
	}
	onlyDest(t, dest, false)
	if _, err := Import(arch, dest, ImportOptions{MaxBytes: 1500}); err != nil {
		t.Fatalf("Import of 1500 bytes with a limit of 1500: %v", err)
	}
}

// A gzip bomb (256 MiB of zeros in about 256 KiB) into a 16 MiB file
// system: the size limit stops it before it writes, so the error is the
// limit's, not a full disk's, and nothing is left.
func TestImportGzipBombStopsAtTheLimit(t *testing.T) {
	requireRoot(t, "mounts a small tmpfs")
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	const big = 256 << 20
	tw.WriteHeader(&tar.Header{Name: "small", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 20})
	io.CopyN(tw, zeros{}, 1<<20)
	tw.WriteHeader(&tar.Header{Name: "bomb", Typeflag: tar.TypeReg, Mode: 0o644, Size: big})
	io.CopyN(tw, zeros{}, big)
	tw.Close()
	zw.Close()
	arch := filepath.Join(t.TempDir(), "bomb.tar.gz")
	if err := os.WriteFile(arch, zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("bomb: %d bytes compressed, %d unpacked", zb.Len(), big+1<<20)

	fsDir := t.TempDir()
	if err := unix.Mount("boxtui-bomb", fsDir, "tmpfs", 0, "size=16m,mode=0700"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(fsDir, unix.MNT_DETACH) })
	dest := filepath.Join(fsDir, "rootfs")
	start := time.Now()
	_, err := Import(arch, dest, ImportOptions{MaxBytes: 8 << 20})
	if err == nil || !strings.Contains(err.Error(), "more than 8MiB") || !strings.Contains(err.Error(), "--max-size") {
		t.Fatalf("Import of a gzip bomb: %v, want the --max-size limit's error", err)
	}
	t.Logf("stopped in %v: %v", time.Since(start), err)
	onlyDest(t, dest, false)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
