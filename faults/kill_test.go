package faults

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"
	"boxtui/ui/e2e"

	"golang.org/x/sys/unix"
)

// uiProcess finds the UI the test started in tmux: the binary run without
// arguments, with the test's state directory in its environment.
func (c *cli) uiProcess() int {
	c.t.Helper()
	var pid int
	testutil.WaitFor(c.t, 10*time.Second, func() bool {
		for _, p := range processesWith(c.bin) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
			env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", p))
			if string(cmdline) == c.bin+"\x00" && bytes.Contains(env, []byte("BOXTUI_RUN_DIR="+c.runDir+"\x00")) {
				pid = p
				return true
			}
		}
		return false
	}, "the UI process")
	return pid
}

// startUI runs the UI in tmux on the test's state directory, with the
// list filtered down to the container called name (other packages' tests
// may have containers of their own on the host) and that row selected.
func (c *cli) startUI(name string) *e2e.Session {
	c.t.Helper()
	s := e2e.Start(c.t, e2e.Options{KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + c.runDir, "BOXTUI_LOG=" + c.runDir + "/actions.log"}}, c.bin)
	s.Wait(name, 10*time.Second)
	s.Keys("/")
	s.Type(name)
	s.Keys("Enter")
	return s
}

// killUI SIGKILLs the UI and waits until it is gone.
func killUI(t *testing.T, pid int) {
	t.Helper()
	start, err := procfs.StartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := signals.Send(pid, start, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if gone, _ := signals.WaitGone(pid, start, 5*time.Second); !gone {
		t.Fatalf("UI %d survived SIGKILL", pid)
	}
}

// checkAliveListedKillable is what every fault below must leave: the
// container still runs, `boxtui ls` still lists it, `boxtui kill` still
// ends it, and `boxtui rm` then removes it.
func (c *cli) checkAliveListedKillable(name string, initPID int, wantHolder bool) {
	c.t.Helper()
	if !alive(initPID) {
		c.t.Fatalf("container %s (init %d) died", name, initPID)
	}
	ct, ok := find(c.ls(false), name)
	if !ok || ct.PID != initPID {
		c.t.Fatalf("container %s not listed with init %d (listed: %v %+v)", name, initPID, ok, ct)
	}
	if got := ct.HolderPID != 0; got != wantHolder {
		c.t.Errorf("container %s: holder listed %v (pid %d), want %v", name, got, ct.HolderPID, wantHolder)
	}
	c.mustRun("kill", "-s", "KILL", name)
	testutil.WaitFor(c.t, 5*time.Second, func() bool { return !alive(initPID) }, "the init to die")
	if _, ok := find(c.ls(false), name); ok {
		c.t.Errorf("container %s still listed after kill", name)
	}
	c.mustRun("rm", name)
}

// The UI is only a client: SIGKILL of it (with a console pane open on the
// container) must leave the container and its holder running.
func TestSIGKILLOfUILeavesContainersRunning(t *testing.T) {
	c := newCLI(t)
	ct := c.detached("uivictim", testutil.Rootfs(t), "/bin/sh", "-c", "echo hello-$((6*7)); exec sleep 1000")
	s := c.startUI("uivictim")
	s.Keys("Enter") // attach the console in a pane
	s.Wait("hello-42", 10*time.Second)
	killUI(t, c.uiProcess())
	s.Wait("EXIT=137", 5*time.Second)
	c.checkAliveListedKillable("uivictim", ct.PID, true)
}

// The holder owns the console, nothing else: SIGKILL of it leaves the
// container running, listed without a holder, and killable; the UI says
// "console lost" when asked for the console.
func TestSIGKILLOfHolderShowsConsoleLost(t *testing.T) {
	c := newCLI(t)
	ct := c.detached("orphan", testutil.Rootfs(t), "/bin/sh", "-c", "echo hello-$((6*7)); exec sleep 1000")
	st, err := state.Load("orphan")
	if err != nil {
		t.Fatal(err)
	}
	s := c.startUI("orphan")
	s.Keys("Enter")
	s.Wait("hello-42", 10*time.Second)

	if err := signals.Send(st.HolderPID, st.HolderStart, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if gone, _ := signals.WaitGone(st.HolderPID, st.HolderStart, 5*time.Second); !gone {
		t.Fatal("holder survived SIGKILL")
	}
	// The open pane ends; asking for the console again says why it cannot.
	s.WaitFunc(func(screen string) bool { return !strings.Contains(screen, "1 orphan console") }, "the console pane to close", 10*time.Second)
	s.Keys("Enter")
	s.Wait("console lost", 10*time.Second)
	s.Keys("q")
	s.Wait("EXIT=0", 5*time.Second)

	if _, errOut, code := c.run("attach", "orphan"); code == 0 || !strings.Contains(errOut, "console lost") {
		t.Errorf("attach after the holder died: exit %d, %q; want an error saying the console is lost", code, errOut)
	}
	c.checkAliveListedKillable("orphan", ct.PID, false)
}

// A container whose command ends on its own is listed by `ls -a` with its
// exit status until it is removed.
func TestContainerExitingOnItsOwnShowsExitStatus(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	c.mustRun("run", "-d", "--name", "seven", "--rootfs", rootfs, "--", "/bin/sh", "-c", "exit 7")
	c.mustRun("run", "-d", "--name", "zero", "--rootfs", rootfs, "--", "/bin/true")
	t.Cleanup(func() { c.try("rm", "-f", "seven"); c.try("rm", "-f", "zero") })
	for name, want := range map[string]int{"seven": 7, "zero": 0} {
		if code := c.exitCode(name); code != want {
			t.Errorf("%s: exit code %d, want %d", name, code, want)
		}
		if _, ok := find(c.ls(false), name); ok {
			t.Errorf("%s: exited container listed without -a", name)
		}
		c.mustRun("rm", name)
	}
	if names := stateNames(t, c.runDir); len(names) != 0 {
		t.Errorf("state left after rm: %v", names)
	}
}

// `boxtui run` SIGKILLed at any moment of a launch leaves all or nothing:
// either a whole running container (listed, killable) or no state, no
// process and no mount. The sweep of delays lands kills before the holder
// starts, while the init builds the container, and after it runs.
func TestRunClientSIGKILLedAtAnyMomentLeavesAllOrNothing(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	before, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	delays := []time.Duration{0, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond,
		4 * time.Millisecond, 5 * time.Millisecond, 6 * time.Millisecond, 8 * time.Millisecond, 10 * time.Millisecond,
		12 * time.Millisecond, 15 * time.Millisecond, 20 * time.Millisecond, 25 * time.Millisecond,
		30 * time.Millisecond, 40 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond,
		200 * time.Millisecond, 400 * time.Millisecond}
	outcomes := map[string]int{}
	volume := t.TempDir()
	for i, d := range delays {
		name := fmt.Sprintf("sweep%d", i)
		mark := marker()
		args := []string{"run", "--name", name, "--rootfs", rootfs}
		if i%2 == 1 {
			// Every other launch has a bind mount, attached while the init
			// waits (Prepare): kills land in that step too.
			args = append(args, "-v", volume+":/data:ro")
		}
		cmd := exec.Command(c.bin, append(args, "--", "/bin/sleep", "1000", mark)...)
		cmd.Env = c.env
		cmd.Stdin = strings.NewReader("") // no terminal: run passes stdio and waits
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(d) // the fault's timing is the point here, not a wait
		cmd.Process.Kill()
		cmd.Wait()

		// Let the launch settle either way, then judge it.
		outcome := ""
		var last string
		settle := func() bool {
			st, err := state.Load(name)
			last = fmt.Sprintf("state %+v, err %v, processes %v", st, err, processesWith(mark))
			switch {
			case err == nil && st.Status == state.StatusRunning && alive(st.InitPID):
				// "running" is recorded while the init still waits for the
				// go byte; a launch abandoned then goes away again. Only
				// the exec'd command is final.
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.InitPID))
				if !bytes.HasPrefix(cmdline, []byte("/bin/sleep\x00")) {
					return false
				}
				outcome = "running"
				return true
			case err == nil && st.Status == state.StatusCreating && len(processesWith(mark)) == 0 && time.Since(st.Created) > 2*time.Second:
				// Killed between claiming the name and starting the holder,
				// the client leaves a claim nobody owns: the next ls sweeps
				// it (see TestAbandonedClaimDoesNotHoldTheName).
				c.mustRun("ls", "-a")
				if _, err := state.Load(name); !errors.Is(err, state.ErrNoState) {
					t.Errorf("ls left the abandoned claim of %s: %v", name, err)
				}
				outcome = "claim swept by ls"
				return true
			case errors.Is(err, state.ErrNoState) && len(processesWith(mark)) == 0:
				if _, serr := os.Stat(state.Dir(name)); serr == nil {
					return false // the directory without a state file is a launch still going
				}
				outcome = "nothing"
				return true
			}
			return false
		}
		for deadline := time.Now().Add(10 * time.Second); !settle(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				var files []string
				entries, _ := os.ReadDir(state.Dir(name))
				for _, e := range entries {
					files = append(files, e.Name())
				}
				t.Fatalf("the launch killed after %v did not settle: %s; state directory holds %v", d, last, files)
			}
		}
		outcomes[outcome]++
		if outcome == "running" {
			st, _ := state.Load(name)
			c.checkAliveListedKillable(name, st.InitPID, true)
		}
		testutil.WaitFor(t, 5*time.Second, func() bool { return len(processesWith(mark)) == 0 },
			fmt.Sprintf("every process of the launch killed after %v to be gone", d))
	}
	t.Logf("outcomes over %d kills: %v", len(delays), outcomes)
	// A client killed between creating its hidden state directory and
	// renaming it to the name leaves that directory: it holds no name, and
	// the next launch removes it.
	c.mustRun("run", "-d", "--name", "sweeper", "--rootfs", rootfs, "--", "/bin/true")
	testutil.WaitFor(t, 10*time.Second, func() bool {
		st, err := state.Load("sweeper")
		return err == nil && st.Status == state.StatusExited
	}, "the last launch to exit")
	c.mustRun("rm", "sweeper")
	if names := stateNames(t, c.runDir); len(names) != 0 {
		t.Errorf("state left: %v", names)
	}
	if ms := mountsUnder(t, rootfs); len(ms) != 0 {
		t.Errorf("mounts left under the rootfs: %v", ms)
	}
	after, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range testutil.NewMounts(before, after) {
		if m == rootfs || strings.HasPrefix(m, rootfs+"/") || strings.HasPrefix(m, c.runDir) {
			t.Errorf("mount leaked into the host: %s", m)
		}
	}
	if z := zombies(os.Getpid()); len(z) != 0 {
		t.Errorf("zombie children left: %v", z)
	}
}

// `boxtui kill` issued again and again while the container's command exits
// by itself: every call either signals the container or says clearly that
// it is not running; none hangs, crashes or signals something else.
func TestKillWhileTargetExits(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	for round := range 5 {
		name := fmt.Sprintf("exiting%d", round)
		// PID 1 without a USR1 handler: the kernel drops the signal, so
		// the kills below never end the container themselves.
		// Long enough to be listed by detached on a loaded machine (0.1 s
		// was not, once in ten runs), short enough to exit under the kills.
		ct := c.detached(name, rootfs, "/bin/sh", "-c", fmt.Sprintf("sleep 1.%d; exit 3", 1+round))
		signalled, refused := 0, 0
		for deadline := time.Now().Add(10 * time.Second); ; {
			_, errOut, code := c.run("kill", "-s", "USR1", name)
			if code == 0 {
				signalled++
			} else {
				refused++
				line := strings.TrimSpace(errOut)
				if code != 1 || strings.Count(line, "\n") != 0 || !strings.Contains(line, "not running") && !strings.Contains(line, "exited") {
					t.Fatalf("kill as %s exits: exit %d, %q; want one line saying it is not running", name, code, errOut)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not exit", name)
			}
		}
		if alive(ct.PID) {
			t.Fatalf("kill refused while init %d still runs", ct.PID)
		}
		if code := c.exitCode(name); code != 3 {
			t.Errorf("%s: exit code %v, want 3 (signalled %d times, refused %d)", name, code, signalled, refused)
		}
	}
}

// recycle makes a new process take the PID of a process that exited: it
// sets the host's ns_last_pid just below it and forks, and retries while
// other processes on the machine grab the PID first.
func recycle(t *testing.T, pid int) *exec.Cmd {
	t.Helper()
	for range 500 {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(fmt.Sprint(pid-1)), 0); err != nil {
			t.Skipf("cannot steer PID allocation: %v", err)
		}
		cmd := exec.Command("/bin/sleep", "1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if cmd.Process.Pid == pid {
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			return cmd
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Skipf("could not recycle PID %d in 500 tries (a busy machine)", pid)
	return nil
}

// A PID recycled between a scan and a kill is never signalled: the start
// time the scan saw no longer matches, and Signal refuses with
// ErrNoProcess while the new owner of the PID lives on.
func TestRecycledPIDIsNeverSignalled(t *testing.T) {
	testutil.RequireRoot(t, "writes the host's ns_last_pid")
	victim := exec.Command("/bin/sleep", "1000")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	pid := victim.Process.Pid
	start, err := procfs.StartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	// A process is known by its PID and its start time in clock ticks
	// (10 ms). One that took the PID within the same tick as the victim
	// started would pass the check: the victim must have lived past its
	// first tick, as every process a person picks from a list has. (Only
	// host root can steer PIDs like this test does: see docs/security.md.)
	time.Sleep(30 * time.Millisecond)
	victim.Process.Kill()
	victim.Wait()

	squatter := recycle(t, pid)
	err = signals.Send(pid, start, unix.SIGKILL)
	if !errors.Is(err, procfs.ErrNoProcess) {
		t.Fatalf("Signal to a recycled PID: %v, want ErrNoProcess", err)
	}
	if gone, err := signals.WaitGone(pid, start, 5*time.Second); !gone || err != nil {
		t.Errorf("WaitGone on a recycled PID: gone %v, %v; want gone at once", gone, err)
	}
	if !alive(pid) {
		t.Fatal("the process that took the PID was signalled")
	}
	if err := squatter.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("squatter: %v", err)
	}
}

// The same through the binary: a container whose holder is gone (so no one
// records its end) dies, and its init PID goes to an unrelated host
// process. `boxtui ls`, `kill` and `rm -f` must all see a dead container
// and leave the new process alone.
func TestRecycledInitPIDOfStaleStateIsNeverSignalled(t *testing.T) {
	c := newCLI(t)
	c.detached("stale", testutil.Rootfs(t), "/bin/sleep", "1000")
	st, err := state.Load("stale")
	if err != nil {
		t.Fatal(err)
	}
	signals.Send(st.HolderPID, st.HolderStart, unix.SIGKILL)
	signals.WaitGone(st.HolderPID, st.HolderStart, 5*time.Second)
	if err := signals.Send(st.InitPID, st.InitStart, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", st.InitPID))
		return err != nil
	}, "the orphaned init to be reaped")

	recycle(t, st.InitPID)
	if ct, ok := find(c.ls(false), "stale"); ok {
		t.Errorf("a dead container is listed as running on a recycled PID: %+v", ct)
	}
	c.run("kill", "-s", "KILL", "stale")
	c.run("rm", "-f", "stale")
	if !alive(st.InitPID) {
		t.Fatal("boxtui signalled the process that took the dead init's PID")
	}
	if _, err := state.Load("stale"); !errors.Is(err, state.ErrNoState) {
		t.Errorf("rm -f of a dead container left its state: %v", err)
	}
}

// A `boxtui run` killed after it claimed its name but before it started the
// holder leaves a "creating" state that no process owns. Found by
// TestRunClientSIGKILLedAtAnyMomentLeavesAllOrNothing about once in 60
// kills (the name stayed taken until `boxtui rm`); reproduced here without
// timing by a client that claims and exits. The claim names its client, so
// a new run of the name (and any ls) sees it was abandoned and frees it.
func TestAbandonedClaimDoesNotHoldTheName(t *testing.T) {
	c := newCLI(t)
	claim := exec.Command("/proc/self/exe")
	claim.Env = append(c.env, claimEnv+"=ghost")
	if out, err := claim.CombinedOutput(); err != nil {
		t.Fatalf("claim: %v: %s", err, out)
	}
	t.Cleanup(func() { c.try("rm", "-f", "ghost") })
	c.mustRun("run", "-d", "--name", "ghost", "--rootfs", testutil.Rootfs(t), "--", "/bin/true")
}
