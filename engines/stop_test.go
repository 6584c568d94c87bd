package engines

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"

	"golang.org/x/sys/unix"
)

// starter starts an engine's container called name running cmd.
type starter struct {
	engine string
	start  func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer
}

var trapStarters = []starter{
	{"docker", func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer {
		return testutil.StartDocker(t, name, nil, cmd...)
	}},
	{"podman", func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer {
		return testutil.StartPodman(t, name, nil, cmd...)
	}},
	{"lxc", func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer {
		return testutil.StartLXC(t, name, nil, cmd...)
	}},
	{"nspawn", func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer {
		return testutil.StartNspawn(t, name, nil, cmd...)
	}},
	{"bwrap", func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer {
		return testutil.StartBwrap(t, name, []string{"--as-pid-1"}, cmd...)
	}},
}

// An init that catches SIGTERM (a shell's trap) gets SIGTERM from boxtui
// kill, exits by its own handler (code 7, where the engine keeps the code:
// not 137, a SIGKILL), well within the grace time, and its engine sees it.
func TestStopCaughtTERM(t *testing.T) {
	for _, s := range trapStarters {
		t.Run(s.engine, func(t *testing.T) {
			t.Parallel()
			c := s.start(t, testutil.EngineName("trap-"+s.engine), testutil.TrapTERM, "7")
			waitSignals(t, c.PID, func(st procfs.Status) bool { return st.CatchesSignal(int(unix.SIGTERM)) }, "catch SIGTERM")
			b := newCLI(t)
			pid := strconv.Itoa(c.PID)
			out := b.mustRun("kill", "--time", "20", pid)
			if want := "pid:" + pid + ": sent SIGTERM (caught), exited after "; !strings.HasPrefix(out, want) {
				t.Errorf("boxtui kill printed %q, want %q...", out, want)
			}
			code := awaitExited(t, c)
			if code != 7 && code != -1 {
				t.Errorf("%s: the engine has exit code %d, want 7 (the init's own exit on SIGTERM)", c, code)
			}
			t.Logf("%s: %s; engine's exit code %d", c, strings.TrimSpace(out), code)
		})
	}
}

// A real systemd as a container's init (the host's own /usr bound in,
// booted to basic.target) gets SIGRTMIN+3 from boxtui kill, halts cleanly
// (exit 0) well within the grace time, and its engine sees it exit.
// (faults/TestStopNspawnBootedSystemd boots the host's whole / instead.)
func TestStopSystemd(t *testing.T) {
	systemd := "/usr/lib/systemd/systemd"
	cmd := []string{systemd, "--unit=basic.target"}
	starters := []starter{
		{"docker", func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer {
			// What systemd needs from docker: tmpfs on /run and /tmp, and
			// the cgroup tree (read-only on v1: systemd only reads it and
			// makes its own below the container's).
			args := []string{"--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
				"-v", "/usr:/usr:ro", "-e", "container=docker", "--stop-signal", "RTMIN+3"}
			if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
				// cgroup v2 alone (not tried here: this host is hybrid).
				args = append(args, "--cgroupns", "private", "--privileged")
			} else {
				args = append(args, "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro")
			}
			return testutil.StartDocker(t, name, args, cmd...)
		}},
		{"podman", func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer {
			return testutil.StartPodman(t, name, []string{"--systemd=always", "-v", "/usr:/usr:ro"}, cmd...)
		}},
		{"lxc", func(t *testing.T, name string, cmd ...string) *testutil.EngineContainer {
			return testutil.StartLXC(t, name, []string{"lxc.mount.entry = /usr usr none ro,bind 0 0"}, cmd...)
		}},
		{"nspawn", func(t *testing.T, name string, _ ...string) *testutil.EngineContainer {
			// -b runs the tree's /usr/lib/systemd/systemd: the host's,
			// bound in; what follows -b goes to it as its arguments.
			return testutil.StartNspawn(t, name, []string{"--bind-ro=/usr", "-b"}, "systemd.unit=basic.target")
		}},
	}
	for _, s := range starters {
		t.Run(s.engine, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(systemd); err != nil {
				if testutil.EnginesRequired() {
					t.Fatalf("needs systemd on the host (Debian: systemd, which systemd-container brings): %v", err)
				}
				t.Skipf("needs systemd on the host (Debian: systemd): %v", err)
			}
			c := s.start(t, testutil.EngineName("sysd-"+s.engine), cmd...)
			waitSignals(t, c.PID, func(st procfs.Status) bool {
				return st.BlocksSignal(int(signals.SystemdStop)) && st.BlocksSignal(int(unix.SIGTERM))
			}, "block its signals (systemd reads them from a signalfd)")
			// Stop a running system, not one still booting: journald
			// runs once systemd has started its first services.
			testutil.WaitFor(t, 60*time.Second, func() bool {
				for _, p := range testutil.Children(c.PID) {
					if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); strings.TrimSpace(string(comm)) == "systemd-journal" {
						return true
					}
				}
				return false
			}, "systemd to start journald")
			b := newCLI(t)
			pid := strconv.Itoa(c.PID)
			before := time.Now()
			out := b.mustRun("kill", "--time", "20", pid)
			took := time.Since(before)
			if want := "pid:" + pid + ": sent SIGRTMIN+3 (systemd's stop signal), exited after "; !strings.HasPrefix(out, want) {
				t.Errorf("boxtui kill printed %q, want %q...", out, want)
			}
			if took > 15*time.Second {
				t.Errorf("boxtui kill took %v: systemd did not halt on SIGRTMIN+3", took)
			}
			code := awaitExited(t, c)
			if code != 0 && code != -1 {
				t.Errorf("%s: the engine has exit code %d, want 0 (a clean halt)", c, code)
			}
			t.Logf("%s: %s; engine's exit code %d", c, strings.TrimSpace(out), code)
		})
	}
}

// waitSignals waits until the signal masks of pid satisfy ok: the init
// is ready for its stop signal. In sigwaitinfo the waited-for signals
// leave SigBlk for the wait; they are added back as boxtui kill does.
func waitSignals(t *testing.T, pid int, ok func(procfs.Status) bool, what string) {
	t.Helper()
	testutil.WaitFor(t, 60*time.Second, func() bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return false
		}
		st, err := procfs.ParseStatus(bytes.NewReader(data))
		if err != nil {
			return false
		}
		if mask, ok := signals.SigwaitMask(pid); ok {
			st.SigBlk |= mask
		}
		return ok(st)
	}, fmt.Sprintf("init %d to %s", pid, what))
}
