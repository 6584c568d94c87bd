package pty

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
)

// startBash starts a plain bash with the prompt "$ " on a cols x rows
// terminal and waits for the first prompt.
func startBash(t *testing.T, cols, rows int) *Terminal {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash")
	}
	term := New(cols, rows)
	cmd := exec.Command("bash", "--norc", "--noprofile")
	cmd.Env = []string{"PS1=$ ", "TERM=xterm-256color", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8"}
	if err := term.Start(cmd); err != nil {
		t.Fatalf("start bash: %v", err)
	}
	t.Cleanup(func() { _ = term.Close() })
	waitScreen(t, term, "first prompt", func(s string) bool { return strings.HasPrefix(s, "$ ") })
	return term
}

// plain returns the rendered screen without styling.
func plain(term *Terminal) string { return ansi.Strip(term.Render()) }

// waitScreen polls the screen until ok holds or five seconds pass.
func waitScreen(t *testing.T, term *Terminal, what string, ok func(screen string) bool) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := plain(term)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out; screen:\n%s", what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitText(t *testing.T, term *Terminal, text string) string {
	t.Helper()
	return waitScreen(t, term, fmt.Sprintf("%q on screen", text), func(s string) bool { return strings.Contains(s, text) })
}

func waitDone(t *testing.T, term *Terminal) {
	t.Helper()
	select {
	case <-term.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("terminal not done after 5s; screen:\n%s", plain(term))
	}
}

func TestEchoAndRenderShape(t *testing.T) {
	term := startBash(t, 80, 24)
	term.SendText("echo M$((6*7))\r")
	waitText(t, term, "M42")
	r := term.Render()
	lines := strings.Split(r, "\n")
	if len(lines) != 24 {
		t.Fatalf("Render has %d lines, want 24", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != 80 {
			t.Errorf("line %d is %d cells wide, want 80: %q", i, w, l)
		}
	}
	if strings.Contains(r, "\x1b") {
		t.Errorf("plain shell output rendered with escape sequences: %q", r)
	}
}

func TestColours(t *testing.T) {
	term := startBash(t, 80, 24)
	term.SendText(`printf '\e[31mred\e[0m \e[1;38;5;208mor\e[0m \e[48;2;1;2;3mtc\e[0m M%s\n' 42` + "\r")
	waitText(t, term, "M42")
	r := term.Render()
	for _, want := range []string{"\x1b[31mred", "\x1b[1;38;5;208mor", "\x1b[48;2;1;2;3mtc"} {
		if !strings.Contains(r, want) {
			t.Errorf("Render lacks %q:\n%q", want, r)
		}
	}
}

func TestCursorPosition(t *testing.T) {
	term := startBash(t, 80, 24)
	term.SendText(`clear; printf '\e[5;10Hx'; read` + "\r")
	deadline := time.Now().Add(5 * time.Second)
	for {
		x, y, vis := term.Cursor()
		if x == 10 && y == 4 && vis {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor at %d,%d visible=%v, want 10,4 visible", x, y, vis)
		}
		time.Sleep(5 * time.Millisecond)
	}
	term.SendText("\rprintf '\\e[?25l'; read\r")
	deadline = time.Now().Add(5 * time.Second)
	for {
		if _, _, vis := term.Cursor(); !vis {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cursor still visible after CSI ?25l")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAltScreen(t *testing.T) {
	term := startBash(t, 80, 24)
	term.SendText(`echo MAIN$((1+1)); printf '\e[?1049h\e[HALT%s' SCREEN; read; printf '\e[?1049l'; echo M$((6*7))` + "\r")
	s := waitText(t, term, "ALTSCREEN")
	if strings.Contains(s, "MAIN2") || !term.AltScreen() {
		t.Fatalf("alternate screen not shown alone (alt=%v):\n%s", term.AltScreen(), s)
	}
	term.SendText("\r")
	s = waitText(t, term, "M42")
	if !strings.Contains(s, "MAIN2") || strings.Contains(s, "ALTSCREEN") || term.AltScreen() {
		t.Fatalf("main screen not restored (alt=%v):\n%s", term.AltScreen(), s)
	}
}

func TestTitle(t *testing.T) {
	term := startBash(t, 80, 24)
	term.SendText(`printf '\e]2;my%s\a' title; echo M$((6*7))` + "\r")
	waitText(t, term, "M42")
	if got := term.Title(); got != "mytitle" {
		t.Fatalf("Title() = %q, want mytitle", got)
	}
}

func TestResizeReachesShell(t *testing.T) {
	term := startBash(t, 80, 24)
	term.Resize(100, 30)
	term.SendText("stty size\r")
	waitText(t, term, "30 100")
	if lines := strings.Split(term.Render(), "\n"); len(lines) != 30 || ansi.StringWidth(lines[0]) != 100 {
		t.Fatalf("Render after resize: %d lines of %d cells, want 30 of 100", len(lines), ansi.StringWidth(lines[0]))
	}
}

func TestExitStatus(t *testing.T) {
	term := startBash(t, 80, 24)
	term.SendText("exit 3\r")
	waitDone(t, term)
	if err := term.Err(); err == nil || err.Error() != "exited with status 3" {
		t.Fatalf("Err() = %v, want exited with status 3", err)
	}

	term = startBash(t, 80, 24)
	term.SendText("kill -9 $$\r")
	waitDone(t, term)
	if err := term.Err(); err == nil || err.Error() != "killed by SIGKILL" {
		t.Fatalf("Err() = %v, want killed by SIGKILL", err)
	}

	term = startBash(t, 80, 24)
	term.SendText("exit\r")
	waitDone(t, term)
	if err := term.Err(); err != nil {
		t.Fatalf("Err() after exit 0 = %v, want nil", err)
	}
}

func TestCtrlCInterruptsFlood(t *testing.T) {
	term := startBash(t, 80, 24)
	term.SendText("seq 1 100000000\r")
	floodLine := regexp.MustCompile(`(?m)^[0-9]{5,} *$`)
	waitScreen(t, term, "flood", floodLine.MatchString)
	term.SendKey(uv.KeyPressEvent{Code: 'c', Mod: uv.ModCtrl})
	term.SendText("echo M$((6*7))\r")
	waitText(t, term, "M42")
}

// TestFloodRace runs a flood while another goroutine renders and sends keys,
// as the UI does; -race checks the locking.
func TestFloodRace(t *testing.T) {
	term := startBash(t, 80, 24)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-term.Updates():
				_ = term.Render()
				_, _, _ = term.Cursor()
				_ = term.AltScreen()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				term.SendKey(uv.KeyPressEvent{Code: uv.KeyLeft, Mod: uv.ModShift})
				term.Resize(80, 24)
			}
		}
	}()
	term.SendText("seq 1 100000; echo M$((6*7))\r")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(plain(term), "M42") {
		if time.Now().After(deadline) {
			close(stop)
			wg.Wait()
			t.Fatalf("flood did not finish; screen:\n%s", plain(term))
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if !strings.Contains(plain(term), "100000") {
		t.Fatalf("last line of the flood missing:\n%s", plain(term))
	}
}

// pipeConn is a Conn for tests: what the test writes to app comes out of
// the terminal's reads, and what the terminal writes shows up in input.
type pipeConn struct {
	out *io.PipeReader // terminal reads this
	app *io.PipeWriter // the fake application writes here

	mu    sync.Mutex
	input bytes.Buffer
	sizes [][2]int
}

func newPipeConn() *pipeConn {
	r, w := io.Pipe()
	return &pipeConn{out: r, app: w}
}

func (c *pipeConn) Read(p []byte) (int, error) { return c.out.Read(p) }
func (c *pipeConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.input.Write(p)
}
func (c *pipeConn) Close() error { return c.out.Close() }
func (c *pipeConn) Resize(cols, rows int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sizes = append(c.sizes, [2]int{cols, rows})
	return nil
}

// waitInput waits until the terminal has written want to the application.
func (c *pipeConn) waitInput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := c.input.String()
		c.mu.Unlock()
		if strings.Contains(got, want) {
			c.mu.Lock()
			c.input.Reset()
			c.mu.Unlock()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("application got %q, want %q", got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func attachPipe(t *testing.T, cols, rows int) (*Terminal, *pipeConn) {
	t.Helper()
	term := New(cols, rows)
	c := newPipeConn()
	if err := term.Attach(c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.app.Close()
		_ = term.Close()
		waitDone(t, term)
	})
	return term, c
}

func TestBracketedPaste(t *testing.T) {
	term, c := attachPipe(t, 80, 24)
	term.Paste("ls\n")
	c.waitInput(t, "ls\r")
	_, _ = io.WriteString(c.app, "\x1b[?2004h")
	// A query behind the mode change tells us it has been processed.
	_, _ = io.WriteString(c.app, "\x1b[6n")
	c.waitInput(t, "\x1b[1;1R")
	term.Paste("ls\r\nx\x1b[201~y")
	c.waitInput(t, "\x1b[200~ls\rxy\x1b[201~")
	_, _ = io.WriteString(c.app, "\x1b[?2004l\x1b[6n")
	c.waitInput(t, "\x1b[1;1R")
	term.Paste("x")
	c.waitInput(t, "x")
}

func TestRepliesDrained(t *testing.T) {
	term, c := attachPipe(t, 80, 24)
	// Many queries in a row: without a drained reply pipe the first blocks.
	for range 50 {
		_, _ = io.WriteString(c.app, "\x1b[c\x1b[3;7H\x1b[6n")
	}
	c.waitInput(t, "\x1b[3;7R")
	if !bytes.Contains([]byte(fmt.Sprint(c.sizes)), []byte("80 24")) {
		t.Errorf("Attach did not size the conn: %v", c.sizes)
	}
	term.Resize(90, 20)
	c.mu.Lock()
	last := c.sizes[len(c.sizes)-1]
	c.mu.Unlock()
	if last != [2]int{90, 20} {
		t.Errorf("conn size after Resize = %v, want [90 20]", last)
	}
}

func TestAppCursorKeys(t *testing.T) {
	term, c := attachPipe(t, 80, 24)
	term.SendKey(uv.KeyPressEvent{Code: uv.KeyUp})
	c.waitInput(t, "\x1b[A")
	_, _ = io.WriteString(c.app, "\x1b[?1h\x1b[6n")
	c.waitInput(t, "R")
	term.SendKey(uv.KeyPressEvent{Code: uv.KeyUp})
	c.waitInput(t, "\x1bOA")
	term.SendKey(uv.KeyPressEvent{Code: uv.KeyUp, Mod: uv.ModCtrl})
	c.waitInput(t, "\x1b[1;5A")
}

// TestPasteIntoBash pastes a command line into readline, which turns
// bracketed paste on at its prompt: the paste is inserted, not run, until
// Enter.
func TestPasteIntoBash(t *testing.T) {
	term := startBash(t, 80, 24)
	deadline := time.Now().Add(5 * time.Second)
	for {
		term.mu.Lock()
		on := term.vt.paste
		term.mu.Unlock()
		if on {
			break
		}
		if time.Now().After(deadline) {
			t.Skip("this bash does not enable bracketed paste")
		}
		time.Sleep(5 * time.Millisecond)
	}
	term.Paste("echo M$((6*7))")
	waitText(t, term, "$ echo M$((6*7))")
	if s := plain(term); strings.Contains(s, "M42") {
		t.Fatalf("paste ran before Enter:\n%s", s)
	}
	term.SendKey(uv.KeyPressEvent{Code: uv.KeyEnter})
	waitText(t, term, "M42")
}

// TestOutputHookThatDrewDelaysUpdates: a read the output hook drew itself
// signals Updates only HookedNotifyDelay later (the UI's frame would find
// nothing to draw, and would take the CPU the echo needs); one it did not
// draw signals at once.
func TestOutputHookThatDrewDelaysUpdates(t *testing.T) {
	term, c := attachPipe(t, 80, 24)
	var drew atomic.Bool
	hooked := make(chan time.Time, 16)
	term.SetOutputHook(func(n int) bool {
		hooked <- time.Now()
		return drew.Load()
	})
	drain := func() {
		for {
			select {
			case <-term.Updates():
			case <-time.After(3 * HookedNotifyDelay):
				return
			}
		}
	}
	wait := func(what string) time.Time {
		t.Helper()
		select {
		case <-term.Updates():
			return time.Now()
		case <-time.After(5 * time.Second):
			t.Fatalf("no update after %s", what)
		}
		return time.Time{}
	}
	drain()

	drew.Store(true)
	_, _ = io.WriteString(c.app, "a")
	at := <-hooked
	if got := wait("a read the hook drew").Sub(at); got < HookedNotifyDelay {
		t.Errorf("a read the hook drew signalled Updates %v after the hook, want >= %v", got, HookedNotifyDelay)
	}
	if s := plain(term); !strings.HasPrefix(s, "a") {
		t.Errorf("screen %q, want the read on it", s)
	}

	drain()
	drew.Store(false)
	_, _ = io.WriteString(c.app, "b")
	<-hooked
	wait("a read the hook did not draw")
	if s := plain(term); !strings.HasPrefix(s, "ab") {
		t.Errorf("screen %q, want both reads on it", s)
	}
}
