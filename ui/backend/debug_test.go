package backend

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"

	uv "github.com/charmbracelet/ultraviolet"
)

// TestDebugPaneRunsAShellInTheTarget: the UI's debug key ends here: a
// shell from the toolbox on a PTY, in the target's PID namespace, with its
// root at /target; closing the pane ends the shell.
func TestDebugPaneRunsAShellInTheTarget(t *testing.T) {
	testutil.RequireRoot(t, "debug joins namespaces and mounts")
	unshare := testutil.StartGroup(t, "unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sleep", "100000")
	var c discovery.Container
	testutil.WaitFor(t, 10*time.Second, func() bool {
		snap, err := discovery.Scan(discovery.ScanOptions{ProcessNamespaces: true})
		if err != nil {
			return false
		}
		var ok bool
		c, ok = containerUnder(snap, unshare.Process.Pid)
		return ok && strings.HasPrefix(c.Command, "sleep")
	}, "the container did not start")
	r := New(WithDefaultRootfs(testutil.Rootfs(t)))
	term, err := r.Debug(c, 80, 24)
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	// Typed, not pasted: a bracketed paste's newline would not run it.
	for _, r := range "echo M$((6*7)) $(cat /proc/1/comm) $(test -d /target/proc/1 && echo T)" {
		term.SendKey(uv.KeyPressEvent{Code: r, Text: string(r)})
	}
	term.SendKey(uv.KeyPressEvent{Code: uv.KeyEnter})
	testutil.WaitFor(t, 10*time.Second, func() bool { return strings.Contains(term.Render(), "M42 sleep T") },
		"the debug shell did not answer in the target's PID namespace with /target")
	term.Close()
	select {
	case <-term.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("closing the pane did not end the debug shell")
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(c.PID)); err != nil {
		t.Fatal("the target ended with its debug shell")
	}
}
