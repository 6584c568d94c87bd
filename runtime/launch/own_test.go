package launch

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/events"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"
)

// ppidOf reads the parent PID from /proc/PID/stat.
func ppidOf(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	st, err := procfs.ParseStat(data)
	if err != nil {
		return -1
	}
	return st.PPid
}

// A `run` whose stdin is not a terminal holds its container in the child
// of the process the caller started (see own.go): that process only
// waits. Killing it ends the client's part (its stdout reaches EOF at
// once) while the container runs on, listed and attachable, and the
// holder ends when the container does.
func TestOwnHolderOutlivesTheKilledCaller(t *testing.T) {
	rootfs := setup(t)
	// The holder is the binary's C part: ask the binary under test, not
	// this test binary, whether it has one.
	if !testutil.BinaryHasCgo(t) {
		t.Skip("boxtui under test built without cgo: no own holder")
	}
	name := "own1"
	killByName(t, name)
	cmd := exec.Command(testutil.Binary(t), "run", "--name", name, "--rootfs", rootfs, "--", "/bin/sh", "-c", "echo up; read line; echo got $line")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "up\n" {
		t.Fatalf("first output %q, %v", buf, err)
	}
	st, err := state.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	if ppid := ppidOf(st.HolderPID); ppid != cmd.Process.Pid {
		t.Errorf("holder %d is the child of %d, want of the started process %d", st.HolderPID, ppid, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	stdin.Close()
	// The holder let go of the caller's stdout: EOF, not a hang.
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(stdout); done <- err }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("stdout still open 10s after the caller was killed")
	}
	if !exists(st.InitPID) || !exists(st.HolderPID) {
		t.Fatalf("container or holder gone with the caller: init %v holder %v", exists(st.InitPID), exists(st.HolderPID))
	}
	con, err := DialConsole(name)
	if err != nil {
		t.Fatalf("attach after the caller died: %v", err)
	}
	defer con.Close()
	con.Write([]byte("again\n"))
	out, err := readConsole(t, con, 20*time.Second)
	if err != nil || !strings.Contains(out, "got again") {
		t.Fatalf("console after the caller died: %q, %v", out, err)
	}
	if s := con.ExitStatus(); s == nil || s.Code != 0 {
		t.Fatalf("exit status %v", s)
	}
	if gone, _ := signals.WaitGone(st.HolderPID, st.HolderStart, 10*time.Second); !gone {
		t.Fatalf("holder %d still there after its container exited", st.HolderPID)
	}
}

// The own holder and a preforked holder process (BOXTUI_OWN_HOLDER=0)
// launch alike: same output, same exit code, same recorded history.
func TestOwnHolderMatchesHolderProcess(t *testing.T) {
	rootfs := setup(t)
	results := map[string]string{}
	for _, mode := range []string{"", "0"} {
		name := "own-" + map[string]string{"": "self", "0": "proc"}[mode]
		out, errOut, code := testutil.RunBinaryEnv(t, []string{"BOXTUI_OWN_HOLDER=" + mode}, "some input\n",
			"run", "--name", name, "--rootfs", rootfs, "-e", "A=b", "--", "/bin/sh", "-c", `read x; echo "$x $A"; echo err >&2; exit 4`)
		events, err := events.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, ev := range events {
			kinds = append(kinds, ev.Kind)
		}
		st, err := state.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		results[mode] = fmt.Sprintf("out=%q err=%q code=%d events=%v status=%s exit=%v", out, errOut, code, kinds, st.Status, *st.ExitCode)
		if _, errOut, code := boxtui(t, "", "rm", name); code != 0 {
			t.Errorf("rm %s: %s", name, errOut)
		}
	}
	if results[""] != results["0"] {
		t.Fatalf("own holder and holder process differ:\nown:  %s\nproc: %s", results[""], results["0"])
	}
	if !strings.Contains(results[""], `out="some input b\nerr\n" err="" code=4`) {
		t.Fatalf("unexpected run: %s", results[""])
	}
}

// A reader that stops (`boxtui run -- yes | head -1`) ends the run quietly
// with 141, as a client killed by SIGPIPE would, both ways; the container
// runs on until it is killed.
func TestRunWhoseReaderStopsEndsQuietly(t *testing.T) {
	rootfs := setup(t)
	for _, mode := range []string{"", "0"} {
		name := "reader-gone" + mode
		killByName(t, name)
		cmd := exec.Command(testutil.Binary(t), "run", "--rm", "--name", name, "--rootfs", rootfs, "--", "/bin/yes")
		cmd.Env = append(os.Environ(), "BOXTUI_OWN_HOLDER="+mode)
		cmd.Stdin = strings.NewReader("")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2)
		if _, err := io.ReadFull(stdout, buf); err != nil {
			t.Fatalf("mode %q: read: %v", mode, err)
		}
		stdout.Close()
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 141 && !(code == -1 && cmd.ProcessState.String() == "signal: broken pipe") {
			t.Errorf("mode %q: exit %v, want 141 or death by SIGPIPE; stderr %q", mode, cmd.ProcessState, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("mode %q: stderr %q, want nothing", mode, stderr.String())
		}
		if _, errOut, code := boxtui(t, "", "kill", "--time", "1", name); code != 0 {
			t.Errorf("mode %q: kill: %s", mode, errOut)
		}
	}
}
