// Package e2e drives the real boxtui binary in tmux, as a person would: a
// private tmux server per test, a fixed window size, keys sent with
// send-keys and the screen read with capture-pane, polled up to a deadline.
// The tmux session itself is testutil's (TmuxSession), shared with the
// CLI's terminal tests.
package e2e

import (
	"os/exec"
	"testing"

	"boxtui/internal/testutil"
)

// PollInterval is how often Wait re-reads the screen.
const PollInterval = testutil.TmuxPollInterval

// Binary returns the boxtui binary under test (see testutil.Binary).
func Binary(t testing.TB) string { return testutil.Binary(t) }

// Session is one tmux server with one window running a command.
type Session = testutil.TmuxSession

// Options say how to start a session.
type Options = testutil.TmuxOptions

// Start runs argv in a new tmux server. The server is killed in cleanup.
func Start(t testing.TB, opts Options, argv ...string) *Session {
	t.Helper()
	return testutil.StartTmux(t, opts, argv...)
}

// runShell runs a cleanup command, ignoring its result.
func runShell(cmd string) { exec.Command("sh", "-c", cmd).Run() }
