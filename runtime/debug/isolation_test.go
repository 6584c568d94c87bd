// What a debug shell leaves alone: the target's and the host's mount tables
// (shared roots included), the toolbox, and files the target controls.

package debug

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"

	"golang.org/x/sys/unix"
)

// TestDebugChangesNothingWhileRunning compares the target's and the
// host's mount tables while the debug shell runs, and checks that the
// debug namespace dies with the shell.
func TestDebugChangesNothingWhileRunning(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root, tools := noShellRoot(t), testutil.Rootfs(t)
	init := testutil.StartUnshare(t, root, "/pause")
	before := mountinfo(t, init)
	c, err := discovery.FindContainer(strconv.Itoa(init))
	if err != nil {
		t.Fatal(err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	p, err := Start(c, Options{Tools: tools, Command: []string{"sh", "-c", "echo ready; read x; echo bye"},
		Stdin: inR, Stdout: outW, Stderr: outW})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Signal(syscall.SIGKILL)
	r := bufio.NewReader(outR)
	line, err := r.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("debug shell said %q, %v", line, err)
	}
	if during := mountinfo(t, init); during != before {
		t.Errorf("the target's mount table changed while debugging:\nbefore:\n%s\nduring:\n%s", before, during)
	}
	debugNS := testutil.NSLink(t, p.Pid, "mnt")
	table := mountinfo(t, p.Pid)
	for _, want := range []string{" / / ", " /target ", " /proc ", " /dev "} {
		if !strings.Contains(table, want) {
			t.Errorf("debug mount table has no %q:\n%s", want, table)
		}
	}
	if left := leakedMounts(t, tools, root); len(left) > 0 {
		t.Errorf("debug mounts in boxtui's mount namespace while debugging: %v", left)
	}
	inW.Write([]byte("go\n"))
	go io.Copy(io.Discard, r)
	st, err := p.Wait()
	outW.Close()
	if err != nil || st.Code != 0 {
		t.Fatalf("debug shell ended with %s, %v", st, err)
	}
	if after := mountinfo(t, init); after != before {
		t.Errorf("the target's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The debug namespace had no process but the shell: nothing holds it.
	if holders := processesIn("mnt", debugNS); len(holders) > 0 {
		t.Errorf("processes %v still hold the debug mount namespace", holders)
	}
	checkNothingLeft(t, init, tools, root)
}

func processesIn(ns, link string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if l, err := os.Readlink("/proc/" + e.Name() + "/ns/" + ns); err == nil && l == link {
				out = append(out, pid)
			}
		}
	}
	return out
}

// TestToolboxIsNeverWritten: the shell may write, delete and replace
// anywhere outside /target; the toolbox directory stays as it was.
func TestToolboxIsNeverWritten(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	init := testutil.StartUnshare(t, noShellRoot(t), "/pause")
	tools := testutil.FreshRootfs(t)
	snapshot := func() string {
		var b strings.Builder
		filepath.Walk(tools, func(p string, fi os.FileInfo, err error) error {
			if err == nil {
				fmt.Fprintf(&b, "%s %v %d %v\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
			}
			return nil
		})
		return b.String()
	}
	before := snapshot()
	script := `echo x > /etc/hostname.new && rm /bin/ls && mkdir -p /opt/new && echo y > /tmp/f && touch /etc && echo wrote`
	out, st, err := run(t, init, Options{Tools: tools, Command: []string{"sh", "-c", script}})
	if err != nil || st.Code != 0 || !strings.Contains(out, "wrote") {
		t.Fatalf("debug: %v, %s\n%s", err, st, out)
	}
	if after := snapshot(); after != before {
		t.Errorf("the toolbox changed")
	}
	// And the next shell starts from the toolbox as it is.
	out, _, err = run(t, init, Options{Tools: tools, Command: []string{"sh", "-c", "test -x /bin/ls && test ! -e /opt/new && echo clean"}})
	if err != nil || !strings.Contains(out, "clean") {
		t.Errorf("a second debug shell saw the first one's changes: %v\n%s", err, out)
	}
}

// TestTargetIsWritableOrReadOnly: /target is read-write (writes land in the
// target's files), and read-only with ReadOnly, without the target's own
// mounts changing either way.
func TestTargetIsWritableOrReadOnly(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root := noShellRoot(t)
	init := testutil.StartUnshare(t, root, "/pause")
	before := mountinfo(t, init)
	out, st, err := run(t, init, Options{Tools: testutil.Rootfs(t), Command: []string{"sh", "-c", "echo hello > /target/note"}})
	if err != nil || st.Code != 0 {
		t.Fatalf("write /target/note: %v, %s\n%s", err, st, out)
	}
	if b, err := os.ReadFile(filepath.Join(root, "note")); err != nil || string(b) != "hello\n" {
		t.Errorf("a write to /target/note did not reach the target's root: %q, %v", b, err)
	}
	out, st, err = run(t, init, Options{Tools: testutil.Rootfs(t), ReadOnly: true,
		Command: []string{"sh", "-c", "echo again > /target/note2"}})
	if err != nil || st.Code == 0 {
		t.Errorf("a write to /target with ReadOnly succeeded (%v, %s):\n%s", err, st, out)
	}
	if _, err := os.Stat(filepath.Join(root, "note2")); err == nil {
		t.Errorf("a write to a read-only /target reached the target")
	}
	if after := mountinfo(t, init); after != before {
		t.Errorf("the target's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// startChroot starts `unshare --pid --fork chroot ROOT ARGS...`: a
// container in the host's mount namespace, as the seed's first recipe
// makes without --mount-proc. It returns the init's host PID.
func startChroot(t *testing.T, root string, args ...string) int {
	t.Helper()
	cmd := exec.Command("unshare", append([]string{"--pid", "--fork", "--kill-child", "chroot", root}, args...)...)
	exited, _, err := testutil.StartTied(cmd)
	if err != nil {
		t.Skipf("needs util-linux unshare: %v", err)
	}
	init := 0
	t.Cleanup(func() {
		if init > 0 {
			syscall.Kill(init, syscall.SIGKILL)
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	testutil.WaitFor(t, 10*time.Second, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if err != nil {
			return false
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return false
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/root", pid)); err != nil || l != root {
			return false
		}
		init = pid
		return true
	}, "the chroot container did not start")
	return init
}

// TestMountsUnderTargetNeverPropagate: the target's root is a shared
// mount (a chroot container in the host's mount namespace, its root a
// shared bind). A copy that kept the peer group would carry a mount made
// under /target back into the host's (and the container's) mount table.
func TestMountsUnderTargetNeverPropagate(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	root := noShellRoot(t)
	if err := os.Mkdir(filepath.Join(root, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(root, root, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Unmount(filepath.Join(root, "mnt"), unix.MNT_DETACH)
		unix.Unmount(root, unix.MNT_DETACH)
	})
	if err := unix.Mount("", root, "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	init := startChroot(t, root, "/pause")
	out, st, err := run(t, init, Options{Tools: testutil.Rootfs(t), Command: []string{"sh", "-c",
		"mount -t tmpfs probe /target/mnt && echo mounted && grep -c ' /target/mnt ' /proc/self/mountinfo"}})
	if err != nil || st.Code != 0 || !strings.Contains(out, "mounted") {
		t.Fatalf("mount under /target: %v, %s\n%s", err, st, out)
	}
	if left, _ := testutil.MountsUnder(filepath.Join(root, "mnt")); len(left) > 0 {
		t.Errorf("a mount made under /target reached the host's mount table: %v", left)
	}
}

// TestNetworkFilesComeFromTheTarget: the shell is in the target's network
// namespace, so /etc/resolv.conf and /etc/hosts are the target's (copied
// into the overlay, the toolbox untouched). The target controls them: a
// FIFO never hangs the stage, and a symlink out of its root or into proc
// is not followed there: the toolbox's file stays.
func TestNetworkFilesComeFromTheTarget(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	testutil.PinThread(t)
	tools := testutil.Rootfs(t)
	toolsHosts, err := os.ReadFile(filepath.Join(tools, "etc/hosts"))
	if err != nil {
		t.Fatal(err)
	}
	toolsResolv, _ := os.ReadFile(filepath.Join(tools, "etc/resolv.conf"))

	root := noShellRoot(t)
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A symlink inside the target's root, as systemd images have, is
	// followed there.
	if err := os.MkdirAll(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "run/resolv.conf"), []byte("nameserver 192.0.2.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/run/resolv.conf", filepath.Join(root, "etc/resolv.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("192.0.2.7 inside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	init := testutil.StartUnshare(t, root, "/pause")
	out, st, err := run(t, init, Options{Tools: tools, Command: []string{"cat", "/etc/resolv.conf", "/etc/hosts"}})
	if err != nil || st.Code != 0 || out != "nameserver 192.0.2.53\n192.0.2.7 inside\n" {
		t.Errorf("the debug shell's network files are not the target's: %v, %s\n%s", err, st, out)
	}
	if b, _ := os.ReadFile(filepath.Join(tools, "etc/resolv.conf")); string(b) != string(toolsResolv) {
		t.Errorf("the toolbox's resolv.conf changed")
	}

	hostile := noShellRoot(t)
	if err := os.MkdirAll(filepath.Join(hostile, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(hostile, "etc/resolv.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Out of its root (resolved inside: its own, missing, /etc/passwd)
	// and into its proc.
	if err := os.Symlink("/../../../../../../etc/passwd", filepath.Join(hostile, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	init = testutil.StartUnshare(t, hostile, "/pause")
	out, st, err = run(t, init, Options{Tools: tools, Command: []string{"cat", "/etc/hosts"}})
	if err != nil || st.Code != 0 || out != string(toolsHosts) {
		t.Errorf("a hostile target's network files: %v, %s; want the toolbox's hosts, got\n%s", err, st, out)
	}
	if err := os.Remove(filepath.Join(hostile, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/environ", filepath.Join(hostile, "etc/hosts")); err != nil {
		t.Fatal(err)
	}
	out, st, err = run(t, init, Options{Tools: tools, Command: []string{"cat", "/etc/hosts"}})
	if err != nil || st.Code != 0 || out != string(toolsHosts) {
		t.Errorf("hosts -> /proc/self/environ was copied: %v, %s\n%s", err, st, out)
	}
}

// sharedEnv marks the run of the test binary inside a mount namespace whose
// mounts are all shared, as on every systemd host.
const sharedEnv = "BOXTUI_DEBUG_TEST_SHARED_ROOT"

// TestNothingLeaksWhenRootIsShared: on a host whose / is shared (every
// systemd host; not this test VM's), the debug namespace starts as a copy
// in the same peer groups, and every mount the stage made there would
// propagate back unless it made its copy private first. The test runs
// itself again inside `unshare --mount --propagation shared`.
func TestNothingLeaksWhenRootIsShared(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	if os.Getenv(sharedEnv) == "" {
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Skip("needs util-linux unshare")
		}
		cmd := exec.Command("unshare", "--mount", "--propagation", "shared", os.Args[0],
			"-test.run=^TestNothingLeaksWhenRootIsShared$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), sharedEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNothingLeaksWhenRootIsShared") {
			t.Fatalf("inside a shared mount namespace: %v\n%s", err, out)
		}
		return
	}
	testutil.PinThread(t)
	if !strings.Contains(mountinfo(t, os.Getpid()), " shared:") {
		t.Fatal("the test's mount namespace has no shared mount")
	}
	root, tools := noShellRoot(t), testutil.Rootfs(t)
	init := testutil.StartUnshare(t, root, "/pause")
	c, err := discovery.FindContainer(strconv.Itoa(init))
	if err != nil {
		t.Fatal(err)
	}
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	p, err := Start(c, Options{Tools: tools, Command: []string{"sh", "-c", "echo ready; read x"}, Stdin: inR, Stdout: outW, Stderr: outW})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Signal(syscall.SIGKILL)
	r := bufio.NewReader(outR)
	if line, err := r.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("debug shell said %q, %v", line, err)
	}
	if left := leakedMounts(t, tools, root); len(left) > 0 {
		t.Errorf("debug mounts propagated into boxtui's shared mount namespace: %v", left)
	}
	inW.Write([]byte("go\n"))
	go io.Copy(io.Discard, r)
	p.Wait()
	outW.Close()
	checkNothingLeft(t, init, tools, root)
}
