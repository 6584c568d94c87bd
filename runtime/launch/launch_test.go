package launch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime"
	"boxtui/runtime/rootfs"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// TestMain lets the test binary be the holder and init stages too: Run
// re-executes /proc/self/exe, which here is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && runtime.IsStage(os.Args[1]) {
		os.Exit(runtime.RunStage(os.Args[1], os.Args[2:]))
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
		runtime.Signal(c.InitPID, c.InitStart, unix.SIGKILL)
		runtime.WaitGone(c.InitPID, c.InitStart, 5*time.Second)
		runtime.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second)
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

func stateNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(runtime.RunDir())
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
	found, err := runtime.FindContainer("web1")
	if err != nil {
		t.Fatalf("find web1: %v", err)
	}
	if found.PID != c.InitPID || found.Origin != runtime.OriginBoxtui || found.HolderPID != c.HolderPID {
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
	st, err := runtime.LoadState("web1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != runtime.StatusExited || st.ExitSignal != "KILL" {
		t.Errorf("state after stop: status %s signal %q, want exited by KILL", st.Status, st.ExitSignal)
	}
	if err := Stop(found, time.Second); !errors.Is(err, runtime.ErrNoProcess) {
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
	snap, err := runtime.Scan(runtime.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var target runtime.Container
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
	var target runtime.Container
	testutil.WaitFor(t, 5*time.Second, func() bool {
		found, err := runtime.FindContainer("sig")
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
	if _, err := runtime.ProcessStartTime(c.InitPID); err != nil {
		t.Fatalf("the init died with its child: %v", err)
	}
	if err := SignalProcess(target, child.InnerPID, unix.SIGKILL); !errors.Is(err, runtime.ErrNoProcess) {
		t.Errorf("signal a process that exited meanwhile: %v, want ErrNoProcess", err)
	}
	if err := SignalProcess(target, 999, unix.SIGKILL); err == nil {
		t.Error("signal a PID the container does not have: no error")
	}
}

func TestBadInputLeavesNothing(t *testing.T) {
	rootfs := setup(t)
	launch(t, Options{Name: "taken", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
	empty := t.TempDir()
	cases := []struct {
		name string
		opts Options
		want error
		text string
	}{
		{"missing rootfs", Options{Rootfs: filepath.Join(empty, "nope")}, ErrNoRootfs, "boxtui rootfs create"},
		{"rootfs without the command", Options{Rootfs: empty}, ErrNoCommand, "/bin/sh"},
		{"command not in rootfs", Options{Rootfs: rootfs, Command: []string{"/bin/nope"}}, ErrNoCommand, "/bin/nope"},
		{"name taken", Options{Name: "taken", Rootfs: rootfs}, runtime.ErrNameTaken, "taken"},
		{"invalid name", Options{Name: "../x", Rootfs: rootfs}, nil, "invalid name"},
		{"bad env", Options{Rootfs: rootfs, Env: []string{"NOEQUALS"}}, nil, "KEY=VALUE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line mentioning %q", err, tc.text)
			}
			if names := stateNames(t); len(names) != 1 || names[0] != "taken" {
				t.Errorf("state left behind: %v", names)
			}
		})
	}
}

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

// A failing Prepare aborts the launch: the init never runs the command, and
// state, process and mounts are gone when Run returns.
func TestPrepareFailureLeavesNothing(t *testing.T) {
	rootfs := setup(t)
	before, _ := testutil.HostMounts()
	var initPID int
	_, err := Run(Options{Name: "prep", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"},
		Prepare: func(pid int) error {
			initPID = pid
			return errors.New("no such volume")
		}})
	if err == nil || !strings.Contains(err.Error(), "no such volume") {
		t.Fatalf("Run: %v, want the prepare error", err)
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return !exists(initPID) }, "the init to be gone")
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("state left behind: %v", names)
	}
	after, _ := testutil.HostMounts()
	assertNoNewMounts(t, before, after, rootfs)
}

// The holder dies during the launch: the client kills the init and removes
// the state itself.
func TestHolderDeathDuringLaunchLeavesNothing(t *testing.T) {
	rootfs := setup(t)
	var initPID int
	_, err := Run(Options{Name: "orphan", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"},
		Prepare: func(pid int) error {
			initPID = pid
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				return err
			}
			st, err := runtime.ParseStat(data) // the init's parent is the holder
			if err != nil {
				return err
			}
			return runtime.Signal(st.PPid, 0, unix.SIGKILL)
		}})
	if err == nil {
		t.Fatal("Run succeeded without its holder")
	}
	testutil.WaitFor(t, 5*time.Second, func() bool { return !exists(initPID) }, "the init to be gone")
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("state left behind: %v", names)
	}
}

func TestHolderKilledContainerSurvives(t *testing.T) {
	rootfs := setup(t)
	c := launch(t, Options{Name: "survivor", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
	if err := runtime.Signal(c.HolderPID, c.HolderStart, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if ok, _ := runtime.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second); !ok {
		t.Fatal("holder did not die")
	}
	found, err := runtime.FindContainer("survivor")
	if err != nil {
		t.Fatalf("container lost with its holder: %v", err)
	}
	if found.HolderPID != 0 {
		t.Errorf("holder pid %d still reported", found.HolderPID)
	}
	if _, err := DialConsole("survivor"); !errors.Is(err, ErrConsoleLost) {
		t.Errorf("dial a holderless console: %v, want ErrConsoleLost", err)
	}
	if err := Stop(found, time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := Remove("survivor", false, time.Second); err != nil {
		t.Fatalf("rm: %v", err)
	}
}

func TestTwoRunsForOneNameOneWins(t *testing.T) {
	rootfs := setup(t)
	const racers = 4
	var wg sync.WaitGroup
	results := make([]error, racers)
	containers := make([]*Container, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			containers[i], results[i] = Run(Options{Name: "race", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
		}()
	}
	wg.Wait()
	wins := 0
	for i, err := range results {
		if err == nil {
			wins++
			c := containers[i]
			t.Cleanup(func() {
				runtime.Signal(c.InitPID, c.InitStart, unix.SIGKILL)
				runtime.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second)
			})
		} else if !errors.Is(err, runtime.ErrNameTaken) {
			t.Errorf("loser: %v, want ErrNameTaken", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d runs won the name, want exactly 1", wins)
	}
}

// Forty launch/stop/remove cycles: the host mount table is unchanged and
// no zombie is left behind.
func TestManyCyclesLeaveNoMountOrZombie(t *testing.T) {
	rootfs := setup(t)
	before, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		name := fmt.Sprintf("cycle%d", i)
		c, err := Run(Options{Name: name, Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"}})
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := Stop(runtime.Container{Name: name, PID: c.InitPID, StartTime: c.InitStart}, time.Second); err != nil {
			t.Fatalf("cycle %d: stop: %v", i, err)
		}
		if err := Remove(name, false, time.Second); err != nil {
			t.Fatalf("cycle %d: rm: %v", i, err)
		}
	}
	after, err := testutil.HostMounts()
	if err != nil {
		t.Fatal(err)
	}
	assertNoNewMounts(t, before, after, rootfs)
	testutil.WaitFor(t, 5*time.Second, func() bool { return len(zombieChildren()) == 0 },
		"no zombie children of the test")
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("state left: %v", names)
	}
}

// assertNoNewMounts fails on any mount that appeared in the host's table.
// Other packages' tests may mount things meanwhile on a shared machine, so
// only mounts of the kinds a launch makes, or under the rootfs, count.
func assertNoNewMounts(t *testing.T, before, after []*mountinfo.Info, rootfs string) {
	t.Helper()
	if before == nil || after == nil {
		t.Fatal("no mount table snapshot")
	}
	fresh := testutil.NewMounts(before, after)
	if len(fresh) > 0 {
		t.Logf("new host mounts (maybe another package's tests): %v", fresh)
	}
	for _, m := range after {
		if m.Mountpoint == rootfs || strings.HasPrefix(m.Mountpoint, rootfs+"/") {
			t.Errorf("mount leaked into the host: %s (%s)", m.Mountpoint, m.FSType)
		}
	}
	for _, p := range fresh {
		for _, m := range after {
			if m.Mountpoint == p && (m.FSType == "proc" || m.FSType == "devpts") {
				t.Errorf("%s mount leaked into the host at %s", m.FSType, p)
			}
		}
	}
}

func zombieChildren() []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	me := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		st, err := runtime.ParseStat(data)
		if err == nil && st.State == 'Z' && st.PPid == me {
			out = append(out, pid)
		}
	}
	return out
}

// exists reports whether pid is a process that has not been reaped.
func exists(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	st, err := runtime.ParseStat(data)
	return err == nil && st.State != 'Z' && st.State != 'X'
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
	sock := runtime.ConsoleSocket("priv")
	for path, want := range map[string]os.FileMode{sock: 0o600, runtime.StateDir("priv"): 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	// Open the fences on purpose: the holder's peer check must still refuse.
	for d := runtime.RunDir(); d != "/tmp" && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o711) // the test's temp dirs, up to /tmp
	}
	os.Chmod(runtime.StateDir("priv"), 0o711)
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
	if err := Stop(runtime.Container{PID: c.InitPID, StartTime: c.InitStart}, time.Second); err != nil {
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
	if _, err := runtime.LoadState("hostile"); !errors.Is(err, runtime.ErrNoState) {
		t.Errorf("state left: %v", err)
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
	// first to take effect so "latest" is well defined.
	c.Console.Resize(20, 60)
	testutil.WaitFor(t, 10*time.Second, func() bool {
		c.Console.Write([]byte("echo S${COLUMNS}x${LINES}\n"))
		return strings.Contains(outputs[second].String(), "S60x20")
	}, "the shell to see the first client's size 60x20")
	second.Resize(33, 77)
	testutil.WaitFor(t, 10*time.Second, func() bool {
		c.Console.Write([]byte("echo S${COLUMNS}x${LINES}\n"))
		return strings.Contains(outputs[second].String(), "S77x33")
	}, "the shell to see the second client's size 77x33")
	testutil.WaitFor(t, 10*time.Second, func() bool {
		return strings.Contains(outputs[c.Console].String(), "S77x33")
	}, "the first client to get the same output")
}

// The client is SIGKILLed half way through a launch (after the init is set
// up, before the command runs): the init gives up, the holder removes the
// state, and no process or mount is left.
func TestClientKilledHalfwayLeavesNothing(t *testing.T) {
	rootfs := setup(t)
	before, _ := testutil.HostMounts()
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), "BOXTUI_TEST_DIE_IN_PREPARE="+rootfs)
	out, _ := cmd.Output()
	initPID, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("the child did not get to Prepare: %q", out)
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { return len(stateNames(t)) == 0 }, "the holder to remove the state")
	testutil.WaitFor(t, 5*time.Second, func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", initPID))
		return err != nil
	}, "the init to be gone")
	snap, err := runtime.Scan(runtime.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range snap.Containers {
		if c.PID == initPID {
			t.Errorf("container %d still listed", initPID)
		}
	}
	after, _ := testutil.HostMounts()
	assertNoNewMounts(t, before, after, rootfs)
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
		runtime.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second)
	}
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("--rm left %v", names)
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
