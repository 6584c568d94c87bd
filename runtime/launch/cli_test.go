package launch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// boxtui runs the CLI with args and stdin, and returns stdout, stderr and
// the exit code.
func boxtui(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return testutil.RunBinary(t, stdin, args...)
}

// killByName SIGKILLs a named container at test end, whatever happened.
func killByName(t *testing.T, name string) {
	t.Cleanup(func() {
		st, err := state.Load(name)
		if err != nil {
			return
		}
		signals.Send(st.InitPID, st.InitStart, unix.SIGKILL)
		signals.WaitGone(st.InitPID, st.InitStart, 5*time.Second)
		signals.WaitGone(st.HolderPID, st.HolderStart, 5*time.Second)
	})
}

func TestCLIRunPassesOutputAndExitCode(t *testing.T) {
	rootfs := setup(t)
	out, errOut, code := boxtui(t, "", "run", "--rm", "--rootfs", rootfs, "--", "/bin/sh", "-c", "echo $$; exit 7")
	if out != "1\n" || code != 7 {
		t.Fatalf("run: stdout %q code %d stderr %q; want \"1\\n\" and 7", out, code, errOut)
	}
	out, _, code = boxtui(t, "line one\nline two\n", "run", "--rm", "--rootfs", rootfs, "--", "cat")
	if out != "line one\nline two\n" || code != 0 {
		t.Fatalf("stdin passthrough: stdout %q code %d", out, code)
	}
}

func TestCLIDetachListKillRemove(t *testing.T) {
	rootfs := setup(t)
	killByName(t, "cli1")
	out, errOut, code := boxtui(t, "", "run", "-d", "--name", "cli1", "--rootfs", rootfs, "--", "/bin/sleep", "1000")
	if code != 0 || out != "cli1\n" {
		t.Fatalf("run -d: %q %q %d", out, errOut, code)
	}
	out, _, _ = boxtui(t, "", "ls", "--json")
	var cs []discovery.Container
	if err := json.Unmarshal([]byte(out), &cs); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, out)
	}
	found := false
	for _, c := range cs {
		found = found || c.Name == "cli1" && c.Origin == discovery.OriginBoxtui
	}
	if !found {
		t.Fatalf("ls does not show cli1 with origin boxtui:\n%s", out)
	}

	oneLine := func(what, errOut, want string) {
		t.Helper()
		if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%s: stderr %q, want one line with %q", what, errOut, want)
		}
	}
	_, errOut, _ = boxtui(t, "", "run", "-d", "--name", "cli1", "--rootfs", rootfs)
	oneLine("name taken", errOut, "already in use")
	_, errOut, _ = boxtui(t, "", "kill", "-s", "BOGUS", "cli1")
	oneLine("unknown signal", errOut, "unknown signal")
	_, errOut, _ = boxtui(t, "", "rm", "cli1")
	oneLine("rm running", errOut, "still running")
	_, errOut, _ = boxtui(t, "", "run", "-v", "/no/such/dir:/x", "--rootfs", rootfs)
	oneLine("-v with a missing host path", errOut, "/no/such/dir")
	_, errOut, _ = boxtui(t, "", "run", "-v", "/tmp:/proc", "--rootfs", rootfs)
	oneLine("-v over /proc", errOut, "/proc")

	if _, errOut, code = boxtui(t, "", "kill", "cli1"); code != 0 {
		t.Fatalf("kill: %s", errOut)
	}
	out, _, _ = boxtui(t, "", "ls", "-a")
	if !strings.Contains(out, "exited(KILL)") {
		t.Errorf("ls -a after kill:\n%s", out)
	}
	_, errOut, _ = boxtui(t, "", "kill", "cli1")
	oneLine("kill an exited container", errOut, "exited")
	if _, errOut, code = boxtui(t, "", "rm", "cli1"); code != 0 {
		t.Fatalf("rm: %s", errOut)
	}
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("rm left %v", names)
	}
	_, errOut, _ = boxtui(t, "", "attach", "cli1")
	oneLine("attach a removed container", errOut, "cli1")
}

func TestCLIRemoveForce(t *testing.T) {
	rootfs := setup(t)
	killByName(t, "cli2")
	if _, errOut, code := boxtui(t, "", "run", "-d", "--name", "cli2", "--rootfs", rootfs, "--", "/bin/sleep", "1000"); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := boxtui(t, "", "rm", "-f", "cli2"); code != 0 {
		t.Fatalf("rm -f: %s", errOut)
	}
	if names := stateNames(t); len(names) != 0 {
		t.Errorf("rm -f left %v", names)
	}
}

// SIGKILL of `boxtui run` (the client) leaves the container running.
func TestCLIClientKilledContainerSurvives(t *testing.T) {
	rootfs := setup(t)
	killByName(t, "cli3")
	cmd := exec.Command(testutil.Binary(t), "run", "--name", "cli3", "--rootfs", rootfs, "--", "/bin/sleep", "1000")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The state says running while the init still waits for the go byte,
	// and a launch whose client dies before sending it is abandoned (all or
	// nothing): wait until the command itself runs.
	testutil.WaitFor(t, 10*time.Second, func() bool {
		st, err := state.Load("cli3")
		if err != nil || st.Status != state.StatusRunning {
			return false
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.InitPID))
		return bytes.HasPrefix(cmdline, []byte("/bin/sleep\x00"))
	}, "cli3's command to run")
	cmd.Process.Kill()
	cmd.Wait()
	c, err := discovery.FindContainer("cli3")
	if err != nil {
		t.Fatalf("container died with its client: %v", err)
	}
	if c.HolderPID == 0 {
		t.Error("holder died with the client")
	}
	if _, errOut, code := boxtui(t, "", "kill", "cli3"); code != 0 {
		t.Fatalf("kill: %s", errOut)
	}
}

// The acceptance story: an interactive `boxtui run` shell is PID 1; the
// client is SIGKILLed; `boxtui attach` gets the console back; ctrl+p
// ctrl+q detaches and leaves it running.
func TestTmuxInteractiveRunSurvivesClientAndReattaches(t *testing.T) {
	rootfs := setup(t)
	bin := testutil.Binary(t)
	killByName(t, "tm")
	tm := testutil.StartTmux(t, testutil.TmuxOptions{Env: []string{"BOXTUI_RUN_DIR=" + state.RunDir(), "PS1=outer> "}},
		"bash", "--norc", "--noprofile")
	wait := func(want string) { t.Helper(); tm.Wait(want, 30*time.Second) }
	wait("outer>")
	// The outer shell says its PID: the client will be its child.
	tm.Keys("echo B$$", "Enter")
	bPID := regexp.MustCompile(`(?m)^B([0-9]+)$`)
	screen := tm.WaitFunc(bPID.MatchString, "the outer shell's PID", 30*time.Second)
	shell, _ := strconv.Atoi(bPID.FindStringSubmatch(screen)[1])
	tm.Keys(fmt.Sprintf("%s run --name tm --rootfs %s -e 'PS1=I$((40+2))# ' -- /bin/bash --norc --noprofile", bin, rootfs), "Enter")
	wait("I42#") // not in the typed command line: the shell computed it
	tm.Keys("echo M$((6*7))", "Enter")
	wait("M42")
	tm.Keys("echo P$$", "Enter")
	wait("P1")
	tm.Keys("echo C${COLUMNS}x${LINES}", "Enter")
	wait("C100x30")

	// SIGKILL the client: the outer shell is its parent.
	client := childOf(shell)
	if client == 0 {
		t.Fatal("no boxtui run client under the pane's shell")
	}
	unix.Kill(client, unix.SIGKILL)
	testutil.WaitFor(t, 5*time.Second, func() bool { return childOf(shell) == 0 }, "the client to die")
	if _, err := discovery.FindContainer("tm"); err != nil {
		t.Fatalf("container died with its client: %v", err)
	}
	// The dead client left the terminal raw; the outer shell's readline
	// copes, and the attach below sets its own modes.
	tm.Keys("clear", "Enter")
	wait("outer>")
	tm.Keys(bin+" attach tm", "Enter")
	wait("M42") // the replay of recent output
	tm.Keys("echo A$((5*5))", "Enter")
	wait("A25")
	tm.Keys("C-p")
	tm.Keys("C-q")
	wait("detached from tm")
	if _, err := discovery.FindContainer("tm"); err != nil {
		t.Fatalf("container gone after detach: %v", err)
	}
	// Attach again and end the shell: attach returns with its exit code.
	tm.Keys(bin+" attach tm; echo rc=$?", "Enter")
	wait("A25")
	tm.Keys("exit 5", "Enter")
	wait("rc=5")
}

// childOf returns a child process of pid, or 0.
func childOf(pid int) int {
	if c := testutil.Children(pid); len(c) > 0 {
		return c[0]
	}
	return 0
}

// The seed's volume step at launch: `run -v HOST:CTR:ro` makes the host
// directory visible inside, read-only from the command's first instruction.
func TestCLIRunVolumeReadOnly(t *testing.T) {
	rootfs := setup(t)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "hi"), []byte("Hello from GO-JEK\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := boxtui(t, "", "run", "--rm", "--rootfs", rootfs, "-v", host+":/var/gojek:ro",
		"--", "/bin/sh", "-c", "cat /var/gojek/hi; echo GO-PAY > /var/gojek/hi; echo rc=$?")
	if code != 0 {
		t.Fatalf("run -v: exit %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "Hello from GO-JEK") || !strings.Contains(out, "Read-only file system") || strings.Contains(out, "rc=0") {
		t.Errorf("run -v output:\n%s", out)
	}
	if data, _ := os.ReadFile(filepath.Join(host, "hi")); string(data) != "Hello from GO-JEK\n" {
		t.Errorf("the host file changed: %q", data)
	}
	if left, _ := testutil.MountsUnder(rootfs); len(left) > 0 {
		t.Errorf("mounts left under the rootfs: %v", left)
	}
}
