package pty

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"
	cpty "github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// DefaultScrollback is how many lines scrolled off the top are kept when no
// WithScrollback option is given (8 bytes a cell: about 1 MB for a 120
// column pane).
const DefaultScrollback = 1000

// Option configures a Terminal.
type Option func(*config)

type config struct {
	scrollback int
}

// WithScrollback sets how many lines scrolled off the top are kept.
func WithScrollback(lines int) Option {
	return func(c *config) {
		if lines < 0 {
			lines = 0
		}
		c.scrollback = lines
	}
}

// ExitError says how a command started with Start ended when it did not
// exit with status 0.
type ExitError struct {
	Code   int            // exit status, -1 when killed by a signal
	Signal syscall.Signal // the signal that killed it, 0 when it exited
}

// Error reads like "exited with status 3" or "killed by signal 9".
func (e *ExitError) Error() string {
	if e.Signal != 0 {
		if name := unix.SignalName(e.Signal); name != "" {
			return "killed by " + name
		}
		return fmt.Sprintf("killed by signal %d", int(e.Signal))
	}
	return fmt.Sprintf("exited with status %d", e.Code)
}

// Terminal is a terminal emulator driving one console stream. A reader
// goroutine feeds output into the screen while the UI calls Render, SendKey
// and Resize from its own goroutine; one mutex, held briefly, orders them.
type Terminal struct {
	mu   sync.Mutex
	vt   *vt
	conn Conn
	cmd  *exec.Cmd

	// Input to the application (keys, pastes, the emulator's replies) is
	// queued here and written to conn by one goroutine, so a shell that
	// stops reading its input never blocks the UI or the reader.
	inMu    sync.Mutex
	inBuf   []byte
	inWake  chan struct{}
	writing bool // the writer goroutine is writing what it took of inBuf

	// gen counts the changes of the screen (under mu); outputHook is told
	// of each read of output fed to the screen (SetOutputHook). lateNotify
	// signals Updates a while after a read the hook drew (reader only).
	gen        uint64
	outputHook atomic.Pointer[func(n int) bool]
	lateNotify *time.Timer

	updates  chan struct{}
	done     chan struct{}
	readDone chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	err      error
	started  bool
}

// New returns a terminal of cols x rows cells that is not yet connected;
// call Start or Attach.
func New(cols, rows int, opts ...Option) *Terminal {
	cfg := config{scrollback: DefaultScrollback}
	for _, o := range opts {
		o(&cfg)
	}
	cols, rows = max(cols, 1), max(rows, 1)
	t := &Terminal{
		inWake:   make(chan struct{}, 1),
		updates:  make(chan struct{}, 1),
		done:     make(chan struct{}),
		readDone: make(chan struct{}),
		stop:     make(chan struct{}),
	}
	// Replies are queued, never written inline: the reader holds t.mu.
	t.vt = newVT(cols, rows, cfg.scrollback, func(s string) { t.queueInput([]byte(s)) })
	return t
}

// Start runs cmd on a new PTY of the terminal's size and waits for it; Done
// is closed once it has exited and its output is read. Unless cmd.Env names
// TERM already, TERM is set to TERM (term.go), which is what we emulate.
func (t *Terminal) Start(cmd *exec.Cmd) error {
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	hasTerm := false
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, "TERM=") {
			hasTerm = true
		}
	}
	if !hasTerm {
		cmd.Env = append(env, "TERM="+TERM)
	}
	cols, rows := t.Size()
	master, err := cpty.StartWithSize(cmd, &cpty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		return fmt.Errorf("start %s on a pty: %w", cmd.Path, err)
	}
	conn := NewPTYConn(master)
	if err := t.attach(conn, cmd); err != nil {
		_ = conn.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}
	go t.waitCmd()
	return nil
}

// waitCmd reaps the command, then lets the reader drain what the command
// wrote before closing Done. A background child holding the PTY open must
// not keep a dead shell's pane alive, so the wait for the reader is bounded.
func (t *Terminal) waitCmd() {
	werr := t.cmd.Wait()
	select {
	case <-t.readDone:
	case <-time.After(250 * time.Millisecond):
		_ = t.conn.Close()
		<-t.readDone
	}
	err := exitError(werr)
	t.mu.Lock()
	if t.err != nil {
		err = t.err // the stream failed first: the exit is a consequence
	}
	t.mu.Unlock()
	t.finish(err)
}

func exitError(err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &ExitError{Code: -1, Signal: ws.Signal()}
	}
	return &ExitError{Code: ee.ExitCode()}
}

// Attach drives an existing Conn (e.g. a container console socket): it sets
// the Conn's size to the terminal's and starts the reader goroutine. Done is
// closed when the stream ends.
func (t *Terminal) Attach(c Conn) error {
	if err := t.attach(c, nil); err != nil {
		return err
	}
	go func() {
		<-t.readDone
		t.mu.Lock()
		err := t.err
		t.mu.Unlock()
		t.finish(err)
	}()
	return nil
}

func (t *Terminal) attach(c Conn, cmd *exec.Cmd) error {
	t.mu.Lock()
	if t.started {
		t.mu.Unlock()
		return errors.New("attach terminal: already attached")
	}
	t.started = true
	t.conn = c
	t.cmd = cmd
	cols, rows := t.vt.cols, t.vt.rows
	t.mu.Unlock()
	if err := c.Resize(cols, rows); err != nil {
		return err
	}
	go t.writeInput()
	go t.readOutput()
	track(t, true)
	armRelease()
	return nil
}

func (t *Terminal) queueInput(p []byte) {
	if len(p) == 0 {
		return
	}
	t.inMu.Lock()
	t.inBuf = append(t.inBuf, p...)
	t.inMu.Unlock()
	select {
	case t.inWake <- struct{}{}:
	default:
	}
}

// sendInput is queueInput for what the person sends (keys, text, pastes):
// when nothing is queued or being written before it, it goes to c at once
// as far as c takes it without waiting (a PTY), and only the rest is
// queued.
func (t *Terminal) sendInput(c Conn, p []byte) {
	tw, ok := c.(interface{ TryWrite([]byte) (int, error) })
	if !ok || len(p) == 0 {
		t.queueInput(p)
		return
	}
	t.inMu.Lock()
	if len(t.inBuf) == 0 && !t.writing {
		if n, err := tw.TryWrite(p); err == nil {
			p = p[n:]
		}
	}
	if len(p) == 0 {
		t.inMu.Unlock()
		return
	}
	t.inBuf = append(t.inBuf, p...)
	t.inMu.Unlock()
	select {
	case t.inWake <- struct{}{}:
	default:
	}
}

func (t *Terminal) writeInput() {
	for {
		select {
		case <-t.inWake:
		case <-t.stop:
			return
		}
		t.inMu.Lock()
		p := t.inBuf
		t.inBuf = nil
		t.writing = len(p) > 0
		t.inMu.Unlock()
		if _, err := t.conn.Write(p); err != nil {
			// The stream is gone; the reader reports how it ended.
			return
		}
		t.inMu.Lock()
		t.writing = false
		t.inMu.Unlock()
	}
}

func (t *Terminal) readOutput() {
	defer close(t.readDone)
	buf := make([]byte, 64*1024)
	for {
		n, err := t.conn.Read(buf)
		// Feed at most 16 KB per lock: the UI's Render waits for the
		// lock, and a few bytes of output can ask for a lot of work.
		for p := buf[:n]; len(p) > 0; {
			k := min(len(p), 16<<10)
			if ferr := t.feed(p[:k]); ferr != nil {
				t.mu.Lock()
				t.err = ferr
				t.mu.Unlock()
				_ = t.conn.Close()
				return
			}
			p = p[k:]
		}
		if n > 0 {
			if h := t.outputHook.Load(); h != nil && (*h)(n) {
				t.notifyLate()
			} else {
				t.notify()
			}
			noteOutput(n)
		}
		if err != nil {
			// A PTY master reads EIO once the last slave fd is closed:
			// that is the end of the stream, not a failure.
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) && !errors.Is(err, net.ErrClosed) {
				t.mu.Lock()
				t.err = fmt.Errorf("read terminal output: %w", err)
				t.mu.Unlock()
			}
			return
		}
	}
}

// feed writes output to the screen under the lock. A bug in the emulator
// must not take the whole UI down with it: a panic ends this terminal's
// stream with an error instead.
func (t *Terminal) feed(p []byte) (err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("emulate terminal output: %v", r)
		}
	}()
	t.vt.write(p)
	t.gen++
	return nil
}

// SetOutputHook has f called on the reader goroutine after each read of n
// bytes of output is on the screen, before Updates is signalled; f must
// not block. The UI draws a keystroke's echo from there. When f answers
// true (it drew the change itself), Updates is signalled HookedNotifyDelay
// later instead of at once. A nil f removes it.
func (t *Terminal) SetOutputHook(f func(n int) bool) {
	if f == nil {
		t.outputHook.Store(nil)
		return
	}
	t.outputHook.Store(&f)
}

// Snapshot is Render and Cursor at one moment, with the screen's
// generation: it grows with every change of the screen.
func (t *Terminal) Snapshot() (screen string, x, y int, visible bool, gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	t.vt.render(&b)
	return b.String(), t.vt.x, t.vt.y, !t.vt.cursorHidden, t.gen
}

// Gen is the screen's generation (see Snapshot).
func (t *Terminal) Gen() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gen
}

// HookedNotifyDelay is how long after a read the output hook drew Updates
// is signalled. The hook already put the change on the user's terminal;
// signalling at once would wake the UI's event loop for a frame with
// nothing to draw, on the CPU that the kernel's PTY worker and the outer
// terminal need next to show what the hook wrote (on two busy cores that
// frame was ~0.25 ms of a ~1 ms keystroke). It is well under a frame.
const HookedNotifyDelay = 10 * time.Millisecond

// notifyLate signals Updates HookedNotifyDelay from now (reader only).
func (t *Terminal) notifyLate() {
	if t.lateNotify == nil {
		t.lateNotify = time.AfterFunc(HookedNotifyDelay, t.notify)
		return
	}
	t.lateNotify.Reset(HookedNotifyDelay)
}

func (t *Terminal) notify() {
	select {
	case t.updates <- struct{}{}:
	default:
	}
}

func (t *Terminal) finish(err error) {
	track(t, false)
	_ = t.conn.Close() // a PTY master that read EIO is still open
	t.mu.Lock()
	t.err = err
	t.mu.Unlock()
	t.stopOnce.Do(func() { close(t.stop) })
	close(t.done)
	t.notify()
}

// SendKey sends a key press to the application, encoded as xterm does under
// the current modes (application cursor keys, application keypad), including
// ctrl/shift/alt-modified arrows and function keys.
func (t *Terminal) SendKey(k uv.KeyPressEvent) {
	t.mu.Lock()
	s := encodeKey(k, t.vt.keys)
	c := t.conn
	t.mu.Unlock()
	t.sendInput(c, []byte(s))
}

// SendText sends raw text to the application.
func (t *Terminal) SendText(s string) {
	t.mu.Lock()
	c := t.conn
	t.mu.Unlock()
	t.sendInput(c, []byte(s))
}

// Paste sends text as a paste: wrapped in ESC[200~ ... ESC[201~ when the
// application enabled bracketed paste (mode 2004), so a shell does not run
// pasted lines one by one. Line ends become CR, as a typed Enter (and
// xterm's paste) sends.
func (t *Terminal) Paste(s string) {
	t.mu.Lock()
	bracketed := t.vt.paste
	c := t.conn
	t.mu.Unlock()
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\r"), "\n", "\r")
	if bracketed {
		// A pasted end marker would end the paste early and run the rest.
		s = ansi.BracketedPasteStart + strings.ReplaceAll(s, ansi.BracketedPasteEnd, "") + ansi.BracketedPasteEnd
	}
	t.sendInput(c, []byte(s))
}

// Resize resizes the screen and the Conn, so the application gets SIGWINCH.
func (t *Terminal) Resize(cols, rows int) {
	cols, rows = max(cols, 1), max(rows, 1)
	t.mu.Lock()
	if cols == t.vt.cols && rows == t.vt.rows {
		t.mu.Unlock()
		return
	}
	t.vt.resize(cols, rows)
	t.gen++
	c := t.conn
	t.mu.Unlock()
	if c != nil {
		_ = c.Resize(cols, rows)
	}
	t.notify()
}

// Size returns the terminal's size in cells.
func (t *Terminal) Size() (cols, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.vt.cols, t.vt.rows
}

// Render returns the current screen as exactly rows lines of cols cells,
// joined by "\n", with SGR sequences for colours and attributes; a line
// that changes style ends with a reset, a plain line carries none.
func (t *Terminal) Render() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	t.vt.render(&b)
	return b.String()
}

// ScrollbackLen returns how many lines the scrollback holds (none while
// the alternate screen is up).
func (t *Terminal) ScrollbackLen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.vt.buf.sbLen()
}

// RenderScrolled is Render for a view scrolled offset lines back into the
// scrollback; 0 is the live screen, and offset is clamped to ScrollbackLen.
func (t *Terminal) RenderScrolled(offset int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	t.vt.renderScrolled(&b, offset)
	return b.String()
}

// String returns the screen as plain text: no styling, trailing blanks of
// each line and trailing empty lines dropped. Tests compare it.
func (t *Terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.vt.text()
}

// Write feeds p to the screen as if the application had written it (a
// replay, a test). Replies to queries still go to the Conn, if any.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.vt.write(p)
	t.gen++
	t.mu.Unlock()
	t.notify()
	return len(p), nil
}

// Cursor returns the cursor position (0-based cell) and whether the
// application wants it shown (mode 25).
func (t *Terminal) Cursor() (x, y int, visible bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.vt.x, t.vt.y, !t.vt.cursorHidden
}

// Title returns the window title the application set (OSC 0 or 2).
func (t *Terminal) Title() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.vt.title
}

// AltScreen reports whether the alternate screen is active (vi, top).
func (t *Terminal) AltScreen() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.vt.altActive
}

// Updates signals that the screen changed. It is buffered(1) and sent
// without blocking, so many reads collapse into one pending signal: redraw
// on it at a bounded frame rate, never once per read.
func (t *Terminal) Updates() <-chan struct{} { return t.updates }

// Done is closed when the stream ends: the started command exited, or the
// console was closed.
func (t *Terminal) Done() <-chan struct{} { return t.done }

// Err says how the stream ended once Done is closed: nil for a clean exit
// or end of stream, an *ExitError for a command that exited non-zero or was
// killed.
func (t *Terminal) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Close hangs up the stream. For a command started with Start it waits up
// to two seconds for the command to exit on the hangup, then kills it, so
// no process outlives its pane.
func (t *Terminal) Close() error {
	t.mu.Lock()
	c, cmd := t.conn, t.cmd
	t.mu.Unlock()
	if c == nil {
		t.stopOnce.Do(func() { close(t.stop) })
		return nil
	}
	err := c.Close()
	if cmd != nil {
		select {
		case <-t.done:
		case <-time.After(2 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-t.done
		}
	}
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("close terminal: %w", err)
	}
	return nil
}
