package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TmuxPollInterval is how often TmuxSession.Wait re-reads the screen.
const TmuxPollInterval = 15 * time.Millisecond

// TmuxSession is one private tmux server with one window running a
// command: keys sent with send-keys, the screen read with capture-pane and
// polled up to a deadline. The UI's end-to-end tests (ui/e2e) and the CLI's
// terminal tests drive the real binary through it.
type TmuxSession struct {
	t      testing.TB
	socket string
}

// TmuxOptions say how to start a session.
type TmuxOptions struct {
	Width, Height int      // default 100x30
	Env           []string // KEY=VALUE added to the command's environment
	// Shell keeps the window open after the command exits, at a plain
	// shell prompt, so what it printed on exit can be read.
	KeepOpen bool
}

// StartTmux runs argv in a new tmux server. The server is killed in cleanup.
func StartTmux(t testing.TB, opts TmuxOptions, argv ...string) *TmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("needs tmux: not installed")
	}
	if opts.Width == 0 {
		opts.Width, opts.Height = 100, 30
	}
	s := &TmuxSession{t: t, socket: fmt.Sprintf("boxtui-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = ShellQuote(a)
	}
	cmdline := strings.Join(quoted, " ")
	if opts.KeepOpen {
		cmdline += "; echo EXIT=$?; exec sleep 600"
	}
	for _, e := range opts.Env {
		cmdline = "export " + ShellQuote(e) + "; " + cmdline
	}
	s.Tmux("-f", "/dev/null", "new-session", "-d", "-s", "e2e",
		"-x", fmt.Sprint(opts.Width), "-y", fmt.Sprint(opts.Height),
		"env", "TERM=xterm-256color", "sh", "-c", cmdline)
	// A session created detached keeps -x/-y only with a manual size.
	s.Tmux("set-option", "-t", "e2e", "window-size", "manual")
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

// Tmux runs a tmux command on the session's server and returns its output;
// a failure fails the test.
func (s *TmuxSession) Tmux(args ...string) string {
	s.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// WaitBuffer polls tmux's newest paste buffer (where a program's OSC 52
// copy lands) until it holds want, and fails with what it last held if
// timeout passes first. The copy reaches tmux after the program says it
// copied: until then there may be no buffer at all, or an older one.
func (s *TmuxSession) WaitBuffer(want string, timeout time.Duration) {
	s.t.Helper()
	WaitForState(s.t, timeout, fmt.Sprintf("the tmux buffer to hold %q", want), func() (bool, string) {
		out, err := exec.Command("tmux", "-L", s.socket, "show-buffer").CombinedOutput()
		if err != nil {
			return false, fmt.Sprintf("show-buffer: %v: %s", err, bytes.TrimSpace(out))
		}
		return string(out) == want, fmt.Sprintf("%q", out)
	})
}

// Keys sends tmux key names ("Enter", "C-]", "Down", "q"). Escape must be
// sent alone, or tmux may merge it with the next key into an alt+key.
func (s *TmuxSession) Keys(keys ...string) {
	s.t.Helper()
	for i, k := range keys {
		if k == "Escape" && len(keys) > 1 {
			s.t.Fatalf("Keys: send Escape in its own call (got %v at %d)", keys, i)
		}
	}
	s.Tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

// Type sends text literally.
func (s *TmuxSession) Type(text string) {
	s.t.Helper()
	s.Tmux("send-keys", "-t", "e2e", "-l", text)
}

// Screen is the visible screen as text (tmux strips trailing blanks).
func (s *TmuxSession) Screen() string {
	s.t.Helper()
	return s.Tmux("capture-pane", "-p", "-t", "e2e")
}

// Wait polls the screen until it contains want, and fails the test with
// the last screen if that takes longer than timeout.
func (s *TmuxSession) Wait(want string, timeout time.Duration) string {
	s.t.Helper()
	return s.WaitFunc(func(screen string) bool { return strings.Contains(screen, want) }, want, timeout)
}

// WaitFunc polls until ok(screen) holds.
func (s *TmuxSession) WaitFunc(ok func(string) bool, what string, timeout time.Duration) string {
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
		time.Sleep(TmuxPollInterval)
	}
}

// ShellQuote quotes s for sh as one word.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
