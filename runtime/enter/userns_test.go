package enter

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/enter/stage"
)

// startUserns starts a container with a user or time namespace of its own
// and returns it as discovery.FindInit finds it:
//   - "map-root": unshare --user --map-root-user --pid --fork --mount-proc,
//     the rootless recipe (root inside is root outside), on the host's files;
//   - "mapped": ids 0-65535 inside are 100000-165535 outside (setgroups
//     denied, as a rootless runtime leaves it), chrooted into the test
//     rootfs, its init running as root inside (host uid 100000);
//   - "time": unshare --time --boottime 1000 --monotonic 500.
func startUserns(t *testing.T, kind string) discovery.Container {
	t.Helper()
	testutil.RequireRoot(t, "starts containers with user and time namespaces")
	if !stage.Available {
		t.Skip("built without cgo: no enter stage to join user and time namespaces")
	}
	testutil.PinThread(t)
	var cmd *exec.Cmd
	switch kind {
	case "map-root":
		cmd = exec.Command("unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "--kill-child", "/bin/sleep", "1000")
	case "time":
		cmd = exec.Command("unshare", "--time", "--boottime", "1000", "--monotonic", "500", "--pid", "--fork", "--kill-child", "/bin/sleep", "1000")
	case "mapped":
		cmd = exec.Command("/bin/sleep", "1000")
		cmd.Dir = "/" // inside the root: os/exec changes there after the chroot
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
			Chroot:      testutil.Rootfs(t),
			Credential:  &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
		}
	default:
		t.Fatalf("startUserns: unknown kind %q", kind)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	var out testutil.LockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	init := cmd.Process.Pid // "mapped": the init itself
	testutil.WaitFor(t, 10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("%s exited: %s", cmd, out.String())
		default:
		}
		if kind != "mapped" {
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
			init, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		}
		if init <= 0 {
			return false
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", init))
		return strings.HasPrefix(string(cmdline), "/bin/sleep\x001000")
	}, "the container's init to run sleep")
	c, err := discovery.FindInit(strconv.Itoa(init))
	if err != nil || c.PID != init {
		t.Fatalf("discovery.FindInit(%d) = %d, %v", init, c.PID, err)
	}
	return c
}

func statusLine(t *testing.T, pid int, key string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return ""
}

// Every Go exec path (plain, a PTY, --new-mount-proc, the UI's, which is
// Start with TTY) enters the user and time namespaces of a container that
// has them, as nsenter -a does: same namespaces as the init, root inside
// (the init's uid and gid, seen from the host), no capability outside.
// Before the enter stage, Start refused them (ErrUserNamespace).
func TestEnterUserAndTimeNamespaces(t *testing.T) {
	for _, kind := range []string{"map-root", "mapped", "time"} {
		t.Run(kind, func(t *testing.T) {
			c := startUserns(t, kind)
			for _, mode := range []string{"joined", "tty", "new-mount-proc"} {
				opts := Options{Command: []string{"/bin/sleep", "1000"}, TTY: mode == "tty", NewMountProc: mode == "new-mount-proc"}
				p := start(t, c, opts)
				// The stage executes the command in place: wait for it.
				testutil.WaitFor(t, 10*time.Second, func() bool {
					cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.Pid))
					return strings.HasPrefix(string(cmdline), "/bin/sleep\x001000")
				}, "the command to run")
				for _, ns := range []string{"user", "time", "pid"} {
					if got, want := testutil.NSLink(t, p.Pid, ns), testutil.NSLink(t, c.PID, ns); got != want {
						t.Errorf("%s: %s namespace %s, the init's is %s", mode, ns, got, want)
					}
				}
				if mode != "new-mount-proc" {
					if got, want := testutil.NSLink(t, p.Pid, "mnt"), testutil.NSLink(t, c.PID, "mnt"); got != want {
						t.Errorf("%s: mnt namespace %s, the init's is %s", mode, got, want)
					}
				}
				for _, key := range []string{"Uid", "Gid"} {
					if got, want := statusLine(t, p.Pid, key), statusLine(t, c.PID, key); got != want {
						t.Errorf("%s: %s %q, the init's %q", mode, key, got, want)
					}
				}
				// Nothing but stdio reaches the command: not the stage's
				// config or status pipes, nor the namespace, root and
				// working-directory handles it was given. (sleep's loader
				// holds a library open for a moment as it starts: a leaked
				// fd is one that stays.)
				fdsOf := func() []string {
					fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid))
					var names []string
					for _, fd := range fds {
						l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", p.Pid, fd.Name()))
						names = append(names, fd.Name()+"->"+l)
					}
					return names
				}
				deadline := time.Now().Add(5 * time.Second)
				for len(fdsOf()) != 3 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if names := fdsOf(); len(names) != 3 {
					t.Errorf("%s: the command holds fds %v; want only 0, 1, 2", mode, names)
				}
				// Root inside has its capabilities in the container's user
				// namespace only; the process is not the host's root.
				if kind != "time" {
					if got := testutil.NSLink(t, p.Pid, "user"); got == testutil.NSLink(t, os.Getpid(), "user") {
						t.Errorf("%s: the command is in the host's user namespace", mode)
					}
				}
				if kind == "mapped" && statusLine(t, p.Pid, "Uid") != "100000 100000 100000 100000" {
					t.Errorf("%s: Uid %q; want root inside, 100000 outside", mode, statusLine(t, p.Pid, "Uid"))
				}
				p.Signal(syscall.SIGKILL)
				waitDone(t, p)
			}
		})
	}
}

// The time namespace's offsets show inside, as with nsenter: /proc/uptime
// read by the entered command is the host's plus the 1000 s --boottime.
func TestEnterTimeNamespaceShowsItsClock(t *testing.T) {
	c := startUserns(t, "time")
	for _, mode := range []string{"joined", "new-mount-proc"} {
		out, st := run(t, c, Options{Command: []string{"/bin/cat", "/proc/uptime"}, NewMountProc: mode == "new-mount-proc"})
		host, err := os.ReadFile("/proc/uptime")
		if err != nil || st.Code != 0 {
			t.Fatalf("%s: cat /proc/uptime: %v %v", mode, st, err)
		}
		var in, outside float64
		fmt.Sscan(out, &in)
		fmt.Sscan(string(host), &outside)
		if d := in - outside; d < 990 || d > 1000.5 {
			t.Errorf("%s: uptime inside %.2f, on the host %.2f: want 1000 s more inside", mode, in, outside)
		}
	}
}
