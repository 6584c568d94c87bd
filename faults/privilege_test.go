package faults

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"boxtui/internal/testutil"
)

// nobody returns a copy of the binary that user nobody can run (the test's
// own temp directories are private) and a directory nobody may write to.
func nobody(t *testing.T, c *cli) (bin, open string) {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	dir, err := os.MkdirTemp("", "boxtui-faults-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, err := os.ReadFile(c.bin)
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "boxtui")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	open = filepath.Join(dir, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, open} {
		if err := os.Chmod(p, 0o777); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	return bin, open
}

// Every command that changes something refuses an ordinary user up front
// with one line naming sudo, and leaves nothing behind even where that user
// could have written.
func TestNonRootIsToldToUseSudo(t *testing.T) {
	c := newCLI(t)
	bin, open := nobody(t, c)
	runDir := filepath.Join(open, "run")
	for _, args := range [][]string{
		{"run", "--rootfs", testutil.Rootfs(t), "--", "/bin/true"},
		{"run", "-d", "--name", "x", "--", "/bin/sleep", "1"},
		{"exec", "1", "--", "/bin/true"},
		{"debug", "1", "--", "/bin/true"},
		{"mount", "x", open, "/mnt"},
		{"umount", "x", "/mnt"},
		{"remount", "--ro", "x", "/mnt"},
		{"mounts", "x"},
		{"kill", "x"},
		{"kill", "-s", "KILL", "1"},
		{"rm", "-f", "x"},
		{"attach", "x"},
	} {
		cmd := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", bin}, args...)...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "BOXTUI_RUN_DIR=" + runDir, "BOXTUI_LOG=" + filepath.Join(open, "actions.log")}
		cmd.Dir = open
		out, err := cmd.CombinedOutput()
		line := strings.TrimSpace(string(out))
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("boxtui %s as nobody: %v, want exit 1", strings.Join(args, " "), err)
		}
		if strings.Contains(line, "\n") || !strings.Contains(line, "needs root") || !strings.Contains(line, "sudo") {
			t.Errorf("boxtui %s as nobody said %q, want one line saying it needs root and naming sudo", strings.Join(args, " "), line)
		}
	}
	entries, _ := os.ReadDir(open)
	for _, e := range entries {
		if e.Name() != "actions.log" {
			t.Errorf("a refused command left %s behind", e.Name())
		}
	}
}

// The state boxtui keeps (state files, locks, the holder's log, the
// console socket, mount records) is root's alone: directories 0700, files
// and the socket without any group or other bits, from the first launch
// that creates the state directory on.
func TestStateAndConsolesAreRootOnly(t *testing.T) {
	c := newCLI(t)
	runDir := filepath.Join(c.runDir, "fresh")
	c.env = append(c.env, "BOXTUI_RUN_DIR="+runDir, "BOXTUI_LOG="+filepath.Join(c.runDir, "actions.log"))
	t.Setenv("BOXTUI_RUN_DIR", runDir)
	c.detached("private", testutil.Rootfs(t), "/bin/sleep", "1000")
	c.mustRun("mount", "--ro", "--mkdir", "private", t.TempDir(), "/data")
	c.mustRun("kill", "-s", "HUP", "private") // an event, if events are kept
	seen := map[string]bool{}
	err := filepath.WalkDir(runDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if s, ok := fi.Sys().(*syscall.Stat_t); ok {
			st = *s
		}
		if st.Uid != 0 {
			t.Errorf("%s is owned by uid %d, want root", p, st.Uid)
		}
		perm := fi.Mode().Perm()
		switch {
		case fi.IsDir() && perm != 0o700:
			t.Errorf("directory %s has mode %v, want 0700", p, perm)
		case !fi.IsDir() && perm&0o077 != 0:
			t.Errorf("%s (%v) has mode %v: group or others may use it", p, fi.Mode().Type(), perm)
		}
		seen[filepath.Base(p)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("checked %v", seen)
	for _, want := range []string{"state.json", "console.sock"} {
		if !seen[want] {
			t.Errorf("no %s under %s (checked %v)", want, runDir, seen)
		}
	}
}
