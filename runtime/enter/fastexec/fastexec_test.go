package fastexec_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
)

func TestMain(m *testing.M) { testutil.Main(m) }

type result struct {
	stdout, stderr string
	code           int
}

// boxtui runs the binary with BOXTUI_FASTEXEC=mode ("0": the Go path,
// "require": the C path or exit 125).
func boxtui(t *testing.T, runDir, mode, stdin string, args ...string) result {
	t.Helper()
	out, errOut, code := testutil.RunBinaryEnv(t, []string{"BOXTUI_RUN_DIR=" + runDir, "BOXTUI_FASTEXEC=" + mode}, stdin, args...)
	return result{out, errOut, code}
}

// container starts the seed's container with a shell init that has a
// child, and makes its history exist (the fast path only appends to an
// existing one), returning the init's and the child's host PIDs.
func container(t *testing.T, runDir string) (initPID, childPID int) {
	t.Helper()
	testutil.RequireRoot(t, "enters namespaces")
	initPID = testutil.StartUnshare(t, testutil.Rootfs(t), "/bin/sh", "-c", "/bin/sleep 100000 & wait")
	testutil.WaitFor(t, 10*time.Second, func() bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", initPID, initPID))
		if err != nil {
			return false
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			return false
		}
		childPID, _ = strconv.Atoi(f[0])
		return childPID > 0
	}, "the container's sleep to start")
	if r := boxtui(t, runDir, "0", "", "exec", strconv.Itoa(initPID), "--", "/bin/true"); r.code != 0 {
		t.Fatalf("first exec (Go path): %+v", r)
	}
	return initPID, childPID
}

// named launches a boxtui container called name (its history exists from
// its launch) and removes it when the test ends.
func named(t *testing.T, runDir, name string) {
	t.Helper()
	r := boxtui(t, runDir, "", "", "run", "-d", "--name", name, "--rootfs", testutil.Rootfs(t), "--", "/bin/sh", "-c", "/bin/sleep 100000 & wait")
	if r.code != 0 {
		t.Fatalf("run -d %s: %+v", name, r)
	}
	t.Cleanup(func() { boxtui(t, runDir, "", "", "rm", "-f", name) })
	// The holder records "started" once the command runs, which can come
	// after run -d returns; until then the C path declines (no history).
	history := filepath.Join(runDir, name, "events.jsonl")
	testutil.WaitFor(t, 10*time.Second, func() bool {
		_, err := os.Stat(history)
		return err == nil
	}, name+"'s history")
}

func requireFastPath(t *testing.T, runDir string) {
	t.Helper()
	// --ns is one of the cases the C path leaves to Go: with "require" it
	// says so and exits 125 — but only if the C path is in the binary.
	r := boxtui(t, runDir, "require", "", "exec", "--ns", "pid", "1", "--", "/bin/true")
	if r.code != 125 {
		if !cgoBuild {
			t.Skip("binary built without cgo: no fast exec path to test")
		}
		t.Fatalf("the binary has no fast exec path (exit %d, %q): build it with cgo (make build)", r.code, r.stderr)
	}
}

// TestFastPathMatchesGoPath runs each case through the C path and the Go
// path and wants the same output, errors and exit code.
func TestFastPathMatchesGoPath(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	initPID, childPID := container(t, runDir)
	pid := strconv.Itoa(initPID)
	named(t, runDir, "fx-named")
	second := strconv.Itoa(testutil.StartSecondShell(t, initPID, testutil.Rootfs(t), "second", "/bin/sleep", "100000"))

	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"true", "", []string{pid, "--", "/bin/true"}, 0},
		{"exit code and both streams", "", []string{pid, "--", "sh", "-c", "echo out; echo err >&2; exit 7"}, 7},
		{"killed by a signal", "", []string{pid, "--", "sh", "-c", "kill -TERM $$"}, 143},
		{"missing command by path", "", []string{pid, "--", "/bin/nope"}, 127},
		{"missing command by name", "", []string{pid, "nope-not-here"}, 127},
		{"pwd is no program in this rootfs", "", []string{pid, "--", "pwd"}, 127},
		{"empty command", "", []string{pid, "--", ""}, 127},
		{"missing workdir", "", []string{"-w", "/nope", pid, "--", "true"}, 1},
		{"workdir", "", []string{"-w", "/tmp", pid, "--", "sh", "-c", "pwd"}, 0},
		{"workdir joined", "", []string{"-w/etc", pid, "sh", "-c", "pwd"}, 0},
		{"empty workdir is none", "", []string{"-w", "", pid, "--", "sh", "-c", "pwd"}, 0},
		{"relative workdir", "", []string{"-w", "etc", pid, "--", "sh", "-c", "pwd"}, 0},
		{"environment", "", []string{"-e", "A=1", "--env=PATH=/bin", "-e", "A=2", pid, "--", "sh", "-c", `echo "$A $PATH $HOME"; env | sort`}, 0},
		{"stdin is /dev/null without -i", "piped\n", []string{pid, "--", "cat"}, 0},
		{"stdin with -i", "piped\n", []string{"-i", pid, "--", "cat"}, 0},
		{"stdin with --interactive=true", "piped\n", []string{"--interactive=true", pid, "--", "cat"}, 0},
		{"default shell", "", []string{pid}, 0},
		{"a non-init target enters its container", "", []string{strconv.Itoa(childPID), "--", "sh", "-c", "readlink /proc/1/exe"}, 0},
		{"working directory of the init", "", []string{pid, "--", "sh", "-c", "pwd"}, 0},
		{"a second shell is entered, not its init", "", []string{second, "--", "sh", "-c", "hostname; pwd; readlink /proc/self/ns/mnt /proc/self/ns/uts"}, 0},
		{"a second shell's workdir and env", "", []string{"-w", "/etc", "-e", "A=1", second, "--", "sh", "-c", "echo $A; pwd; hostname"}, 0},
		{"a second shell, missing command", "", []string{second, "--", "/bin/nope"}, 127},
		{"by name", "", []string{"fx-named", "--", "sh", "-c", "hostname; exit 5"}, 5},
		{"by name, default shell", "", []string{"fx-named"}, 0},
		{"by name, missing command", "", []string{"fx-named", "--", "/nope"}, 127},
		{"by name, namespaces", "", []string{"fx-named", "--", "sh", "-c",
			"readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/ipc; ls /"}, 0},
		{"namespaces and root", "", []string{pid, "--", "sh", "-c",
			"readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/uts /proc/self/ns/ipc /proc/self/ns/net /proc/self/ns/cgroup; ls /"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fast := boxtui(t, runDir, "require", tc.stdin, append([]string{"exec"}, tc.args...)...)
			slow := boxtui(t, runDir, "0", tc.stdin, append([]string{"exec"}, tc.args...)...)
			if fast != slow {
				t.Fatalf("paths differ:\nC:  %+v\nGo: %+v", fast, slow)
			}
			if fast.code != tc.code {
				t.Fatalf("exit %d, want %d: %+v", fast.code, tc.code, fast)
			}
		})
	}

	// The namespaces are the init's, checked from outside.
	r := boxtui(t, runDir, "require", "", "exec", pid, "--", "readlink", "/proc/self/ns/mnt", "/proc/self/ns/pid")
	want := ""
	for _, ns := range []string{"mnt", "pid"} {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", initPID, ns))
		if err != nil {
			t.Fatal(err)
		}
		want += link + "\n"
	}
	if r.stdout != want || r.code != 0 {
		t.Fatalf("exec'd process is in %q, want the init's %q (%+v)", r.stdout, want, r)
	}
}

// TestFastPathRecordsHistory: the C path writes the same events the Go
// path does, in a form events.Read reads.
func TestFastPathRecordsHistory(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	initPID, _ := container(t, runDir)
	pid := strconv.Itoa(initPID)
	t.Setenv("BOXTUI_RUN_DIR", runDir)
	c, err := discovery.FindInit(pid)
	if err != nil {
		t.Fatal(err)
	}
	before, err := events.Read(events.Key(c))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second)
	boxtui(t, runDir, "require", "", "exec", pid, "--", "sh", "-c", "exit 3")
	boxtui(t, runDir, "require", "", "exec", pid, "--", "sh", "-c", "echo '<a&b> \"q\"'; kill -KILL $$")
	boxtui(t, runDir, "require", "", "exec", pid)
	after, err := events.Read(events.Key(c))
	if err != nil {
		t.Fatal(err)
	}
	got := after[len(before):]
	want := []struct{ kind, detail string }{
		{events.ExecOpened, "sh -c exit 3"},
		{events.ExecClosed, "exited with status 3"},
		{events.ExecOpened, `sh -c echo '<a&b> "q"'; kill -KILL $$`},
		{events.ExecClosed, "killed by signal KILL"},
		{events.ExecOpened, "the container's shell"},
		{events.ExecClosed, "exited with status 0"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d new events, want %d: %+v", len(got), len(want), got)
	}

	// By name, the history is the container's own, keyed by its name.
	named(t, runDir, "fx-history")
	boxtui(t, runDir, "require", "", "exec", "fx-history", "--", "sh", "-c", "exit 4")
	evs, err := events.Read("fx-history")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(evs); n < 2 || evs[n-2].Kind != events.ExecOpened || evs[n-1].Kind != events.ExecClosed ||
		!strings.HasSuffix(evs[n-1].Detail, "exited with status 4") || evs[n-1].Container != "fx-history" {
		t.Errorf("history of fx-history ends with %+v", evs)
	}
	for i, w := range want {
		e := got[i]
		_, detail, _ := strings.Cut(e.Detail, ": ")
		if e.Kind != w.kind || detail != w.detail || !strings.HasPrefix(e.Detail, "host pid ") ||
			e.By != "boxtui exec" || e.Container != events.Key(c) ||
			e.Time.Before(start) || e.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("event %d = %+v, want kind %s detail %q", i, e, w.kind, w.detail)
		}
	}
}

// TestFastPathDeclines: what the C path does not serve goes to Go, before
// any side effect.
func TestFastPathDeclines(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	initPID, _ := container(t, runDir)
	pid := strconv.Itoa(initPID)
	// A boxtui container that has exited: its state stays, says so.
	if r := boxtui(t, runDir, "", "", "run", "-d", "--name", "fx-exited", "--rootfs", testutil.Rootfs(t), "--", "/bin/true"); r.code != 0 {
		t.Fatalf("run -d fx-exited: %+v", r)
	}
	t.Cleanup(func() { boxtui(t, runDir, "", "", "rm", "-f", "fx-exited") })
	testutil.WaitFor(t, 10*time.Second, func() bool {
		st, err := os.ReadFile(filepath.Join(runDir, "fx-exited", "state.json"))
		return err == nil && strings.Contains(string(st), `"status": "exited"`)
	}, "fx-exited to exit")

	for _, args := range [][]string{
		{"--new-mount-proc", pid, "--", "/bin/true"},
		{"-t", pid, "--", "/bin/true"},
		{"--ns", "pid,mnt", pid, "--", "/bin/true"},
		{"-h"},
		{"--bogus", pid},
		{"no-such-name", "--", "/bin/true"},
		{"bad/name", "--", "/bin/true"},
		{"fx-exited", "--", "/bin/true"},
		{"1", "--", "/bin/true"},        // not in a container
		{"99999999", "--", "/bin/true"}, // no such process
		{"-e", "NOEQUALS", pid, "--", "/bin/true"},
		{},
	} {
		r := boxtui(t, runDir, "require", "", append([]string{"exec"}, args...)...)
		if r.code != 125 || !strings.Contains(r.stderr, "fast exec declined") {
			t.Errorf("exec %q: %+v, want the fast path to decline", args, r)
		}
		// And without "require", Go runs it as before: the same answer as
		// with the fast path off.
		on := boxtui(t, runDir, "", "", append([]string{"exec"}, args...)...)
		off := boxtui(t, runDir, "0", "", append([]string{"exec"}, args...)...)
		if on != off {
			t.Errorf("exec %q differs with the fast path on:\non:  %+v\noff: %+v", args, on, off)
		}
	}

	// A container without history yet: the Go path makes it.
	fresh := t.TempDir()
	if r := boxtui(t, fresh, "require", "", "exec", pid, "--", "/bin/true"); r.code != 125 {
		t.Errorf("exec without a history file: %+v, want the fast path to decline", r)
	}
	if r := boxtui(t, fresh, "", "", "exec", pid, "--", "/bin/true"); r.code != 0 {
		t.Fatalf("exec through Go: %+v", r)
	}
	if m, _ := filepath.Glob(filepath.Join(fresh, "events", "pidns-*.jsonl")); len(m) != 1 {
		t.Fatalf("history after the Go path: %v", m)
	}
	if r := boxtui(t, fresh, "require", "", "exec", pid, "--", "/bin/true"); r.code != 0 {
		t.Errorf("exec once the history exists: %+v, want the fast path", r)
	}
}

// TestExecByHostPIDEntersThatProcess: a host PID as TARGET means that
// process's own namespaces, root and working directory (nsenter -t PID),
// not its init's. The seed's second shell has a mount and a UTS namespace
// of its own and joined the container from outside; both paths must land
// in it, and the init's PID must still land in the init.
func TestExecByHostPIDEntersThatProcess(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	initPID, _ := container(t, runDir)
	second := testutil.StartSecondShell(t, initPID, testutil.Rootfs(t), "second", "/bin/sleep", "100000")
	hostName, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	link := func(pid int, ns string) string {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for _, tc := range []struct {
		name string
		pid  int
		want string
	}{
		{"the second shell", second, "second\n" + link(second, "mnt") + "\n" + link(second, "uts") + "\n"},
		{"the init", initPID, hostName + "\n" + link(initPID, "mnt") + "\n" + link(initPID, "uts") + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"exec", strconv.Itoa(tc.pid), "--", "sh", "-c", "hostname; readlink /proc/self/ns/mnt /proc/self/ns/uts"}
			fast := boxtui(t, runDir, "require", "", args...)
			slow := boxtui(t, runDir, "0", "", args...)
			if fast != slow {
				t.Fatalf("paths differ:\nC:  %+v\nGo: %+v", fast, slow)
			}
			if fast.code != 0 || fast.stdout != tc.want {
				t.Fatalf("exec %d printed %q (%+v), want %q", tc.pid, fast.stdout, fast, tc.want)
			}
		})
	}
}

// TestFastPathMatchesGoPathInUserAndTimeNamespaces: containers with a user
// or a time namespace of their own, entered by the C path (which joins them
// itself) and by the Go path (through the C enter stage), give the same
// output, errors and exit codes, and both run as root inside, as nsenter -a.
func TestFastPathMatchesGoPathInUserAndTimeNamespaces(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	for kind, flags := range map[string][]string{
		"user": {"--user", "--map-root-user", "--mount-proc"},
		"time": {"--time", "--boottime", "1000"},
	} {
		t.Run(kind, func(t *testing.T) {
			args := append(append([]string{}, flags...), "--pid", "--fork", "--kill-child", "/bin/sleep", "100000")
			cmd := exec.Command("unshare", args...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			runtime.LockOSThread() // Pdeathsig follows the forking thread
			t.Cleanup(runtime.UnlockOSThread)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			var pid string
			testutil.WaitFor(t, 10*time.Second, func() bool {
				data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
				pid = strings.TrimSpace(string(data))
				if pid == "" {
					return false
				}
				cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
				return strings.HasPrefix(string(cmdline), "/bin/sleep\x00")
			}, "the container's init")
			// The first exec (Go) makes the history the C path appends to.
			if r := boxtui(t, runDir, "0", "", "exec", pid, "--", "/bin/true"); r.code != 0 {
				t.Fatalf("first exec (Go path): %+v", r)
			}
			for _, tc := range []struct {
				name string
				args []string
				code int
			}{
				{"namespaces and ids", []string{pid, "--", "sh", "-c",
					"readlink /proc/self/ns/user /proc/self/ns/time /proc/self/ns/pid; id -u; id -g; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status"}, 0},
				{"exit code and both streams", []string{pid, "--", "sh", "-c", "echo out; echo err >&2; exit 7"}, 7},
				{"missing command", []string{pid, "--", "/bin/nope"}, 127},
				{"missing workdir", []string{"-w", "/nope", pid, "--", "true"}, 1},
				{"workdir and environment", []string{"-w", "/tmp", "-e", "A=1", pid, "--", "sh", "-c", "pwd; echo $A $HOME"}, 0},
			} {
				fast := boxtui(t, runDir, "require", "", append([]string{"exec"}, tc.args...)...)
				slow := boxtui(t, runDir, "0", "", append([]string{"exec"}, tc.args...)...)
				if fast != slow {
					t.Errorf("%s: paths differ:\nC:  %+v\nGo: %+v", tc.name, fast, slow)
				}
				if fast.code != tc.code {
					t.Errorf("%s: exit %d, want %d: %+v", tc.name, fast.code, tc.code, fast)
				}
			}
		})
	}
}
