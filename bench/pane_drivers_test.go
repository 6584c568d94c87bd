// The two contestants of the pane benchmarks, driven alike: a boxtui pane
// (pty.Terminal, as the UI drives it) and a pane of a private tmux server.

package bench

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/pty"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

func shellEnv() []string {
	return []string{"PS1=$ ", "TERM=xterm-256color", "PATH=" + os.Getenv("PATH"), "HOME=/tmp", "LANG=C.UTF-8"}
}

// shellCommand is the shell tmux runs, with the same environment as ours.
func shellCommand() string {
	var b strings.Builder
	b.WriteString("exec env -i")
	for _, kv := range shellEnv() {
		b.WriteString(" '" + strings.ReplaceAll(kv, "'", `'\''`) + "'")
	}
	b.WriteString(" bash --norc --noprofile")
	return b.String()
}

// pane is one of the two contestants.
type pane interface {
	send(text string) // types text (no Enter)
	ctrlC()           // sends ctrl+c
	screen() string   // what the user sees now (plain text)
	waitFor(func(string) bool, time.Duration) (time.Duration, bool)
	close()
}

// uiPane drives a pty.Terminal exactly as the UI does: a consumer renders
// on Updates, at most once per 16 ms window, and checks what it rendered.
type uiPane struct {
	t     *pty.Terminal
	mu    sync.Mutex
	frame string
	seen  chan struct{} // closed and replaced on every frame
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newUIPane(tb testing.TB, cols, rows int) *uiPane {
	tb.Helper()
	t := pty.New(cols, rows)
	cmd := exec.Command("bash", "--norc", "--noprofile")
	cmd.Env = shellEnv()
	if err := t.Start(cmd); err != nil {
		tb.Fatal(err)
	}
	p := &uiPane{t: t, seen: make(chan struct{}), stop: make(chan struct{})}
	p.wg.Add(1)
	go p.consume()
	if _, ok := p.waitFor(atPrompt, 5*time.Second); !ok {
		p.close()
		tb.Fatalf("no prompt in boxtui pane:\n%s", p.screen())
	}
	return p
}

// consume is the UI's frame pacing: draw at once if the last frame is 16 ms
// old, else at the end of the 16 ms window; one frame for many updates.
func (p *uiPane) consume() {
	defer p.wg.Done()
	const frame = 16 * time.Millisecond
	var last time.Time
	var timer <-chan time.Time
	draw := func() {
		s := ansi.Strip(p.t.Render())
		last = time.Now()
		p.mu.Lock()
		p.frame = s
		close(p.seen)
		p.seen = make(chan struct{})
		p.mu.Unlock()
	}
	draw()
	for {
		select {
		case <-p.stop:
			return
		case <-p.t.Updates():
			if timer != nil {
				continue // a frame is already scheduled
			}
			if wait := frame - time.Since(last); wait > 0 {
				timer = time.After(wait)
				continue
			}
			draw()
		case <-timer:
			timer = nil
			draw()
		}
	}
}

func (p *uiPane) send(text string) { p.t.SendText(text) }
func (p *uiPane) ctrlC()           { p.t.SendKey(uv.KeyPressEvent{Code: 'c', Mod: uv.ModCtrl}) }

func (p *uiPane) screen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frame
}

func (p *uiPane) waitFor(ok func(string) bool, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	deadline := time.After(limit)
	for {
		p.mu.Lock()
		s, seen := p.frame, p.seen
		p.mu.Unlock()
		if ok(s) {
			return time.Since(start), true
		}
		select {
		case <-seen:
		case <-deadline:
			return time.Since(start), false
		}
	}
}

func (p *uiPane) close() {
	close(p.stop)
	p.wg.Wait()
	_ = p.t.Close()
}

// tmuxServer is a private tmux server and one control-mode client on it.
// Commands go through the control client's stdin, not a new tmux process
// each, so tmux's figures are not a measure of fork+exec.
type tmuxServer struct {
	*tmuxControl
	mu  sync.Mutex
	out *bufio.Reader
}

// tmuxPane is a pane of the private tmux server, read with capture-pane.
type tmuxPane struct {
	srv    *tmuxServer
	target string
	// poll is the pause between captures: the tmux server is single
	// threaded, and capturing in a tight loop would slow the very flood
	// being timed. The latency benchmark polls without pause.
	poll time.Duration
}

func newTmuxServer(tb testing.TB, cols, rows int) *tmuxPane {
	tb.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		tb.Skip("needs tmux")
	}
	size := fmt.Sprintf("%dx%d", cols, rows)
	ctl, out := startTmuxControl(tb, fmt.Sprintf("boxtui-bench-%d-%d", os.Getpid(), rand.Int()), "bench", [][]string{
		{"-f", "/dev/null", "new-session", "-d", "-s", "bench", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows), shellCommand()},
		{"set-option", "-g", "history-limit", "1000"},
		{"set-option", "-g", "default-command", shellCommand()},
		{"set-option", "-g", "status", "off"},
		{"set-option", "-g", "default-size", size},
		{"resize-window", "-t", "bench", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows)},
	})
	srv := &tmuxServer{tmuxControl: ctl, out: out}
	p := &tmuxPane{srv: srv, target: "bench:0.0", poll: 5 * time.Millisecond}
	srv.readBlock() // the reply to attach-session itself
	// The control client's size decides the window size (window-size
	// manual would do it too, but crashes tmux 3.3a on new-window).
	srv.run("refresh-client -f no-output -C " + size)
	if got := strings.TrimSpace(srv.run("display-message -p -t " + p.target + " '#{pane_width}x#{pane_height}'")); got != size {
		srv.kill()
		tb.Fatalf("tmux pane is %s, want %s", got, size)
	}
	if _, ok := p.waitFor(atPrompt, 5*time.Second); !ok {
		srv.kill()
		tb.Fatalf("no prompt in tmux pane:\n%s", p.screen())
	}
	return p
}

// readBlock reads one %begin..%end reply, skipping notifications.
func (s *tmuxServer) readBlock() string {
	var b strings.Builder
	in := false
	for {
		line, err := s.out.ReadString('\n')
		if err != nil {
			return b.String()
		}
		switch {
		case !in && strings.HasPrefix(line, "%begin "):
			in = true
		case in && (strings.HasPrefix(line, "%end ") || strings.HasPrefix(line, "%error ")):
			return b.String()
		case in:
			b.WriteString(line)
		}
	}
}

// run sends one command line to the control client and returns its output.
func (s *tmuxServer) run(cmd string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.in, cmd+"\n"); err != nil {
		return ""
	}
	return s.readBlock()
}

// newWindow adds a second shell (for the flood) in a window of its own, so
// both keep the requested size.
func (p *tmuxPane) newWindow(tb testing.TB) *tmuxPane {
	tb.Helper()
	p.srv.run("new-window -d -t bench:1")
	q := &tmuxPane{srv: p.srv, target: "bench:1.0", poll: p.poll}
	if _, ok := q.waitFor(atPrompt, 5*time.Second); !ok {
		tb.Fatalf("no prompt in second tmux pane:\n%s\n%s", q.screen(), p.srv.run("list-windows"))
	}
	return q
}

// tmuxQuote quotes s for tmux's command parser: single quotes are literal.
func tmuxQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// send types text; CR and DEL go as the Enter and BSpace keys.
func (p *tmuxPane) send(text string) {
	lit := func(s string) {
		if s != "" {
			p.srv.run("send-keys -t " + p.target + " -l " + tmuxQuote(s))
		}
	}
	start := 0
	for i := 0; i < len(text); i++ {
		key := ""
		switch text[i] {
		case '\r':
			key = "Enter"
		case 0x7f:
			key = "BSpace"
		default:
			continue
		}
		lit(text[start:i])
		p.srv.run("send-keys -t " + p.target + " " + key)
		start = i + 1
	}
	lit(text[start:])
}

func (p *tmuxPane) ctrlC()         { p.srv.run("send-keys -t " + p.target + " C-c") }
func (p *tmuxPane) screen() string { return p.srv.run("capture-pane -p -t " + p.target) }

// waitFor polls capture-pane through the control client.
func (p *tmuxPane) waitFor(ok func(string) bool, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	for {
		if ok(p.screen()) {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(p.poll)
	}
}

func (p *tmuxPane) close() {}
func (p *tmuxPane) kill()  { p.srv.kill() }
