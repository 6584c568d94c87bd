package launch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/runtime/procfs"
	"boxtui/runtime/reexec"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// TestMain lets the test binary be the holder and init stages too: Run
// re-executes /proc/self/exe, which here is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && reexec.Is(os.Args[1]) {
		os.Exit(reexec.Run(os.Args[1], os.Args[2:]))
	}
	if sock := os.Getenv("BOXTUI_TEST_DIAL"); sock != "" {
		os.Exit(dialAsClient(sock))
	}
	if root := os.Getenv("BOXTUI_TEST_DIE_IN_PREPARE"); root != "" {
		Run(Options{Name: "halfway", Rootfs: root, Command: []string{"/bin/sleep", "1000"},
			Prepare: func(initPID int) error {
				fmt.Println(initPID)
				os.Stdout.Sync()
				unix.Kill(os.Getpid(), unix.SIGKILL)
				select {}
			}})
		os.Exit(3)
	}
	code := m.Run()
	testutil.Cleanup()
	os.Exit(code)
}

// setup skips without root, points the state at a fresh directory and
// returns the shared test rootfs.
func setup(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t, "launches containers in new namespaces")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	return testutil.Rootfs(t)
}

// launch runs a container and makes sure it is gone when the test ends.
func launch(t *testing.T, opts Options) *Container {
	t.Helper()
	c, err := Run(opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		if c.Console != nil {
			c.Console.Close()
		}
		signals.Send(c.InitPID, c.InitStart, unix.SIGKILL)
		signals.WaitGone(c.InitPID, c.InitStart, 5*time.Second)
		signals.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second)
	})
	return c
}

// readConsole reads the console until EOF, failing after timeout.
func readConsole(t *testing.T, con *Console, timeout time.Duration) (string, error) {
	t.Helper()
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := io.ReadAll(con)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		return string(r.out), r.err
	case <-time.After(timeout):
		con.Close()
		t.Fatalf("console did not end within %v", timeout)
		return "", nil
	}
}

// exists reports whether pid is a process that has not been reaped.
func exists(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	st, err := procfs.ParseStat(data)
	return err == nil && st.State != 'Z' && st.State != 'X'
}

func stateNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(state.RunDir())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestCommandIsPID1AndExitCodePassesThrough(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Rootfs: rootfs, Command: []string{"/bin/sh", "-c", "echo pid=$$ host=$(hostname); exit 7"},
		Hostname: "h1", Remove: true, Raw: true, Console: true})
	out, err := readConsole(t, c.Console, 10*time.Second)
	if err != nil {
		t.Fatalf("read console: %v", err)
	}
	if out != "pid=1 host=h1\n" {
		t.Errorf("output %q, want %q", out, "pid=1 host=h1\n")
	}
	st := c.Console.ExitStatus()
	if st == nil || st.Code != 7 {
		t.Fatalf("exit status %v, want code 7", st)
	}
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("--rm left state behind: %v", names)
	}
}

func TestContainerViewOfTheWorld(t *testing.T) {
	rootfs := setup(t)
	script := `cat /proc/1/cmdline | tr '\0' ' '; echo; ls /dev; ls /proc | grep -c '^[0-9]'; ` +
		`test -e /host-marker && echo LEAK; cat /proc/self/mountinfo | wc -l`
	c := launch(t, Options{Rootfs: rootfs, Command: []string{"/bin/sh", "-c", script}, Remove: true, Raw: true, Console: true})
	out, err := readConsole(t, c.Console, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"null", "zero", "urandom", "tty", "pts", "ptmx"} {
		if !strings.Contains(out, want) {
			t.Errorf("/dev lacks %s:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// Only the shell and its pipeline's processes are visible: a fresh proc.
	if n, _ := strconv.Atoi(lines[len(lines)-2]); n == 0 || n > 5 {
		t.Errorf("container sees %d processes in /proc, want a handful:\n%s", n, out)
	}
	// rootfs, proc, dev, dev/pts: nothing of the host's tree is left.
	if n, _ := strconv.Atoi(lines[len(lines)-1]); n != 4 {
		t.Errorf("container has %d mounts, want 4:\n%s", n, out)
	}
}

func TestDetachedContainerIsListedStoppedAndRemoved(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Name: "web1", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
	found, err := discovery.FindContainer("web1")
	if err != nil {
		t.Fatalf("find web1: %v", err)
	}
	if found.PID != c.InitPID || found.Origin != discovery.OriginBoxtui || found.HolderPID != c.HolderPID {
		t.Fatalf("found %+v, want init %d, origin boxtui, holder %d", found, c.InitPID, c.HolderPID)
	}
	if err := Remove("web1", false, time.Second); !errors.Is(err, ErrStillRunning) {
		t.Fatalf("rm of a running container: %v, want ErrStillRunning", err)
	}
	// sleep as PID 1 has no SIGTERM handler: straight to SIGKILL. The grace
	// time is long enough that waiting it out cannot pass for a slow machine.
	const grace = time.Minute
	began := time.Now()
	if err := Stop(found, grace); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if took := time.Since(began); took >= grace/2 {
		t.Errorf("stop took %v of its %v grace time: it waited for a SIGTERM the kernel drops", took, grace)
	}
	st, err := state.Load("web1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != state.StatusExited || st.ExitSignal != "KILL" {
		t.Errorf("state after stop: status %s signal %q, want exited by KILL", st.Status, st.ExitSignal)
	}
	if err := Stop(found, time.Second); !errors.Is(err, procfs.ErrNoProcess) {
		t.Errorf("stop of a gone container: %v, want ErrNoProcess", err)
	}
	if err := Remove("web1", false, time.Second); err != nil {
		t.Fatalf("rm: %v", err)
	}
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("rm left %v", names)
	}
}

func TestStopUsesSIGTERMWhenTheInitHandlesIt(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Rootfs: rootfs, Raw: true, Console: true,
		Command: []string{"/bin/sh", "-c", `trap 'echo bye; exit 3' TERM; echo ready; while :; do sleep 0.05; done`}})
	var out bytes.Buffer
	buf := make([]byte, 256)
	for !strings.Contains(out.String(), "ready") {
		n, err := c.Console.Read(buf)
		if err != nil {
			t.Fatalf("read console: %v", err)
		}
		out.Write(buf[:n])
	}
	snap, err := discovery.Scan(discovery.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var target discovery.Container
	for _, sc := range snap.Containers {
		if sc.PID == c.InitPID {
			target = sc
		}
	}
	if err := Stop(target, 10*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	rest, _ := readConsole(t, c.Console, 5*time.Second)
	if st := c.Console.ExitStatus(); st == nil || st.Code != 3 || !strings.Contains(rest, "bye") {
		t.Fatalf("exit %v output %q: want the TERM trap to run and exit 3", st, rest)
	}
}

func TestSignalProcessByInnerPID(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Name: "sig", Rootfs: rootfs, Command: []string{"/bin/sh", "-c", "sleep 1000 & wait; echo waited; sleep 1000"}})
	var target discovery.Container
	testutil.WaitFor(t, 5*time.Second, func() bool {
		found, err := discovery.FindContainer("sig")
		target = found
		return err == nil && len(found.Procs) == 2
	}, "the container's second process")
	child := target.Procs[1]
	if err := SignalProcess(target, child.InnerPID, unix.SIGKILL); err != nil {
		t.Fatalf("signal inner pid %d: %v", child.InnerPID, err)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", child.PID))
		return err != nil
	}, "the signalled process to be reaped")
	if _, err := procfs.StartTime(c.InitPID); err != nil {
		t.Fatalf("the init died with its child: %v", err)
	}
	if err := SignalProcess(target, child.InnerPID, unix.SIGKILL); !errors.Is(err, procfs.ErrNoProcess) {
		t.Errorf("signal a process that exited meanwhile: %v, want ErrNoProcess", err)
	}
	if err := SignalProcess(target, 999, unix.SIGKILL); err == nil {
		t.Error("signal a PID the container does not have: no error")
	}
}

func TestHolderKilledContainerSurvives(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Name: "survivor", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
	if err := signals.Send(c.HolderPID, c.HolderStart, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if ok, _ := signals.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second); !ok {
		t.Fatal("holder did not die")
	}
	found, err := discovery.FindContainer("survivor")
	if err != nil {
		t.Fatalf("container lost with its holder: %v", err)
	}
	if found.HolderPID != 0 {
		t.Errorf("holder pid %d still reported", found.HolderPID)
	}
	// A scan only reads: the state still names the dead holder and no
	// event was written.
	if st, err := state.Load("survivor"); err != nil || st.HolderPID != c.HolderPID {
		t.Errorf("a scan changed the state: holder %d (%v), want %d", st.HolderPID, err, c.HolderPID)
	}
	holderLost := func() int {
		evs, err := events.Read("survivor")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Kind == events.HolderLost {
				n++
			}
		}
		return n
	}
	if n := holderLost(); n != 0 {
		t.Errorf("a scan recorded %d holder-lost events", n)
	}
	// The console is wanted: now the loss is found, said and recorded,
	// once however often it is found.
	for range 2 {
		if _, err := DialConsole("survivor"); !errors.Is(err, ErrConsoleLost) {
			t.Errorf("dial a holderless console: %v, want ErrConsoleLost", err)
		}
	}
	if n := holderLost(); n != 1 {
		t.Errorf("%d holder-lost events, want 1", n)
	}
	if st, err := state.Load("survivor"); err != nil || st.HolderPID != 0 {
		t.Errorf("state still names holder %d (%v)", st.HolderPID, err)
	}
	if err := Stop(found, time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := Remove("survivor", false, time.Second); err != nil {
		t.Fatalf("rm: %v", err)
	}
}

// Two clients on one console: output goes to both, and the window size is
// whichever client resized last.
func TestTwoClientsLatestSizeWins(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Name: "two", Rootfs: rootfs, Console: true, Env: []string{"PS1=$ "},
		Command: []string{"/bin/bash", "--norc", "--noprofile", "-i"}})
	second, err := DialConsole("two")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	outputs := map[*Console]*testutil.LockedBuffer{c.Console: {}, second: {}}
	for con, buf := range outputs {
		go io.Copy(buf, con)
	}
	// Resizes on two connections race inside the holder; wait for the
	// first to take effect so "latest" is well defined. stty reads the
	// console's own size: bash's COLUMNS follows a SIGWINCH only when it
	// comes while bash reads a line, which a loaded machine can miss.
	c.Console.Resize(20, 60)
	testutil.WaitFor(t, 10*time.Second, func() bool {
		c.Console.Write([]byte("echo S$(stty size)\n"))
		return strings.Contains(outputs[second].String(), "S20 60")
	}, "the shell to see the first client's size 60x20")
	second.Resize(33, 77)
	testutil.WaitFor(t, 10*time.Second, func() bool {
		c.Console.Write([]byte("echo S$(stty size)\n"))
		return strings.Contains(outputs[second].String(), "S33 77")
	}, "the shell to see the second client's size 77x33")
	testutil.WaitFor(t, 10*time.Second, func() bool {
		return strings.Contains(outputs[c.Console].String(), "S33 77")
	}, "the first client to get the same output")
}

// A command that exits at once must still hand its exit status to the
// client that launched it (the holder greets a client only once it is
// registered).
func TestInstantExitStatusIsNeverLost(t *testing.T) {
	rootfs := setup(t)
	for i := range 10 {
		c, err := Run(Options{Rootfs: rootfs, Command: []string{"/bin/sh", "-c", "exit 3"}, Remove: true, Raw: true, Console: true})
		if err != nil {
			t.Fatalf("launch %d: %v", i, err)
		}
		_, err = readConsole(t, c.Console, 10*time.Second)
		c.Console.Close()
		if err != nil {
			t.Fatalf("launch %d: read console: %v", i, err)
		}
		if st := c.Console.ExitStatus(); st == nil || st.Code != 3 {
			t.Fatalf("launch %d: exit status %v, want 3", i, st)
		}
		signals.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second)
	}
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("--rm left %v", names)
	}
}
