package faults

import (
	"context"
	"fmt"
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
	"boxtui/runtime/events"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// The stop tests give containers inits that take their stop signal the
// careful way (blocked, read with signalfd or sigwaitinfo: SigBlk, not
// SigCgt), built from testdata/stopinit.c, and check which signal each
// one gets from `boxtui kill`, `rm -f` and for containers boxtui did not
// make. The grace time is long (stopGrace) so that an init that had to
// wait it out, or got SIGKILL, shows.
const stopGrace = "20"

// stopInits compiles stopinit.c statically into a fresh directory, once
// as stopinit and once as systemd (the kernel names a process after the
// file it runs), and returns the directory. Skips without a C compiler.
func stopInits(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			t.Skip("needs a C compiler (cc or gcc) to build the test inits")
		}
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "stopinit")
	if out, err := exec.Command(cc, "-static", "-O2", "-o", bin, "testdata/stopinit.c").CombinedOutput(); err != nil {
		t.Skipf("cannot build a static test init (static libc missing?): %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "systemd"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// stopRootfs is a fresh rootfs with the test inits in /t and a directory
// /out they may write to.
func stopRootfs(t *testing.T, inits string) string {
	t.Helper()
	root := testutil.FreshRootfs(t)
	for _, d := range []string{"t", "out"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"stopinit", "systemd"} {
		data, err := os.ReadFile(filepath.Join(inits, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "t", f), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// waitBlocked waits until the init pid blocks every signal of sigs: it
// is ready for its stop signal.
func waitBlocked(t *testing.T, pid int, sigs ...unix.Signal) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() bool {
		// Only once the init's own program runs, not boxtui's init stage
		// (a clone of the holder, or __boxtui-init) before its exec: the
		// stage's signal state is not the init's.
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(cmdline), "\x00")
		if len(args) < 2 || filepath.Base(args[0]) == "boxtui" || strings.HasPrefix(args[1], "__boxtui") {
			return false
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return false
		}
		defer f.Close()
		st, err := procfs.ParseStatus(f)
		if err != nil {
			return false
		}
		// In sigwaitinfo the waited-for signals leave SigBlk for the wait.
		if mask, ok := signals.SigwaitMask(pid); ok {
			st.SigBlk |= mask
		}
		for _, s := range sigs {
			if !st.BlocksSignal(int(s)) {
				return false
			}
		}
		return true
	}, fmt.Sprintf("init %d to block its signals", pid))
}

// killTimed runs boxtui with args, which must succeed, and returns what
// it printed and how long it took.
func (c *cli) killTimed(args ...string) (string, time.Duration) {
	c.t.Helper()
	start := time.Now()
	out := c.mustRun(args...)
	return out, time.Since(start)
}

// exitCode waits until `ls -a` lists name as exited and returns its exit
// code (-1 for a death by signal).
func (c *cli) exitCode(name string) int {
	c.t.Helper()
	var got discovery.Container
	testutil.WaitFor(c.t, 10*time.Second, func() bool {
		var ok bool
		got, ok = find(c.ls(true), name)
		// Exited, and how recorded: the init dies a moment before its
		// holder writes its status.
		return ok && got.Status == state.StatusExited && (got.ExitCode != nil || got.ExitSignal != "")
	}, name+" to be listed as exited, with its status")
	if got.ExitCode == nil {
		c.t.Logf("%s ended by signal %q", name, got.ExitSignal) // says which, when a test fails on it
		return -1
	}
	return *got.ExitCode
}

// historyHas reports whether name's history has a killed event whose
// detail contains want.
func historyHas(t *testing.T, key, want string) bool {
	t.Helper()
	evs, err := events.Read(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Kind == events.Killed && strings.Contains(e.Detail, want) {
			return true
		}
	}
	return false
}

// An init that blocks SIGTERM and reads it (signalfd, sigwaitinfo) gets
// SIGTERM and exits cleanly, long before the grace time; it used to get
// SIGKILL at once, as its SigCgt is empty.
func TestStopInitThatBlocksTERM(t *testing.T) {
	dir := stopInits(t)
	c := newCLI(t)
	root := stopRootfs(t, dir)
	for _, mode := range []string{"signalfd", "sigwait"} {
		name := "blk" + mode
		ct := c.detached(name, root, "/t/stopinit", mode, "15")
		waitBlocked(t, ct.PID, unix.SIGTERM)
		out, took := c.killTimed("kill", "--time", stopGrace, name)
		if want := name + ": sent SIGTERM (blocked), exited after "; !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: kill printed %q, want one line starting %q", mode, out, want)
		}
		if took > 10*time.Second {
			t.Errorf("%s: kill took %s: it waited out the grace time", mode, took)
		}
		if code := c.exitCode(name); code != 0 {
			t.Errorf("%s: init exit code %d, want 0 (its own clean exit on SIGTERM)", mode, code)
		}
		if !historyHas(t, name, "sent SIGTERM (blocked)") {
			t.Errorf("%s: the history does not say SIGTERM was sent because it is blocked", mode)
		}
		c.mustRun("rm", name)
	}
}

// A systemd init gets systemd's stop signal, SIGRTMIN+3, not SIGTERM
// (which makes systemd re-execute): from `kill` and from `rm -f`.
func TestStopSystemdInitGetsRTMIN3(t *testing.T) {
	dir := stopInits(t)
	c := newCLI(t)
	root := stopRootfs(t, dir)
	ct := c.detached("sysd", root, "/t/systemd", "sigwait", "37", "15")
	waitBlocked(t, ct.PID, signals.SystemdStop, unix.SIGTERM)
	out, took := c.killTimed("kill", "--time", stopGrace, "sysd")
	if want := "sysd: sent SIGRTMIN+3 (systemd's stop signal), exited after "; !strings.HasPrefix(out, want) {
		t.Errorf("kill printed %q, want %q...", out, want)
	}
	if took > 10*time.Second {
		t.Errorf("kill took %s: it waited out the grace time", took)
	}
	if code := c.exitCode("sysd"); code != 0 {
		t.Errorf("init exit code %d, want 0 (it got SIGRTMIN+3); 15 means it got SIGTERM", code)
	}
	if !historyHas(t, "sysd", "sent SIGRTMIN+3 (systemd's stop signal)") {
		t.Error("the history does not say SIGRTMIN+3 was sent as systemd's stop signal")
	}
	c.mustRun("rm", "sysd")

	// rm -f stops the same way; the init writes what it got to a file,
	// as its exit status goes with its state.
	ct = c.detached("sysdrm", root, "/t/systemd", "sigwait=/out/got", "37", "15")
	waitBlocked(t, ct.PID, signals.SystemdStop)
	c.mustRun("rm", "-f", "sysdrm")
	if got, err := os.ReadFile(filepath.Join(root, "out", "got")); err != nil || strings.TrimSpace(string(got)) != "37" {
		t.Errorf("after rm -f the init recorded %q (%v), want 37 (SIGRTMIN+3)", got, err)
	}
}

// sleep as PID 1 neither catches nor blocks SIGTERM: it gets SIGKILL at
// once, without the grace time, and kill says why.
func TestStopSleepInitGetsSIGKILLAtOnce(t *testing.T) {
	c := newCLI(t)
	c.detached("sleeper", testutil.Rootfs(t), "/bin/sleep", "1000")
	out, took := c.killTimed("kill", "--time", stopGrace, "sleeper")
	if want := "sleeper: sent SIGKILL: SIGTERM is neither caught nor blocked\n"; out != want {
		t.Errorf("kill printed %q, want %q", out, want)
	}
	if took > 10*time.Second {
		t.Errorf("kill took %s: it waited out the grace time", took)
	}
	if code := c.exitCode("sleeper"); code != -1 {
		t.Errorf("exit code %d, want a death by SIGKILL", code)
	}
	c.mustRun("rm", "sleeper")
}

// kill -s sends exactly the signal asked for, even to a systemd init.
func TestKillSignalSendsExactlyThatSignal(t *testing.T) {
	dir := stopInits(t)
	c := newCLI(t)
	root := stopRootfs(t, dir)
	ct := c.detached("usr1", root, "/t/systemd", "sigwait", "10", "15", "37")
	waitBlocked(t, ct.PID, unix.SIGUSR1, unix.SIGTERM, signals.SystemdStop)
	if out := c.mustRun("kill", "-s", "USR1", "usr1"); out != "usr1: sent SIGUSR1 (asked for)\n" {
		t.Errorf("kill -s USR1 printed %q", out)
	}
	if code := c.exitCode("usr1"); code != 0 {
		t.Errorf("init exit code %d, want 0 (it got SIGUSR1)", code)
	}
	c.mustRun("rm", "usr1")
}

// A container boxtui did not make (unshare + chroot, the seed's way) is
// stopped the same way: its systemd gets SIGRTMIN+3.
func TestStopForeignSystemdInit(t *testing.T) {
	dir := stopInits(t)
	c := newCLI(t)
	root := t.TempDir()
	for _, d := range []string{"proc", "out"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "systemd"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "systemd"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	pid := testutil.StartUnshare(t, root, "/systemd", "signalfd=/out/got", "37", "15")
	waitBlocked(t, pid, signals.SystemdStop, unix.SIGTERM)
	out, took := c.killTimed("kill", "--time", stopGrace, strconv.Itoa(pid))
	if want := fmt.Sprintf("pid:%d: sent SIGRTMIN+3 (systemd's stop signal), exited after ", pid); !strings.HasPrefix(out, want) {
		t.Errorf("kill printed %q, want %q...", out, want)
	}
	if took > 10*time.Second {
		t.Errorf("kill took %s: it waited out the grace time", took)
	}
	if got, err := os.ReadFile(filepath.Join(root, "out", "got")); err != nil || strings.TrimSpace(string(got)) != "37" {
		t.Errorf("the init recorded %q (%v), want 37 (SIGRTMIN+3)", got, err)
	}
}

// A real systemd booted by `systemd-nspawn -b` (the host's own /usr,
// everything else a tmpfs, no network of its own) halts on boxtui's stop
// and nspawn exits 0, well within the grace time.
func TestStopNspawnBootedSystemd(t *testing.T) {
	testutil.RequireRoot(t, "boots systemd with systemd-nspawn")
	nspawn, err := exec.LookPath("systemd-nspawn")
	if err != nil {
		t.Skip("needs systemd-nspawn (Debian: systemd-container)")
	}
	if _, err := os.Stat("/usr/lib/systemd/systemd"); err != nil {
		t.Skip("needs systemd installed on the host (nspawn boots the host's /usr)")
	}
	c := newCLI(t)
	machine := "btstop" + strconv.Itoa(os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nspawn, "--quiet", "--register=no", "--keep-unit", "--volatile=yes",
		"--private-network", "--console=pipe", "-M", machine, "-D", "/", "-b")
	out := &testutil.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// done is closed once nspawn has exited, waitErr then says how.
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	initPID := 0
	t.Cleanup(func() {
		select {
		case <-done:
			return
		default:
		}
		// Still up: take the container down with its init, then nspawn.
		if initPID != 0 {
			if start, err := procfs.StartTime(initPID); err == nil {
				signals.Send(initPID, start, unix.SIGKILL)
			}
		}
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	testutil.WaitFor(t, 60*time.Second, func() bool {
		select {
		case <-done:
			t.Fatalf("systemd-nspawn exited before systemd started: %v\n%s", waitErr, out.String())
		default:
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		if err != nil {
			return false
		}
		for _, f := range strings.Fields(string(data)) {
			if p, _ := strconv.Atoi(f); p > 0 {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
				if strings.TrimSpace(string(comm)) == "systemd" {
					initPID = p
					return true
				}
			}
		}
		return false
	}, "systemd-nspawn to start systemd")
	waitBlocked(t, initPID, signals.SystemdStop, unix.SIGTERM)
	// Let systemd start its services (journald first): the point is
	// stopping a running system, not one still booting.
	testutil.WaitFor(t, 60*time.Second, func() bool {
		return len(testutil.Children(initPID)) > 0
	}, "systemd to start its services")
	stdout, took := c.killTimed("kill", "--time", stopGrace, strconv.Itoa(initPID))
	if want := fmt.Sprintf("pid:%d: sent SIGRTMIN+3 (systemd's stop signal), exited after ", initPID); !strings.HasPrefix(stdout, want) {
		t.Errorf("kill printed %q, want %q...", stdout, want)
	}
	if took > 15*time.Second {
		t.Errorf("kill took %s: systemd did not halt on SIGRTMIN+3", took)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("systemd-nspawn: %v (want exit 0 after a clean halt)\n%s", waitErr, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("systemd-nspawn still running 15 s after its systemd was stopped")
	}
	t.Logf("nspawn -b stopped: %s", strings.TrimSpace(stdout))
}
