package e2e

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.Cleanup()
	os.Exit(code)
}

// TestNoTerminal: without a terminal boxtui says what to use instead.
func TestNoTerminal(t *testing.T) {
	cmd := exec.Command(Binary(t))
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("boxtui without a terminal: err %v, output %q", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "boxtui needs a terminal (use `boxtui ls` in scripts)" {
		t.Fatalf("output %q", got)
	}
}

// TestTooSmall: a terminal under 80x24 gets a message, not a broken layout.
func TestTooSmall(t *testing.T) {
	s := Start(t, Options{Width: 70, Height: 20, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir(), "BOXTUI_LOG=off"}}, Binary(t))
	s.Wait("at least 80x24; this one is 70x20", 10*time.Second)
	s.Keys("q")
	s.Wait("EXIT=0", 5*time.Second)
}

// TestNotRoot: as an ordinary user the list is read-only and says why.
func TestNotRoot(t *testing.T) {
	testutil.RequireRoot(t, "switches to user nobody with setpriv")
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	// The binary under test may sit where nobody cannot reach it (make
	// test's bin/ under a private checkout): run a copy nobody can.
	bin := testutil.BinaryFor(t, 65534, 65534)
	// HOME=/nonexistent: setpriv keeps root's HOME, whose config nobody
	// may not read.
	s := Start(t, Options{KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir(), "BOXTUI_LOG=off", "HOME=/nonexistent"}},
		"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin)
	s.Wait("not root: read-only list", 10*time.Second)
	// n and x do nothing: had they opened the launch form or the kill
	// question, those would have taken the ? instead of the help.
	s.Keys("n")
	s.Keys("x")
	s.Keys("?")
	screen := s.Wait("close help", 5*time.Second)
	if strings.Contains(screen, "launch a container") || strings.Contains(screen, "Kill container") {
		t.Fatalf("a read-only UI offered to act:\n%s", screen)
	}
	s.Keys("?")
	s.Wait("not root", 5*time.Second)
	s.Keys("q")
	s.Wait("EXIT=0", 5*time.Second)
}

// TestListHelpQuit starts boxtui next to a hand-made container, finds its
// init PID in the list, opens the help, and quits: the container keeps
// running and boxtui says so.
func TestListHelpQuit(t *testing.T) {
	testutil.RequireRoot(t, "starts an unshare container and the UI as root")
	pid := testutil.StartUnshare(t, testutil.Rootfs(t), "/bin/sleep", "1000")
	s := Start(t, Options{KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir(), "BOXTUI_LOG=off"}}, Binary(t))

	s.WaitFunc(func(screen string) bool {
		for _, line := range strings.Split(screen, "\n") {
			f := strings.Fields(line)
			if len(f) > 2 && f[1] == strconv.Itoa(pid) && f[2] == "unshare" {
				return true
			}
		}
		return false
	}, "a list row for PID "+strconv.Itoa(pid), 10*time.Second)

	s.Keys("?")
	s.Wait("Container list", 5*time.Second)
	s.Wait("close help", 5*time.Second)
	s.Keys("Escape")
	s.Wait("namespaces of", 5*time.Second)

	s.Keys("q")
	screen := s.Wait("EXIT=0", 5*time.Second)
	if !strings.Contains(screen, "keep running") {
		t.Fatalf("quit did not say containers keep running:\n%s", screen)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("container init %d is gone after quitting the UI: %v", pid, err)
	}
}
