package launch

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime/state"

	"golang.org/x/sys/unix"
)

// runTagged runs the CLI with a unique marker in its environment, which
// every process it starts inherits, so the test can find them afterwards
// whatever else runs on the machine.
func runTagged(t *testing.T, env []string, args ...string) (tag string, stderr string, code int) {
	t.Helper()
	tag = fmt.Sprintf("BOXTUI_TEST_TAG=%s-%d", t.Name(), os.Getpid())
	_, stderr, code = testutil.RunBinaryEnv(t, append([]string{tag}, env...), "", args...)
	return tag, stderr, code
}

// tagged lists the live processes whose environment holds tag.
func tagged(tag string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(d + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if string(kv) == tag {
				cmdline, _ := os.ReadFile(d + "/cmdline")
				out = append(out, filepath.Base(d)+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
			}
		}
	}
	return out
}

// A `run` that fails after the holder was preforked leaves nothing
// behind by the time it returns: not even the unused holder.
func TestPreforkedHolderGoneAfterFailedRun(t *testing.T) {
	rootfs := setup(t)
	// As a subreaper, this test inherits whatever the client orphans: a
	// holder still exiting when the client returns shows up as a child,
	// however briefly it would otherwise have lived.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
	for _, args := range [][]string{
		{"run", "--rootfs", "/nonexistent-rootfs", "--", "/bin/true"},
		{"run", "--name", "bad/name", "--rootfs", rootfs, "--", "/bin/true"},
		{"run", "--rootfs", rootfs, "--", "/no/such/command"},
		{"run", "--no-such-flag"},
		{"run", "--help"},
	} {
		tag, errOut, code := runTagged(t, nil, args...)
		if code == 0 && args[1] != "--help" {
			t.Errorf("%q succeeded", args)
		}
		if left := tagged(tag); len(left) > 0 {
			t.Errorf("%q (stderr %q) left processes behind: %v", args, errOut, left)
		}
		var ws unix.WaitStatus
		if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil); err != unix.ECHILD {
			t.Errorf("%q (stderr %q) orphaned a process (%d, %v)", args, errOut, pid, err)
			for {
				if _, err := unix.Wait4(-1, &ws, 0, nil); err == unix.ECHILD {
					break
				}
			}
		}
	}
}

// The launch takes the holder prefork.c started (its config comes on a
// pipe, so its command line is just "-"), and BOXTUI_PREFORK=0 goes back
// to spawning it with the config as its argument; both launch the same.
func TestRunUsesPreforkedHolder(t *testing.T) {
	rootfs := setup(t)
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"prefork1", nil, "boxtui __boxtui-holder -"},
		{"prefork2", []string{"BOXTUI_PREFORK=0"}, `boxtui __boxtui-holder {"name":"prefork2"`},
	} {
		killByName(t, tc.name)
		_, errOut, code := runTagged(t, tc.env, "run", "-d", "--name", tc.name, "--rootfs", rootfs, "--", "/bin/sleep", "1000")
		if code != 0 {
			if tc.env == nil && !testutil.BinaryHasCgo(t) {
				t.Skip("boxtui under test built without cgo: no prefork")
			}
			t.Fatalf("run -d %s: exit %d: %s", tc.name, code, errOut)
		}
		st, err := state.Load(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", st.HolderPID))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if !strings.HasPrefix(got, tc.want) {
			if tc.env == nil && !testutil.BinaryHasCgo(t) {
				t.Skip("boxtui under test built without cgo: no prefork")
			}
			t.Errorf("holder of %s runs %q, want %q...", tc.name, got, tc.want)
		}
		if _, errOut, code := boxtui(t, "", "exec", tc.name, "--", "/bin/true"); code != 0 {
			t.Errorf("exec into %s: %d %s", tc.name, code, errOut)
		}
		if _, errOut, code := boxtui(t, "", "rm", "-f", tc.name); code != 0 {
			t.Errorf("rm -f %s: %d %s", tc.name, code, errOut)
		}
	}
}

// A preforked holder's init comes from its zygote (zygote.c), cloned
// without an exec; BOXTUI_INIT_STAGE=exec makes the holder exec the C init
// and =go the Go init. All three build the same container, and the
// zygote leaves no process behind.
func TestZygoteInitMatchesTheOthers(t *testing.T) {
	rootfs := setup(t)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
	script := containerViewScript
	outputs := map[string]string{}
	for _, mode := range []string{"", "exec", "go"} {
		tag := fmt.Sprintf("BOXTUI_TEST_TAG=%s-%s-%d", t.Name(), mode, os.Getpid())
		out, errOut, code := testutil.RunBinaryEnv(t, []string{tag, "BOXTUI_INIT_STAGE=" + mode}, "",
			"run", "--rm", "--rootfs", rootfs, "--hostname", "twin", "-e", "X=1", "--", "/bin/sh", "-c", script)
		if code != 0 {
			t.Fatalf("mode %q: exit %d: %s", mode, code, errOut)
		}
		// Output processing is off on a raw console: a "\r" here would
		// show the zygote's console setup differing from Go's.
		outputs[mode] = out
		// The holder may still be finishing when the client returns; as a
		// subreaper the test inherits it, and nothing else: no zygote.
		var ws unix.WaitStatus
		for {
			pid, err := unix.Wait4(-1, &ws, 0, nil)
			if err == unix.ECHILD {
				break
			}
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && !ws.Exited() {
				t.Errorf("mode %q: child %d %q ended %v", mode, pid, cmdline, ws)
			}
		}
		if left := tagged(tag); len(left) > 0 {
			t.Errorf("mode %q left processes behind: %v", mode, left)
		}
	}
	if outputs[""] != outputs["exec"] || outputs[""] != outputs["go"] {
		t.Fatalf("the inits differ:\nzygote:\n%s\nexec:\n%s\ngo:\n%s", outputs[""], outputs["exec"], outputs["go"])
	}
	if !strings.Contains(outputs[""], "pid=1 host=twin HOSTNAME=twin umask=0022") || !strings.Contains(outputs[""], "X=1") {
		t.Fatalf("unexpected container:\n%s", outputs[""])
	}
}
