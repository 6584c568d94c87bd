package bench

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// tmuxControl is a private tmux server (a socket of its own) with one
// control-mode client attached: the pane benchmarks' tmux and the
// keystroke benchmark's outer tmux.
type tmuxControl struct {
	sock string
	path string // the socket file, which kill-server leaves behind
	ctl  *exec.Cmd
	in   io.WriteCloser
}

// startTmuxControl starts a server on socket sock by running setup (tmux
// commands as argument lists; the first makes session), attaches a
// control-mode client to session and returns it with the client's output.
// On a failure it kills what it started and fails tb.
func startTmuxControl(tb testing.TB, sock, session string, setup [][]string) (*tmuxControl, *bufio.Reader) {
	tb.Helper()
	c := &tmuxControl{sock: sock}
	for _, args := range setup {
		if out, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).CombinedOutput(); err != nil {
			c.kill()
			tb.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command("tmux", "-L", sock, "display-message", "-p", "#{socket_path}").Output(); err == nil {
		c.path = strings.TrimSpace(string(out))
	}
	ctl := exec.Command("tmux", "-L", sock, "-C", "attach-session", "-t", session)
	in, err := ctl.StdinPipe()
	if err != nil {
		c.kill()
		tb.Fatal(err)
	}
	stdout, err := ctl.StdoutPipe()
	if err != nil {
		c.kill()
		tb.Fatal(err)
	}
	if err := ctl.Start(); err != nil {
		c.kill()
		tb.Fatalf("start tmux control client: %v", err)
	}
	c.ctl, c.in = ctl, in
	return c, bufio.NewReaderSize(stdout, 1<<20)
}

// kill ends the server, waits for the control client and removes the
// socket file.
func (c *tmuxControl) kill() {
	_ = exec.Command("tmux", "-L", c.sock, "kill-server").Run()
	if c.ctl != nil {
		_ = c.in.Close()
		_ = c.ctl.Wait()
	}
	if c.path != "" {
		_ = os.Remove(c.path)
	}
}
