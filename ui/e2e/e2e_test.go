package e2e

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// TestListHelpQuit starts boxtui next to a hand-made container, finds its
// init PID in the list, opens the help, and quits: the container keeps
// running and boxtui says so.
func TestListHelpQuit(t *testing.T) {
	testutil.RequireRoot(t, "starts an unshare container and the UI as root")
	pid := testutil.StartUnshare(t, testutil.Rootfs(t), "/bin/sleep", "1000")
	s := Start(t, Options{KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir()}}, Binary(t))

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
