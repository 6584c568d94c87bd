// Who may launch and attach (root only), and what a hostile rootfs cannot
// reach on the host.

package launch

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/rootfs"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

func TestRunRefusesNonRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		// Run the check as another user in a child of this test binary.
		testutil.RequireRoot(t)
		// The go test binary sits in a 0700 directory: copy it out.
		cmd := exec.Command(publicTestBinary(t), "-test.run=^TestRunRefusesNonRoot$")
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Env = append(os.Environ(), "BOXTUI_RUN_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("as nobody: %v\n%s", err, out)
		}
		return
	}
	_, err := Run(Options{Rootfs: "/"})
	if err == nil || !strings.Contains(err.Error(), "sudo") {
		t.Fatalf("Run as non-root: %v, want an error naming sudo", err)
	}
}

// publicTestBinary copies this test binary where another user can run it
// (go test keeps it in a 0700 directory).
func publicTestBinary(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "boxtui-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "launch.test")
	data, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// dialAsClient is the test binary acting as a console client (run as
// another user by TestConsoleIsRootOnly): it prints the first frame it gets.
func dialAsClient(sock string) int {
	conn, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Println("dial:", err)
		return 1
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	typ, p, err := readFrame(conn, nil)
	if err != nil {
		fmt.Println("read:", err)
		return 1
	}
	fmt.Printf("frame %c: %s\n", typ, p)
	return 0
}

func TestConsoleIsRootOnly(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Name: "priv", Rootfs: rootfs, Command: []string{"/bin/sh", "-c", "echo secret; sleep 1000"}})
	sock := state.ConsoleSocket("priv")
	for path, want := range map[string]os.FileMode{sock: 0o600, state.Dir("priv"): 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	// Open the fences on purpose: the holder's peer check must still refuse.
	for d := state.RunDir(); d != "/tmp" && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o711) // the test's temp dirs, up to /tmp
	}
	os.Chmod(state.Dir("priv"), 0o711)
	os.Chmod(sock, 0o666)
	cmd := exec.Command(publicTestBinary(t))
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "BOXTUI_TEST_DIAL="+sock)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "frame e:") || strings.Contains(string(out), "secret") {
		t.Fatalf("a non-root peer got: %q, want a refusal frame", out)
	}
	// Root still gets the console, with the replay.
	con, err := DialConsole("priv")
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	buf := make([]byte, 100)
	n, err := con.Read(buf)
	if err != nil || !strings.Contains(string(buf[:n]), "secret") {
		t.Fatalf("root read %q, %v", buf[:n], err)
	}
	_ = c
}

// On systemd hosts / is a shared mount: without making / private first, the
// container's proc and dev would appear in the host's table. A shared bind
// around the rootfs reproduces that here.
func TestRootfsUnderSharedMountDoesNotLeak(t *testing.T) {
	setup(t)
	dir := t.TempDir()
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if err := unix.Mount("", dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "rootfs")
	if _, err := rootfs.Create(root, rootfs.Options{}); err != nil {
		t.Fatal(err)
	}
	c := launch(t, Options{Rootfs: root, Command: []string{"/bin/sleep", "1000"}})
	if ms, _ := testutil.MountsUnder(dir); len(ms) != 1 {
		t.Fatalf("mounts under the shared dir while the container runs: %v, want only %s", ms, dir)
	}
	inside, err := testutil.MountTableOf(c.InitPID)
	if err != nil || len(inside) != 4 {
		t.Fatalf("container mount table: %d entries, %v; want rootfs, proc, dev, dev/pts", len(inside), err)
	}
	if err := Stop(discovery.Container{PID: c.InitPID, StartTime: c.InitStart}, time.Second); err != nil {
		t.Fatal(err)
	}
	if ms, _ := testutil.MountsUnder(dir); len(ms) != 1 {
		t.Fatalf("mounts under the shared dir after the container: %v", ms)
	}
}

// A hostile rootfs aims /proc and /dev elsewhere: the mounts land inside
// the rootfs or the launch fails, and nothing is mounted or made on the host.
func TestHostileRootfsSymlinks(t *testing.T) {
	setup(t)
	root := testutil.FreshRootfs(t)
	os.RemoveAll(filepath.Join(root, "proc"))
	if err := os.Symlink("/etc", filepath.Join(root, "proc")); err != nil {
		t.Fatal(err)
	}
	hostEtc, _ := testutil.MountsUnder("/etc")
	c := launch(t, Options{Rootfs: root, Command: []string{"/bin/sleep", "1000"}})
	if ms, _ := testutil.MountsUnder("/etc"); len(ms) != len(hostEtc) {
		t.Fatalf("mounts under the host's /etc changed: %v -> %v", hostEtc, ms)
	}
	// Inside, the symlink was followed within the rootfs: proc sits on the
	// container's own /etc.
	inside, _ := testutil.MountTableOf(c.InitPID)
	var procAt string
	for _, m := range inside {
		if m.FSType == "proc" {
			procAt = m.Mountpoint
		}
	}
	if procAt != "/etc" {
		t.Errorf("proc inside at %q, want the in-root /etc", procAt)
	}

	// /dev -> a host directory the rootfs lacks: the launch fails, and the
	// host directory is untouched.
	root2 := testutil.FreshRootfs(t)
	hostDir := t.TempDir()
	os.RemoveAll(filepath.Join(root2, "dev"))
	if err := os.Symlink(hostDir, filepath.Join(root2, "dev")); err != nil {
		t.Fatal(err)
	}
	_, err := Run(Options{Name: "hostile", Rootfs: root2, Command: []string{"/bin/sleep", "1000"}})
	if err == nil || !strings.Contains(err.Error(), "/dev") {
		t.Fatalf("launch with /dev -> %s: %v, want an error about /dev", hostDir, err)
	}
	if ms, _ := testutil.MountsUnder(hostDir); len(ms) != 0 {
		t.Errorf("mounted onto the host's %s: %v", hostDir, ms)
	}
	if _, err := os.Lstat(filepath.Join(root2, hostDir)); err == nil {
		t.Errorf("created %s inside the rootfs through the symlink", hostDir)
	}
	if _, err := state.Load("hostile"); !errors.Is(err, state.ErrNoState) {
		t.Errorf("state left: %v", err)
	}
}

// The init stage remounts / and pivots the root; started by hand on the
// host it must refuse before touching anything.
func TestInitStageRefusesToRunOnTheHost(t *testing.T) {
	testutil.RequireRoot(t, "would otherwise be refused for lack of rights, not by the guard")
	before, _ := testutil.HostMounts()
	cmd := exec.Command("/proc/self/exe", "__boxtui-init", `{"rootfs":"/tmp","command":["/bin/true"]}`)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "internal") {
		t.Fatalf("init stage on the host: %v %q, want exit 2 and a refusal", err, out)
	}
	after, _ := testutil.HostMounts()
	if fresh := testutil.NewMounts(before, after); len(fresh) > 0 {
		t.Errorf("the refused init stage left mounts on the host: %v", fresh)
	}
}
