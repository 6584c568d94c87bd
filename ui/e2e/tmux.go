// Package e2e drives the real boxtui binary in tmux, as a person would: a
// private tmux server per test, a fixed window size, keys sent with
// send-keys and the screen read with capture-pane, polled up to a deadline.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// PollInterval is how often Wait re-reads the screen.
const PollInterval = 15 * time.Millisecond

// Binary returns the boxtui binary under test (see testutil.Binary).
func Binary(t testing.TB) string { return testutil.Binary(t) }

// Session is one tmux server with one window running a command.
type Session struct {
	t      testing.TB
	socket string
}

// Options say how to start a session.
type Options struct {
	Width, Height int      // default 100x30
	Env           []string // KEY=VALUE added to the command's environment
	// Shell keeps the window open after the command exits, at a plain
	// shell prompt, so what it printed on exit can be read.
	KeepOpen bool
}

// Start runs argv in a new tmux server. The server is killed in cleanup.
func Start(t testing.TB, opts Options, argv ...string) *Session {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("needs tmux: not installed")
	}
	if opts.Width == 0 {
		opts.Width, opts.Height = 100, 30
	}
	s := &Session{t: t, socket: fmt.Sprintf("boxtui-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	cmdline := strings.Join(quoted, " ")
	if opts.KeepOpen {
		cmdline += "; echo EXIT=$?; exec sleep 600"
	}
	for _, e := range opts.Env {
		cmdline = "export " + shellQuote(e) + "; " + cmdline
	}
	s.tmux("-f", "/dev/null", "new-session", "-d", "-s", "e2e",
		"-x", fmt.Sprint(opts.Width), "-y", fmt.Sprint(opts.Height),
		"env", "TERM=xterm-256color", "sh", "-c", cmdline)
	// A session created detached keeps -x/-y only with a manual size.
	s.tmux("set-option", "-t", "e2e", "window-size", "manual")
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *Session) tmux(args ...string) string {
	s.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// Keys sends tmux key names ("Enter", "C-]", "Down", "q"). Escape must be
// sent alone, or tmux may merge it with the next key into an alt+key.
func (s *Session) Keys(keys ...string) {
	s.t.Helper()
	for i, k := range keys {
		if k == "Escape" && len(keys) > 1 {
			s.t.Fatalf("Keys: send Escape in its own call (got %v at %d)", keys, i)
		}
	}
	s.tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

// Type sends text literally.
func (s *Session) Type(text string) {
	s.t.Helper()
	s.tmux("send-keys", "-t", "e2e", "-l", text)
}

// Screen is the visible screen as text (tmux strips trailing blanks).
func (s *Session) Screen() string {
	s.t.Helper()
	return s.tmux("capture-pane", "-p", "-t", "e2e")
}

// Wait polls the screen until it contains want, and fails the test with
// the last screen if that takes longer than timeout.
func (s *Session) Wait(want string, timeout time.Duration) string {
	s.t.Helper()
	return s.WaitFunc(func(screen string) bool { return strings.Contains(screen, want) }, want, timeout)
}

// WaitFunc polls until ok(screen) holds.
func (s *Session) WaitFunc(ok func(string) bool, what string, timeout time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		screen := s.Screen()
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %s for %q; screen:\n%s", timeout, what, screen)
		}
		time.Sleep(PollInterval)
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runShell runs a cleanup command, ignoring its result.
func runShell(cmd string) { exec.Command("sh", "-c", cmd).Run() }
