package enter

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/nsjoin"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
)

// joinedTypes are the namespaces nsenter -a would join for these
// containers; cgroup is not checked as the test containers share the
// host's.
var joinedTypes = []namespace.Type{namespace.PID, namespace.Mnt, namespace.UTS, namespace.IPC, namespace.Net}

// unshareContainer starts the seed's container (unshare + chroot, sleep as
// PID 1) and resolves it as the CLI would, by the init's host PID.
func unshareContainer(t *testing.T) (discovery.Container, string) {
	t.Helper()
	testutil.RequireRoot(t, "starts containers and joins their namespaces")
	testutil.PinThread(t)
	rootfs := testutil.Rootfs(t)
	checkNoMountLeak(t, rootfsParent(rootfs))
	pid := testutil.StartUnshare(t, rootfs, "/bin/sleep", "1000")
	c, err := discovery.FindInit(strconv.Itoa(pid))
	if err != nil {
		t.Fatalf("discovery.FindInit(%d): %v", pid, err)
	}
	if c.PID != pid || c.StartTime == 0 {
		t.Fatalf("discovery.FindInit(%d) = init %d (start %d)", pid, c.PID, c.StartTime)
	}
	return c, rootfs
}

func pivotContainer(t *testing.T) discovery.Container {
	t.Helper()
	testutil.RequireRoot(t, "starts containers and joins their namespaces")
	testutil.PinThread(t)
	rootfs := testutil.Rootfs(t)
	checkNoMountLeak(t, rootfsParent(rootfs))
	pid := startPivot(t, rootfs)
	c, err := discovery.FindInit(strconv.Itoa(pid))
	if err != nil {
		t.Fatalf("discovery.FindInit(%d): %v", pid, err)
	}
	return c
}

func TestEnterUnshareContainer(t *testing.T) {
	c, _ := unshareContainer(t)
	p := start(t, c, Options{Command: []string{"/bin/sleep", "1000"}})
	assertJoined(t, c.PID, p.Pid, joinedTypes...)
	if n := innerPIDOf(t, p.Pid); n <= 1 {
		t.Errorf("exec'd process has PID %d inside; want a member of the container's PID namespace", n)
	}

	// Inside, it sees the container's processes with the init as PID 1.
	out, st := run(t, c, Options{Command: []string{"ps", "ax", "-o", "pid=,comm="}})
	if st.ShellCode() != 0 || !psHasInit(out, "sleep") {
		t.Errorf("ps ax inside (%v):\n%s\nwant sleep as PID 1", st, out)
	}
	if pidOfComm(out, "sleep") == 0 {
		t.Errorf("ps ax inside does not list the exec'd sleep:\n%s", out)
	}
}

func TestEnterPivotRootContainer(t *testing.T) {
	c := pivotContainer(t)
	if c.Root != "/" {
		t.Fatalf("pivot_root container root reads %q; the test wants one that reads /", c.Root)
	}
	p := start(t, c, Options{Command: []string{"/bin/sleep", "1000"}})
	assertJoined(t, c.PID, p.Pid, joinedTypes...)

	out, st := run(t, c, Options{Command: []string{"sh", "-c", "cat " + pivotMarker + "; hostname; ps ax -o pid=,comm="}})
	if st.ShellCode() != 0 || !strings.Contains(out, "pivot marker") || !strings.Contains(out, "pivotbox") || !psHasInit(out, "sleep") {
		t.Errorf("inside the pivot_root container (%v):\n%s\nwant the marker, hostname pivotbox and sleep as PID 1", st, out)
	}
	if _, err := os.Stat(pivotMarker); err == nil {
		t.Fatalf("%s exists on the host: the marker proves nothing", pivotMarker)
	}
}

func TestNewMountProc(t *testing.T) {
	for _, kind := range []string{"unshare", "pivot_root"} {
		t.Run(kind, func(t *testing.T) {
			var c discovery.Container
			if kind == "unshare" {
				c, _ = unshareContainer(t)
			} else {
				c = pivotContainer(t)
			}
			initMounts, err := testutil.MountTableOf(c.PID)
			if err != nil {
				t.Fatal(err)
			}
			host := namespace.Host()
			p := start(t, c, Options{NewMountProc: true, Namespaces: []namespace.Type{namespace.PID}, Command: []string{"/bin/sleep", "1000"}})
			assertJoined(t, c.PID, p.Pid, namespace.PID)
			got, _ := namespace.Read(p.Pid)
			want, _ := namespace.Read(c.PID)
			if got[namespace.Mnt] == want[namespace.Mnt] || got[namespace.Mnt] == host[namespace.Mnt] {
				t.Errorf("mnt namespace %d; want one of its own (init %d, host %d)", got[namespace.Mnt], want[namespace.Mnt], host[namespace.Mnt])
			}
			for _, ty := range []namespace.Type{namespace.UTS, namespace.Net, namespace.IPC} {
				if got[ty] != host[ty] {
					t.Errorf("%s namespace %d; want the host's %d (only pid is joined)", ty, got[ty], host[ty])
				}
			}

			out, st := run(t, c, Options{NewMountProc: true, Command: []string{"ps", "ax", "-o", "pid=,comm="}})
			if st.ShellCode() != 0 || !psHasInit(out, "sleep") || pidOfComm(out, "ps") == 0 {
				t.Errorf("ps ax with a new /proc (%v):\n%s\nwant sleep as PID 1 and ps itself", st, out)
			}
			// The fresh proc stays in the exec'd process's namespace.
			after, err := testutil.MountTableOf(c.PID)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(initMounts) {
				t.Errorf("container's mount table went from %d to %d entries: the new /proc propagated", len(initMounts), len(after))
			}
		})
	}
}

func TestExitCodeAndSignal(t *testing.T) {
	c, _ := unshareContainer(t)
	for _, mode := range []bool{false, true} {
		_, st := run(t, c, Options{NewMountProc: mode, Command: []string{"sh", "-c", "exit 7"}})
		if st.Code != 7 || st.Signal != 0 {
			t.Errorf("new-mount-proc=%v: sh -c 'exit 7' ended %v; want status 7", mode, st)
		}
	}
	p := start(t, c, Options{Command: []string{"/bin/sleep", "1000"}})
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st := waitDone(t, p); st.Signal != syscall.SIGTERM || st.ShellCode() != 143 {
		t.Errorf("sleep after SIGTERM ended %v; want killed by TERM", st)
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Signal after exit = %v; want os.ErrProcessDone", err)
	}
}

func TestStdioAndOptions(t *testing.T) {
	c, _ := unshareContainer(t)
	out, st := run(t, c, Options{
		Command: []string{"sh", "-c", `read line; echo "got $line in $(pwd) as $GREETING"`},
		Stdin:   strings.NewReader("hello\n"),
		Dir:     "/tmp",
		Env:     []string{"GREETING=hi"},
	})
	if st.ShellCode() != 0 || strings.TrimSpace(out) != "got hello in /tmp as hi" {
		t.Errorf("stdin/dir/env (%v): %q", st, out)
	}
	_, err := Start(c, Options{Command: []string{"true"}, Dir: "/no/such/dir"})
	if err == nil || !strings.Contains(err.Error(), "working directory /no/such/dir not found") {
		t.Errorf("missing -w dir: error = %v", err)
	}
}

func TestTTY(t *testing.T) {
	c, _ := unshareContainer(t)
	p := start(t, c, Options{TTY: true, Rows: 30, Cols: 100, Command: []string{"sh", "-c", `read x; echo "size=$(stty size 2>/dev/null || echo none) term=$TERM x=$x"; [ -t 0 ] && echo ISATTY`}})
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(p.Master) // EIO when the slave side is gone
		out <- string(b)
	}()
	if _, err := p.Master.Write([]byte("abc\n")); err != nil {
		t.Fatal(err)
	}
	st := waitDone(t, p)
	var text string
	select {
	case text = <-out:
	case <-time.After(10 * time.Second):
		t.Fatal("PTY output did not end")
	}
	if st.ShellCode() != 0 || !strings.Contains(text, "term=xterm x=abc") || !strings.Contains(text, "ISATTY") {
		t.Errorf("on a PTY (%v): %q", st, text)
	}
	if strings.Contains(text, "size=") && !strings.Contains(text, "size=30 100") && !strings.Contains(text, "size=none") {
		t.Errorf("window size not applied: %q", text)
	}
}

// TestTwoShells is the seed's scenario: a top runs in one entered process,
// a second entered process finds it with ps inside and kills it by its
// in-container PID, and the first one ends.
func TestTwoShells(t *testing.T) {
	c, _ := unshareContainer(t)
	top := start(t, c, Options{TTY: true, Rows: 24, Cols: 80, Command: []string{"top", "-d", "0.2"}})
	screen := &testutil.LockedBuffer{}
	go io.Copy(screen, top.Master) // top blocks if nobody drains its PTY
	testutil.WaitFor(t, 10*time.Second, func() bool {
		return strings.Contains(screen.String(), "PID")
	}, "top to draw its process table")
	topInner := innerPIDOf(t, top.Pid)

	out, st := run(t, c, Options{Command: []string{"sh", "-c", `for p in $(ps -C top -o pid=); do kill $p && echo killed $p; done`}})
	if st.ShellCode() != 0 || strings.TrimSpace(out) != fmt.Sprintf("killed %d", topInner) {
		t.Fatalf("second shell (%v): %q; want it to kill top, PID %d inside", st, out, topInner)
	}
	st = waitDone(t, top)
	// top catches SIGTERM and exits cleanly; a program that does not dies
	// of it. Either way it ended because of the kill from inside.
	if !(st.Code == 0 || st.Signal == syscall.SIGTERM) {
		t.Errorf("top ended %v; want status 0 (its SIGTERM handler) or killed by TERM", st)
	}
}

func TestBadInput(t *testing.T) {
	testutil.RequireRoot(t, "enters containers")
	t.Run("no such process", func(t *testing.T) {
		cmd := startAndReap(t)
		_, err := discovery.FindInit(strconv.Itoa(cmd))
		if !errors.Is(err, procfs.ErrNoProcess) || strings.Contains(err.Error(), "\n") {
			t.Errorf("discovery.FindInit(dead pid) = %v; want one line wrapping ErrNoProcess", err)
		}
	})
	t.Run("not in a container", func(t *testing.T) {
		_, err := discovery.FindInit(strconv.Itoa(os.Getpid()))
		if !errors.Is(err, discovery.ErrNotInContainer) {
			t.Errorf("discovery.FindInit(self) = %v; want ErrNotInContainer", err)
		}
	})
	t.Run("command missing", func(t *testing.T) {
		c, _ := unshareContainer(t)
		for _, mode := range []bool{false, true} {
			_, err := Start(c, Options{NewMountProc: mode, Command: []string{"/bin/nope"}})
			if !errors.Is(err, ErrCommandNotFound) || err.Error() != "command /bin/nope not found in the container" {
				t.Errorf("new-mount-proc=%v: Start(/bin/nope) = %v", mode, err)
			}
		}
		_, err := Start(c, Options{Command: []string{"nope-nope"}})
		if !errors.Is(err, ErrCommandNotFound) {
			t.Errorf("Start(nope-nope) = %v", err)
		}
	})
	t.Run("container exits during the call", func(t *testing.T) {
		c, _ := unshareContainer(t)
		// Resolved while running, gone by the time it is entered.
		if err := signals.Send(c.PID, c.StartTime, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if gone, err := signals.WaitGone(c.PID, c.StartTime, 10*time.Second); !gone || err != nil {
			t.Fatalf("init did not die: %v", err)
		}
		for _, mode := range []bool{false, true} {
			_, err := Start(c, Options{NewMountProc: mode, Command: []string{"true"}})
			if !errors.Is(err, procfs.ErrNoProcess) || !strings.Contains(err.Error(), "exited") {
				t.Errorf("new-mount-proc=%v: Start after the init died = %v; want ErrNoProcess saying it exited", mode, err)
			}
		}
	})
	t.Run("user namespace", func(t *testing.T) {
		c := startUserns(t, "map-root")
		// The Go thread path (a binary without cgo) cannot join it.
		t.Setenv("BOXTUI_ENTER_STAGE", "go")
		for _, opts := range []Options{{}, {Namespaces: []namespace.Type{namespace.User}}} {
			opts.Command = []string{"true"}
			_, err := Start(c, opts)
			if !errors.Is(err, nsjoin.ErrUserNamespace) || !strings.Contains(err.Error(), "needs boxtui built with cgo") {
				t.Errorf("Start(%v) without the stage = %v; want ErrUserNamespace", opts.Namespaces, err)
			}
		}
		_, err := Start(c, Options{NewMountProc: true, Namespaces: []namespace.Type{namespace.Net}, Command: []string{"true"}})
		if err == nil || !strings.Contains(err.Error(), "only the pid namespace") {
			t.Errorf("Start(--new-mount-proc --ns net) = %v", err)
		}
	})
}

// startAndReap runs a short process to the end and returns its PID, now
// free (a PID is not reused for a long while on an idle pid_max cycle).
func startAndReap(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	p.Wait()
	return p.Pid
}

func TestFindContainerFastPath(t *testing.T) {
	testutil.RequireRoot(t, "starts a container")
	testutil.PinThread(t)
	rootfs := testutil.Rootfs(t)
	checkNoMountLeak(t, rootfsParent(rootfs))
	init := testutil.StartUnshare(t, rootfs, "/bin/sh", "-c", "sleep 1000 & wait")
	var child int
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", init, init))
		child, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		return child > 0
	}, "the init's sleep")
	c, err := discovery.FindInit(strconv.Itoa(child))
	if err != nil {
		t.Fatal(err)
	}
	// A process that joined from outside has no parent inside: the walk
	// stops there and the full scan answers.
	joined := start(t, c, Options{Command: []string{"/bin/sleep", "1000"}})
	for _, pid := range []int{init, child, joined.Pid} {
		fast, err := discovery.FindInit(strconv.Itoa(pid))
		if err != nil {
			t.Fatalf("discovery.FindInit(%d): %v", pid, err)
		}
		slow, err := discovery.FindContainer(strconv.Itoa(pid))
		if err != nil {
			t.Fatalf("discovery.FindContainer(%d): %v", pid, err)
		}
		if fast.PID != init || fast.PID != slow.PID || fast.StartTime != slow.StartTime || fast.Namespaces != slow.Namespaces ||
			fast.Root != slow.Root || fast.Command != slow.Command || fast.Origin != slow.Origin {
			t.Errorf("target %d: fast %+v\nslow %+v", pid, fast, slow)
		}
	}
}

// TestEnterChrootOnly enters a container that shares the host's mount
// namespace: mnt is not joined (it is the same), but the root still is, and
// --new-mount-proc still gives a fresh /proc of the container's.
func TestEnterChrootOnly(t *testing.T) {
	testutil.RequireRoot(t, "starts a container")
	testutil.PinThread(t)
	rootfs := testutil.Rootfs(t)
	checkNoMountLeak(t, rootfsParent(rootfs))
	pid := startChrootOnly(t, rootfs)
	c, err := discovery.FindInit(strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	if c.Namespaces[namespace.Mnt] != namespace.Host()[namespace.Mnt] {
		t.Fatalf("the chroot container has a mount namespace of its own; the test wants the host's")
	}
	p := start(t, c, Options{Command: []string{"/bin/sleep", "1000"}})
	assertJoined(t, c.PID, p.Pid, joinedTypes...)
	out, st := run(t, c, Options{NewMountProc: true, Command: []string{"ps", "ax", "-o", "pid=,comm="}})
	if st.ShellCode() != 0 || !psHasInit(out, "sleep") {
		t.Errorf("ps ax with a new /proc (%v):\n%s\nwant sleep as PID 1", st, out)
	}
}
