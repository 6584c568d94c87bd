package faults

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/ui/e2e"
)

// plantStates writes broken state files next to a good container: syntax
// garbage, a truncated copy of a real state, an empty file, binary noise,
// a state naming another container, and a state.json that is a directory.
func plantStates(t *testing.T, runDir, good string) []string {
	t.Helper()
	real, err := os.ReadFile(filepath.Join(runDir, good, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(real), `"name": "`+good+`"`, `"name": "someone-else"`, 1)
	broken := map[string]string{
		"garbage":   "{not json at all",
		"truncated": string(real[:len(real)/2]),
		"empty":     "",
		"noise":     "\x00\xff\xfe\x1b[31m\x07",
		"misnamed":  other,
	}
	var names []string
	for name, content := range broken {
		if err := os.Mkdir(filepath.Join(runDir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runDir, name, "state.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := os.MkdirAll(filepath.Join(runDir, "isdir", "state.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	return append(names, "isdir")
}

// Corrupt and truncated state files (a crash mid-write by an old version, a
// full disk, a person's editor) are reported and skipped: ls exits 0 with a
// warning per file and still lists the good container; commands aimed at a
// broken one fail with one line; the UI shows the list and a warning.
func TestCorruptStateIsReportedAndSkipped(t *testing.T) {
	c := newCLI(t)
	c.detached("good", testutil.Rootfs(t), "/bin/sleep", "1000")
	broken := plantStates(t, c.runDir, "good")

	out, errOut, code := c.run("ls")
	if code != 0 || !strings.Contains(out, "good") {
		t.Fatalf("ls with corrupt states: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range broken {
		if !strings.Contains(errOut, "warning") || !strings.Contains(errOut, `"`+name+`"`) {
			t.Errorf("ls did not warn about the state of %s: %q", name, errOut)
		}
	}
	jsonOut, _, code := c.run("ls", "-a", "--json")
	var cs []discovery.Container
	if code != 0 || json.Unmarshal([]byte(jsonOut), &cs) != nil {
		t.Fatalf("ls -a --json with corrupt states: exit %d, %q", code, jsonOut)
	}
	if _, ok := find(cs, "good"); !ok {
		t.Errorf("the good container is missing from ls -a --json")
	}
	for _, name := range broken {
		for _, args := range [][]string{{"kill", name}, {"rm", name}, {"attach", name}, {"exec", name, "--", "/bin/true"}, {"ps", name}} {
			_, errOut, code := c.run(args...)
			// Scan warnings (about every broken state) may come first.
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
				if !strings.HasPrefix(l, "boxtui: warning: ") {
					lines = append(lines, l)
				}
			}
			line := strings.Join(lines, "\n")
			if code == 0 || strings.Count(line, "\n") != 0 || strings.Contains(errOut, "panic") || !strings.HasPrefix(line, "boxtui: ") {
				t.Errorf("boxtui %s on a corrupt state: exit %d, %q; want a one-line error", strings.Join(args, " "), code, errOut)
			}
		}
	}

	s := e2e.Start(t, e2e.Options{KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + c.runDir, "BOXTUI_LOG=" + c.runDir + "/actions.log"}}, c.bin)
	s.Wait("good", 10*time.Second)
	s.Wait("corrupt state file", 10*time.Second)
	s.Keys("q")
	s.Wait("EXIT=0", 5*time.Second)
}

// A container names its own mount points, and mountinfo is a line format:
// a mount point whose name holds a newline followed by a forged mountinfo
// line (claiming /etc) must be listed by `boxtui mounts` under its exact
// name, with no forged entry.
func TestHostileMountPointNamesAreListedExactly(t *testing.T) {
	c := newCLI(t)
	const forged = "/ev il\t\\x\n36 35 98:0 / /etc rw - ext4 /dev/sda rw"
	c.detached("names", testutil.Rootfs(t), "/bin/sh", "-c",
		`d=$(printf '/ev il\t\\x\n36 35 98:0 / /etc rw - ext4 /dev/sda rw'); mkdir -p "$d" && mount -t tmpfs none "$d" && echo mounted && exec sleep 1000`)
	type mount struct {
		Source, Target, Fstype string
		Readonly, Managed      bool
	}
	var ms []mount
	testutil.WaitFor(t, 10*time.Second, func() bool {
		out := c.mustRun("mounts", "--json", "names")
		ms = nil
		if err := json.Unmarshal([]byte(out), &ms); err != nil {
			t.Fatalf("mounts --json: %v: %q", err, out)
		}
		for _, m := range ms {
			if m.Fstype == "tmpfs" && strings.HasPrefix(m.Target, "/ev") {
				return true
			}
		}
		return false
	}, "the container's own tmpfs to show")
	for _, m := range ms {
		if m.Target == "/etc" {
			t.Errorf("a forged entry for /etc was listed: %+v", m)
		}
		if m.Fstype == "tmpfs" && strings.HasPrefix(m.Target, "/ev") && m.Target != forged {
			t.Errorf("mount point listed as %q, want %q", m.Target, forged)
		}
	}
}
