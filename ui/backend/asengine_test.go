package backend

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/asengine/enginetest"
	"boxtui/runtime/discovery"
)

// TestExecAsEngineShellPane: the UI's exec-as-engine pane is a shell on
// the container's own terminal with the init's capabilities and seccomp
// filter; the plain exec pane keeps nsenter semantics.
func TestExecAsEngineShellPane(t *testing.T) {
	testutil.RequireRoot(t, "enters a container")
	pid := enginetest.Docker(t, "ui", nil, "sleep", "1d")
	c, err := discovery.FindInit(strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	r := New()
	for _, asEngine := range []bool{true, false} {
		open := r.Exec
		if asEngine {
			open = r.ExecAsEngine
		}
		term, err := open(c, 100, 30)
		if err != nil {
			t.Fatal(err)
		}
		// A marker the shell computes, so the echoed line never matches.
		term.Paste("readlink /proc/self/fd/0; grep -E '^(CapEff|Seccomp):' /proc/self/status; echo M$((6*7))\r")
		var screen string
		testutil.WaitFor(t, 20*time.Second, func() bool {
			screen = term.Render()
			return strings.Contains(screen, "M42")
		}, "the shell's answer")
		term.Close()
		engineLike := strings.Contains(screen, "00000000a80425fb") // docker's default capabilities
		seccomp := seccompFilterShown(screen)
		if asEngine && (!engineLike || !seccomp || !strings.Contains(screen, "/dev/pts/0")) {
			t.Errorf("as engine: want docker's capabilities, its seccomp filter and the container's /dev/pts/0:\n%s", screen)
		}
		if !asEngine && (engineLike || seccomp) {
			t.Errorf("plain exec took the engine's profile:\n%s", screen)
		}
	}
}

// seccompFilterShown finds "Seccomp:" then 2 on one line (the terminal
// renders the tab as spaces).
func seccompFilterShown(screen string) bool {
	for _, line := range strings.Split(screen, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Seccomp:"); ok && strings.TrimSpace(rest) == "2" {
			return true
		}
	}
	return false
}
