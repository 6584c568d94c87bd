package e2e

import (
	"strconv"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// TestExecOnAProcessEntersIt: in the process view, e on a process opens a
// shell in that process's own namespaces, not its init's. The seed's second
// shell has a UTS namespace of its own, so hostname tells them apart.
func TestExecOnAProcessEntersIt(t *testing.T) {
	testutil.RequireRoot(t, "starts a container and enters it")
	rootfs := testutil.Rootfs(t)
	// The filter finds this container among any others on the host.
	tag := "9" + strconv.Itoa(100000+time.Now().Nanosecond()%800000)
	initPID := testutil.StartUnshare(t, rootfs, "/bin/sleep", tag)
	second := testutil.StartSecondShell(t, initPID, rootfs, "second"+tag, "/bin/sleep", "1001")
	s := Start(t, Options{Width: 120, Height: 40, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir(), "BOXTUI_LOG=off"}}, Binary(t))
	s.Wait("container(s)", 10*time.Second)
	s.Keys("/")
	s.Type(tag)
	s.Keys("Enter")
	s.Keys("p")
	s.Wait(strconv.Itoa(second), 10*time.Second)
	// init, then unshare (which made the second shell), then the shell.
	s.Keys("Down", "Down", "e")
	s.Wait(strconv.Itoa(initPID)+"/"+strconv.Itoa(second)+" exec", 10*time.Second)
	s.Wait("#", 10*time.Second)
	s.Type("echo H$(hostname)")
	s.Keys("Enter")
	s.Wait("Hsecond"+tag, 10*time.Second)
	s.Type("exit")
	s.Keys("Enter")
	// Quit only once the pane has closed: a q typed before that is the
	// shell's.
	s.Wait("exec) exited", 10*time.Second)
	s.Keys("q")
	s.Wait("EXIT=0", 10*time.Second)
}
