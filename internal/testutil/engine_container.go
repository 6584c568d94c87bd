package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// EngineContainer is a running container an engine started for a test.
type EngineContainer struct {
	Engine   string // docker, podman, lxc, nspawn or bwrap
	Name     string // the engine's name for it (bwrap has none: "")
	ID       string // the engine's full ID (docker, podman), else ""
	Hostname string // the host name set inside
	PID      int    // host PID of its init (PID 1 inside)
	Rootfs   string // its root on the host (lxc, nspawn, bwrap), else ""
	UserNS   bool   // it has a user namespace of its own

	bin       string // the engine's CLI
	startTime string // the init's, from /proc/PID/stat

	// For engines run in the foreground (lxc-start -F, nspawn, bwrap):
	// closed once the engine's process has exited, and how it did.
	exited  <-chan struct{}
	waitErr func() error
	out     *LockedBuffer
}

// String names the container in test messages.
func (c *EngineContainer) String() string {
	if c.Name != "" {
		return fmt.Sprintf("%s container %s (init %d)", c.Engine, c.Name, c.PID)
	}
	return fmt.Sprintf("%s container (init %d)", c.Engine, c.PID)
}

// Exited reports whether the engine itself says the container is no
// longer running, and its exit code as the engine has it (-1 where the
// engine keeps none: lxc). state says what the engine answered.
func (c *EngineContainer) Exited(t testing.TB) (exited bool, code int, state string) {
	t.Helper()
	switch c.Engine {
	case "docker", "podman":
		out, err := runEngine(nil, nil, c.bin, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", c.Name)
		if err != nil {
			t.Fatalf("ask %s for %s's state: %v", c.Engine, c.Name, err)
		}
		status, codeText, _ := strings.Cut(out, " ")
		code, _ = strconv.Atoi(codeText)
		return status == "exited" || status == "stopped", code, out
	case "lxc":
		out, err := runEngine(nil, nil, "lxc-info", "-n", c.Name, "-sH")
		if err != nil {
			t.Fatalf("ask lxc for %s's state: %v", c.Name, err)
		}
		return out == "STOPPED", -1, out
	}
	select {
	case <-c.exited:
		err := c.waitErr()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return true, 0, "exited 0"
		case errors.As(err, &exit):
			return true, exit.ExitCode(), "exited: " + err.Error()
		}
		return true, -1, err.Error()
	default:
		return false, 0, c.Engine + " still running"
	}
}

// ExecDetached runs cmd inside a docker or podman container with the
// engine's own `exec -d`, and returns the host PID of the process of the
// container that runs argv `runs` (the whole of it; nil: cmd) once there
// is one. It goes with the container.
func (c *EngineContainer) ExecDetached(t testing.TB, runs []string, cmd ...string) int {
	t.Helper()
	if c.Engine != "docker" && c.Engine != "podman" {
		t.Fatalf("ExecDetached: %s has no exec of its own here", c.Engine)
	}
	pidns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.PID))
	if err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	if out, err := runEngine(nil, nil, c.bin, append([]string{"exec", "-d", c.Name}, cmd...)...); err != nil {
		t.Fatalf("%s exec -d %s: %v\n%s", c.Engine, c.Name, err, out)
	}
	if runs == nil {
		runs = cmd
	}
	want := []byte(strings.Join(runs, "\x00") + "\x00")
	pid := 0
	WaitFor(t, 30*time.Second, func() bool {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			n, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", n)); ns != pidns {
				continue
			}
			if data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", n)); bytes.Equal(data, want) {
				pid = n
				return true
			}
		}
		return false
	}, fmt.Sprintf("%s exec -d %q to run %q", c.Engine, cmd, runs))
	return pid
}

// Output is what an engine run in the foreground printed so far.
func (c *EngineContainer) Output() string {
	if c.out == nil {
		return ""
	}
	return c.out.String()
}

// startForeground starts an engine's command that runs as long as its
// container, tied to the test binary.
func (c *EngineContainer) startForeground(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	exited, waitErr, err := StartTied(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", c.Engine, err)
	}
	c.exited, c.waitErr = exited, waitErr
	t.Cleanup(func() {
		// Last resort, after the engine's own cleanup (cleanups run
		// last-registered first): an engine still there is killed.
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
}

// checkEngineRuns fails the test if the foreground engine has exited.
func (c *EngineContainer) checkEngineRuns(t testing.TB) {
	t.Helper()
	select {
	case <-c.exited:
		t.Fatalf("%s exited before its container ran: %v\n%s", c.Engine, c.waitErr(), c.Output())
	default:
	}
}

// awaitInit finds the init of the container the engine process pid makes:
// its descendant that is PID 1 in its own PID namespace.
func (c *EngineContainer) awaitInit(t testing.TB, pid int) {
	t.Helper()
	WaitFor(t, 30*time.Second, func() bool {
		c.checkEngineRuns(t)
		c.PID = initBelow(pid, 3)
		return c.PID > 0
	}, c.Engine+" to start its container")
}

// initBelow returns the first process at most depth generations below
// pid whose PID in its own namespace is 1, or 0.
func initBelow(pid, depth int) int {
	if depth == 0 {
		return 0
	}
	for _, child := range Children(pid) {
		if innerPID(child) == 1 {
			return child
		}
		if p := initBelow(child, depth-1); p > 0 {
			return p
		}
	}
	return 0
}

// awaitCommand waits until the init or one of its children runs cmd
// (its whole argv, or the end of an interpreter's for a script), then records the init's start
// time and whether it has a user namespace of its own.
// engineProcesses are the engines' own programs that become a container's
// PID 1 for a moment before they exec its command, with command lines that
// end with that command.
var engineProcesses = map[string]bool{"systemd-nspawn": true, "bwrap": true}

func (c *EngineContainer) awaitCommand(t testing.TB, cmd []string) {
	t.Helper()
	WaitFor(t, 30*time.Second, func() bool {
		if c.exited != nil {
			c.checkEngineRuns(t)
		}
		if len(cmd) == 0 {
			return true
		}
		want := []byte(strings.Join(cmd, "\x00") + "\x00")
		for _, pid := range append([]int{c.PID}, Children(c.PID)...) {
			// The command itself, or a script run by its interpreter (or
			// systemd given its arguments). Not the engine's own process
			// before it execs the command: its
			// command line (systemd-nspawn ... /bin/sleep 1000, bwrap ...)
			// ends with the command too, and its container is not set up
			// yet (no hostname, no cgroup namespace).
			data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if bytes.Equal(data, want) {
				return true
			}
			argv0, _, _ := bytes.Cut(data, []byte{0})
			if base := filepath.Base(string(argv0)); !engineProcesses[base] && !strings.HasPrefix(base, "lxc-") &&
				bytes.HasSuffix(data, append([]byte{0}, want...)) {
				return true
			}
		}
		return false
	}, fmt.Sprintf("%s to run %q", c, cmd))
	c.startTime = procStartTime(c.PID)
	if c.startTime == "" {
		t.Fatalf("%s exited at once\n%s", c, c.Output())
	}
	mine, _ := os.Readlink("/proc/self/ns/user")
	theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", c.PID))
	c.UserNS = theirs != "" && theirs != mine
}

// killInit sends SIGKILL to the init if it still is the process the test
// started, which ends the container.
func (c *EngineContainer) killInit() {
	if c.PID <= 0 {
		return
	}
	fd, err := unix.PidfdOpen(c.PID, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	// Before awaitCommand recorded it, the init found below the engine
	// a moment ago is taken as it is.
	if now := procStartTime(c.PID); now != "" && (c.startTime == "" || now == c.startTime) {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
}

// waitEngine waits for a foreground engine's process to exit.
func (c *EngineContainer) waitEngine(t testing.TB) {
	t.Helper()
	if c.exited == nil {
		return
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not exit within 30 s of its container's end\n%s", c.Engine, c.Output())
	}
}

// waitInitGone waits until the container's init has exited, and with it
// (PID 1 of its namespace) every process of the container.
func (c *EngineContainer) waitInitGone(t testing.TB) {
	t.Helper()
	if c.PID <= 0 || c.startTime == "" {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for procStartTime(c.PID) == c.startTime {
		if time.Now().After(deadline) {
			t.Errorf("%s still running 30 s after its cleanup", c)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// procStartTime returns the start time field of /proc/PID/stat, or "" for
// a process that is gone or a zombie.
func procStartTime(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(data[i+1:]))
	// After the comm: state is field 3, starttime field 22.
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return ""
	}
	return f[19]
}
