package fastexec_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
)

// failingRoot is a rootfs of the test's own with what makes a command
// fail in each way the kernel can say it: a file with an execute bit but
// no format the kernel knows, a script whose interpreter is missing, a
// directory where a command is looked for; and, once its init runs, no
// shell at all.
func failingRoot(t *testing.T) string {
	t.Helper()
	root := testutil.FreshRootfs(t)
	files := map[string]string{
		"bin/garbage":      "this is no program\n",
		"bin/nointerp":     "#!/nope/interpreter\n",
		"usr/bin/garbage2": "\x7fELF but cut\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "usr/bin/adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestFailuresMatchGoPath: every way a command can fail to start, through
// the C path and the Go path (the enter stage, and init.go-free Go with
// BOXTUI_ENTER_STAGE=go), gives the same message byte for byte and the
// same exit code; and the message is the one pinned here.
func TestFailuresMatchGoPath(t *testing.T) {
	testutil.RequireRoot(t, "enters namespaces")
	runDir := t.TempDir()
	requireFastPath(t, runDir)
	root := failingRoot(t)
	initPID := testutil.StartUnshare(t, root, "/bin/sleep", "100000")
	pid := strconv.Itoa(initPID)
	if r := boxtui(t, runDir, "0", "", "exec", pid, "--", "/bin/true"); r.code != 0 {
		t.Fatalf("first exec (Go path): %+v", r)
	}
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no format the kernel knows", []string{pid, "--", "garbage"}, 1,
			"boxtui: exec /usr/bin/garbage: exec format error\n"},
		{"no format, by path", []string{pid, "--", "/usr/bin/garbage2", "a"}, 1,
			"boxtui: exec /usr/bin/garbage2: exec format error\n"},
		{"missing interpreter", []string{pid, "--", "nointerp"}, 127,
			"boxtui: command /usr/bin/nointerp not found in the container\n"},
		{"missing interpreter, PATH joined as given", []string{"-e", "PATH=/usr/../usr/bin/", pid, "--", "nointerp"}, 127,
			"boxtui: command /usr/../usr/bin//nointerp not found in the container\n"},
		{"PATH through a missing directory", []string{"-e", "PATH=/nope/../bin", pid, "--", "sh", "-c", "exit 3"}, 127,
			"boxtui: command sh not found in the container\n"},
		{"a directory is no command", []string{pid, "--", "adir"}, 127,
			"boxtui: command adir not found in the container\n"},
		{"a directory by path", []string{pid, "--", "/usr/bin/adir"}, 127,
			"boxtui: command /usr/bin/adir not found in the container\n"},
		{"an empty PATH is the working directory", []string{"-e", "PATH=", pid, "--", "garbage"}, 127,
			"boxtui: command garbage not found in the container\n"},
	}
	check := func(t *testing.T, args []string, code int, stderr string) {
		t.Helper()
		args = append([]string{"exec"}, args...)
		fast := boxtui(t, runDir, "require", "", args...)
		slow := boxtui(t, runDir, "0", "", args...)
		if fast != slow {
			t.Fatalf("paths differ:\nC:  %+v\nGo: %+v", fast, slow)
		}
		var goOnly result
		goOnly.stdout, goOnly.stderr, goOnly.code = testutil.RunBinaryEnv(t,
			[]string{"BOXTUI_RUN_DIR=" + runDir, "BOXTUI_FASTEXEC=0", "BOXTUI_ENTER_STAGE=go"}, "", args...)
		if goOnly != fast {
			t.Fatalf("the Go path without the enter stage differs:\nC:  %+v\nGo: %+v", fast, goOnly)
		}
		if fast.code != code || fast.stderr != stderr {
			t.Fatalf("exit %d, stderr %+q; want %d, %+q", fast.code, fast.stderr, code, stderr)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.args, tc.code, tc.stderr) })
	}
	// No shell: the container's init runs on without one.
	for _, sh := range []string{"bin/sh", "bin/bash"} {
		if err := os.Remove(filepath.Join(root, sh)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	t.Run("no shell", func(t *testing.T) {
		check(t, []string{pid}, 1, "boxtui: no shell in the container (neither /bin/bash nor /bin/sh): give a command after --\n")
	})
	t.Run("no shell, a command by name", func(t *testing.T) {
		check(t, []string{pid, "--", "sh"}, 127, "boxtui: command sh not found in the container\n")
	})
}

// TestEventLinesMatchGoPath: the history lines of an exec, for each way a
// command can end (an exit code, each signal that ends a process by
// default, realtime ones included), are the same bytes on both paths but
// for the time and the host PIDs; and a command that never started writes
// none on either.
func TestEventLinesMatchGoPath(t *testing.T) {
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
	path, err := events.Path(events.Key(c))
	if err != nil {
		t.Fatal(err)
	}
	lines := func(mode string, args ...string) string {
		t.Helper()
		before, _ := os.ReadFile(path)
		boxtui(t, runDir, mode, "", append([]string{"exec", pid, "--"}, args...)...)
		after, _ := os.ReadFile(path)
		return hostPid.ReplaceAllString(string(after[len(before):]), "·")
	}
	var cmds [][]string
	for _, sig := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 24, 25, 26, 27, 29, 30, 31,
		34, 35, 36, 48, 49, 50, 63, 64} {
		cmds = append(cmds, []string{"sh", "-c", "kill -" + strconv.Itoa(sig) + " $$"})
	}
	cmds = append(cmds, []string{"sh", "-c", "exit 255"}, []string{"/nope"}, []string{"sh", "-c", "\x01\t\"<é\u2028\xff"})
	for _, cmd := range cmds {
		fast, slow := lines("require", cmd...), lines("0", cmd...)
		if fast != slow {
			t.Errorf("exec %+q: the history lines differ:\nC:  %s\nGo: %s", cmd, fast, slow)
		}
		if want := 2; cmd[0] == "/nope" {
			if fast != "" {
				t.Errorf("a command that never started left history: %s", fast)
			}
		} else if n := strings.Count(fast, "\n"); n != want {
			t.Errorf("exec %+q: %d lines, want %d: %s", cmd, n, want, fast)
		}
	}
}
