package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"
)

// waitNoProcess polls until no process has s on its command line.
func waitNoProcess(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var live []int
		for _, pid := range processesWith(s) {
			if alive(pid) {
				live = append(live, pid)
			}
		}
		if len(live) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of %s still running after %v: %v", s, within, live)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// oneLine checks that a failing command said why on exactly one line.
func oneLine(t *testing.T, what, errOut string) {
	t.Helper()
	if lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n"); len(lines) != 1 || lines[0] == "" {
		t.Errorf("%s: want one line of error, got %q", what, errOut)
	}
}

// A state file broken in any way (garbage, truncated, empty, missing, or
// one that lies that the container exited) must not make a name unusable:
// `rm -f` stops what runs under it — found from the console socket's
// listener and its child, not from the file, or from the history's
// started event when the holder is gone too — and frees the name, which
// nothing brings back; plain `rm` refuses while something runs.
func TestRmForceOfBrokenStateStopsItAndFreesTheName(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	breakers := map[string]func(real string) (string, bool){
		"garbage":           func(string) (string, bool) { return "{not json", true },
		"truncated":         func(real string) (string, bool) { return real[:len(real)/2], true },
		"empty":             func(string) (string, bool) { return "", true },
		"missing":           func(string) (string, bool) { return "", false },
		"garbage-no-holder": func(string) (string, bool) { return "{not json", true },
		"lying": func(real string) (string, bool) {
			return strings.NewReplacer(`"status": "running"`, `"status": "exited"`, `"init_pid"`, `"init_pid_was"`, `"holder_pid"`, `"holder_pid_was"`).Replace(real), true
		},
	}
	for kind, breakState := range breakers {
		t.Run(kind, func(t *testing.T) {
			name := "broken-" + kind
			m := marker()
			c.detached(name, rootfs, "/bin/sleep", "1000", m)
			path := filepath.Join(c.runDir, name, "state.json")
			real, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(kind, "-no-holder") {
				// The holder is gone too: the init is found from the
				// started event of its history.
				st, err := state.Load(name)
				if err != nil {
					t.Fatal(err)
				}
				signals.Send(st.HolderPID, st.HolderStart, 9)
				if gone, _ := signals.WaitGone(st.HolderPID, st.HolderStart, 10*time.Second); !gone {
					t.Fatal("holder survived SIGKILL")
				}
			}
			if content, keep := breakState(string(real)); keep {
				err = os.WriteFile(path, []byte(content), 0o600)
			} else {
				err = os.Remove(path)
			}
			if err != nil {
				t.Fatal(err)
			}

			if _, errOut, code := c.run("rm", name); code == 0 || !strings.Contains(errOut, "running") {
				t.Fatalf("rm of a running container with a %s state: exit %d: %s", kind, code, errOut)
			} else {
				oneLine(t, "rm", errOut)
			}
			if len(processesWith(m)) == 0 {
				t.Fatal("plain rm stopped the container")
			}
			if out, errOut, code := c.run("rm", "-f", name); code != 0 {
				t.Fatalf("rm -f of a %s state: exit %d: %s%s", kind, code, out, errOut)
			}
			waitNoProcess(t, m, 10*time.Second)
			if _, err := os.Lstat(filepath.Join(c.runDir, name)); !os.IsNotExist(err) {
				t.Fatalf("rm -f left the state directory of %s: %v", name, err)
			}
			// The name is usable again at once.
			m2 := marker()
			c.mustRun("run", "-d", "--name", name, "--rootfs", rootfs, "--", "/bin/sleep", "1000", m2)
			c.mustRun("rm", "-f", name)
			waitNoProcess(t, m2, 10*time.Second)
		})
	}
}

// A holder that outlives an `rm` (here: one rm -f could not stop in time
// is simulated by removing the directory behind its back) must never
// re-create the removed state directory when it records the exit.
func TestHolderNeverRecreatesARemovedState(t *testing.T) {
	c := newCLI(t)
	name := "gone-dir"
	m := marker()
	ct := c.detached(name, testutil.Rootfs(t), "/bin/sleep", "1000", m)
	dir := filepath.Join(c.runDir, name)
	st, err := state.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, filepath.Join(c.runDir, ".aside")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Join(c.runDir, ".aside")) })
	if err := signals.Send(ct.PID, ct.StartTime, 9); err != nil {
		t.Fatal(err)
	}
	waitNoProcess(t, m, 10*time.Second)
	if gone, _ := signals.WaitGone(st.HolderPID, st.HolderStart, 10*time.Second); !gone {
		t.Fatal("holder still there")
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Fatalf("the holder re-created %s after it was removed: %v", dir, err)
	}
}

// `rm` of several names goes on past one that fails, reports each failure
// on a line of its own and exits non-zero.
func TestRmOfSeveralNamesGoesOnPastAMissingOne(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	m := marker()
	c.detached("rm-b", rootfs, "/bin/sleep", "1000", m)
	_, errOut, code := c.run("rm", "-f", "rm-missing", "rm-b", "rm-missing2")
	if code == 0 {
		t.Fatalf("rm with missing names exited 0: %s", errOut)
	}
	lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "rm-missing") || !strings.Contains(lines[1], "rm-missing2") {
		t.Errorf("want one line per missing name, got %q", errOut)
	}
	waitNoProcess(t, m, 10*time.Second)
	if names := stateNames(t, c.runDir); len(names) != 0 {
		t.Errorf("rm -f left states: %v", names)
	}
}

// Names that collide with the state directory's own entries are refused
// with the reason wherever a name is taken, and nothing is left behind.
func TestReservedNamesAreRefusedWithTheReason(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	// Make both entries exist, as they do on a used host.
	for _, d := range []string{"events", "mounts"} {
		os.MkdirAll(filepath.Join(c.runDir, d), 0o700)
	}
	for _, name := range []string{"events", "mounts"} {
		for _, args := range [][]string{
			{"run", "--rm", "--name", name, "--rootfs", rootfs, "--", "/bin/true"},
			{"run", "-d", "--name", name, "--rootfs", rootfs, "--", "/bin/true"},
			{"rm", name},
			{"exec", name, "--", "/bin/true"},
			{"kill", name},
		} {
			_, errOut, code := c.run(args...)
			if code == 0 || !strings.Contains(errOut, "reserved") {
				t.Errorf("boxtui %s: exit %d, want a refusal saying the name is reserved: %q", strings.Join(args, " "), code, errOut)
				continue
			}
			oneLine(t, strings.Join(args, " "), errOut)
		}
	}
	if names := stateNames(t, c.runDir); len(names) != 1 || names[0] != "events" {
		t.Errorf("state directory holds %v after refused runs", names)
	}
}

// --config is honoured by every command, the early ls and exec paths
// included: a missing or invalid file is a one-line error naming it, and
// a good one changes nothing.
func TestConfigFlagIsCheckedByEveryCommand(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	c.detached("cfg", rootfs, "/bin/sleep", "1000")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(bad, []byte("refresh = \n"), 0o600)
	os.WriteFile(good, []byte(fmt.Sprintf("rootfs = %q\n", rootfs)), 0o600)
	missing := filepath.Join(dir, "missing.toml")
	commands := [][]string{
		{"ls"}, {"ls", "--json"}, {"ls", "-a"}, {"ps", "cfg"}, {"events", "cfg"}, {"stats", "cfg"},
		{"exec", "cfg", "--", "/bin/true"}, {"exec", "-t", "cfg", "--", "/bin/true"},
		{"kill", "-s", "CONT", "cfg"}, {"rm", "no-such"}, {"config"},
		{"run", "--rm", "--", "/bin/true"}, {"attach", "no-such"}, {"mount", "cfg", "/tmp", "/mnt"},
	}
	for _, file := range []string{missing, bad} {
		for _, cmd := range commands {
			for _, args := range [][]string{
				append([]string{cmd[0], "--config", file}, cmd[1:]...),
				append([]string{"--config=" + file}, cmd...),
			} {
				out, errOut, code := c.run(args...)
				if code != 1 || !strings.Contains(errOut, file) || out != "" {
					t.Errorf("boxtui %s: exit %d, stdout %q, stderr %q: want exit 1 and one line naming the file", strings.Join(args, " "), code, out, errOut)
					continue
				}
				oneLine(t, strings.Join(args, " "), errOut)
			}
		}
	}
	for _, args := range [][]string{
		{"ls", "--config", good}, {"exec", "--config", good, "cfg", "--", "/bin/true"},
		{"--config", good, "run", "--rm", "--", "/bin/true"},
	} {
		c.mustRun(args...)
	}
}
