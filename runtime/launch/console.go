package launch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"boxtui/runtime/discovery"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"
)

// ErrConsoleLost is returned when a container's holder is gone: the
// container may still run (list it, kill it), but its console is lost.
var ErrConsoleLost = errors.New("console lost: the container's holder process is gone")

// ErrDetached is returned by Attach when the user typed the detach keys.
var ErrDetached = errors.New("detached")

// errInputDone says the input side of an attachment reached its end.
var errInputDone = errors.New("input done")

var errConnRefused = syscall.ECONNREFUSED

// DefaultDetachKeys is ctrl+p ctrl+q, as docker.
var DefaultDetachKeys = []byte{0x10, 0x11}

// Console is a connection to a container's console, served by its holder.
// Read returns the container's output (starting with its recent lines, or
// for a screen client its current screen) and io.EOF once the container
// exited; ErrConsoleLost once its holder is gone, or an error saying what
// broke while the holder runs (a screen client dials again instead).
// ExitStatus says how it ended. Write sends input. It is safe to Read from
// one goroutine while others Write and Resize.
type Console struct {
	name string

	// cmu guards conn, which a reconnect replaces.
	cmu    sync.Mutex
	conn   *net.UnixConn
	closed bool

	// A screen client (Screen) whose connection breaks while the holder
	// still runs dials again by itself (redial), says so through notify,
	// and gets the current screen back.
	redial bool
	screen bool
	size   Size
	notify func(error)

	wmu sync.Mutex
	// gate, if set, lets input through only while it returns true: an own
	// holder's client stops sending once its caller is gone (own.go).
	gate func() bool

	rmu     sync.Mutex
	pending []byte
	buf     []byte
	status  *ExitStatus
	err     error
}

// DialConsole connects to the console of the boxtui container name.
func DialConsole(name string) (*Console, error) {
	if err := state.ValidateName(name); err != nil {
		return nil, err
	}
	conn, err := dialHolder(name)
	if err != nil {
		return nil, err
	}
	return &Console{conn: conn, name: name, buf: make([]byte, 32<<10), redial: true}, nil
}

// dialHolder connects to the holder of name and waits to be registered.
func dialHolder(name string) (*net.UnixConn, error) {
	path := state.ConsoleSocket(name)
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errConnRefused) {
			return nil, whyNoConsole(name, fmt.Errorf("the console socket %s: %w", path, err))
		}
		return nil, fmt.Errorf("connect to the console of %q: %w", name, err)
	}
	// Wait to be registered (or refused): only then is every later byte of
	// output, and the exit status, ours.
	typ, p, err := readFrame(conn, nil)
	switch {
	case err != nil:
		conn.Close()
		return nil, whyNoConsole(name, fmt.Errorf("the holder hung up before registering this client: %w", err))
	case typ == frameError:
		conn.Close()
		return nil, fmt.Errorf("attach %q: %s", name, p)
	case typ != frameHello:
		conn.Close()
		return nil, fmt.Errorf("attach %q: unexpected console frame %q", name, typ)
	}
	return conn, nil
}

// whyNoConsole says why the console of name cannot be reached, from its
// state and its holder process: the container exited, its holder is gone
// (the console is lost), or the holder runs and cause is what went wrong.
func whyNoConsole(name string, cause error) error {
	st, err := state.Load(name)
	switch {
	case err != nil:
		return fmt.Errorf("attach %q: %w", name, err)
	case st.Status == state.StatusExited:
		return fmt.Errorf("container %q: %w (it exited; `boxtui rm %s` removes it)", name, discovery.ErrNotRunning, name)
	case !holderAlive(st):
		noteHolderLost(st)
		return fmt.Errorf("attach %q: %w", name, ErrConsoleLost)
	}
	return fmt.Errorf("attach %q: %w (its holder, pid %d, still runs)", name, cause, st.HolderPID)
}

// consoleFromPrefork makes a Console of the connection prefork.c made
// between this client and its holder, which registers it before anything
// else: so, unlike DialConsole, it need not wait for the hello frame.
func consoleFromPrefork(f *os.File, name string) (*Console, error) {
	defer f.Close()
	fc, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("console of %q: %w", name, err)
	}
	conn, ok := fc.(*net.UnixConn)
	if !ok {
		fc.Close()
		return nil, fmt.Errorf("console of %q: not a unix socket", name)
	}
	return &Console{conn: conn, name: name, buf: make([]byte, 32<<10)}, nil
}

// Screen makes this a screen client of rows x cols (a terminal, which the
// holder skips ahead to the current screen rather than wait for), sets the
// console's size, and with redraw has the holder send the current screen
// now, in place of anything queued. notify, if not nil, is told when a
// broken connection was dialled again (a screen client reconnects by
// itself while the holder runs).
func (c *Console) Screen(rows, cols int, redraw bool, notify func(error)) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.screen, c.size, c.notify = true, Size{Rows: rows, Cols: cols}, notify
	if err := writeFrame(c.getConn(), frameScreen, encodeScreen(rows, cols, redraw)); err != nil {
		return fmt.Errorf("console of %q: %w", c.name, err)
	}
	return nil
}

func (c *Console) getConn() *net.UnixConn {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	return c.conn
}

// Name is the container's name.
func (c *Console) Name() string { return c.name }

// Read reads container output.
func (c *Console) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		typ, payload, err := readFrame(c.getConn(), c.buf)
		if err != nil {
			c.err = c.broken(err)
			continue
		}
		switch typ {
		case frameOutput:
			c.pending = payload
		case frameExit:
			st, err := decodeExit(payload)
			if err != nil {
				c.err = err
				continue
			}
			c.status = &st
			c.err = io.EOF
		case frameError:
			c.err = fmt.Errorf("console of %q: %s", c.name, payload)
		case frameHello:
			// A preforked client's connection is registered without
			// waiting for this (see consoleFromPrefork): skip it.
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// broken decides what a read error means: the end (the exit status came,
// or Close was called), a console lost with its holder, or a connection
// that broke while the holder runs, which a screen client dials again.
// It returns nil once reconnected.
func (c *Console) broken(err error) error {
	c.cmu.Lock()
	closed := c.closed
	c.cmu.Unlock()
	if c.status != nil || closed || errors.Is(err, net.ErrClosed) {
		return io.EOF
	}
	if !c.redial {
		return ErrConsoleLost
	}
	st, serr := state.Load(c.name)
	switch {
	case serr != nil:
		return ErrConsoleLost
	case st.Status == state.StatusExited:
		c.status = exitOf(st)
		return io.EOF
	case !holderAlive(st):
		return ErrConsoleLost
	}
	why := fmt.Errorf("the connection to the holder (pid %d) broke: %v", st.HolderPID, err)
	c.wmu.Lock()
	screen := c.screen
	c.wmu.Unlock()
	if !screen {
		// A stream client reconnected would get recent output again:
		// say what happened instead.
		return fmt.Errorf("console of %q: %w; `boxtui attach %s` reconnects", c.name, why, c.name)
	}
	// Dial again for a while: the holder runs, so the break was ours.
	deadline := time.Now().Add(10 * time.Second)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		conn, derr := dialHolder(c.name)
		if derr == nil {
			c.wmu.Lock()
			c.cmu.Lock()
			old := c.conn
			c.conn = conn
			closed := c.closed
			c.cmu.Unlock()
			old.Close()
			if closed {
				conn.Close()
				c.wmu.Unlock()
				return io.EOF
			}
			werr := writeFrame(conn, frameScreen, encodeScreen(c.size.Rows, c.size.Cols, true))
			notify := c.notify
			c.wmu.Unlock()
			if werr != nil {
				continue
			}
			if notify != nil {
				notify(why)
			}
			return nil
		}
		st, serr := state.Load(c.name)
		switch {
		case serr != nil:
			return ErrConsoleLost
		case st.Status == state.StatusExited:
			c.status = exitOf(st)
			return io.EOF
		case !holderAlive(st):
			return ErrConsoleLost
		case time.Now().After(deadline):
			return fmt.Errorf("console of %q: %w, and dialling it again failed: %v; `boxtui attach %s` tries again", c.name, why, derr, c.name)
		}
		time.Sleep(wait)
	}
}

// exitOf reads how a container ended from its state.
func exitOf(st state.State) *ExitStatus {
	s := &ExitStatus{Signal: st.ExitSignal}
	if st.ExitCode != nil {
		s.Code = *st.ExitCode
	} else if st.ExitSignal != "" {
		if sig, err := signals.Parse(st.ExitSignal); err == nil {
			s.Code = 128 + int(sig)
		}
	}
	return s
}

// ExitStatus returns how the container ended, once Read has returned
// io.EOF because it did; nil while it runs or when the holder vanished.
func (c *Console) ExitStatus() *ExitStatus {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.status
}

// Write sends input to the container's console.
func (c *Console) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.gate != nil && !c.gate() {
		return 0, fmt.Errorf("write to the console of %q: %w", c.name, net.ErrClosed)
	}
	conn := c.getConn()
	for off := 0; off < len(p); {
		n := min(len(p)-off, 32<<10)
		if err := writeFrame(conn, frameInput, p[off:off+n]); err != nil {
			return off, fmt.Errorf("write to the console of %q: %w", c.name, err)
		}
		off += n
	}
	return len(p), nil
}

// Resize sets the console's window size. The last client to resize wins.
func (c *Console) Resize(rows, cols int) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.size = Size{Rows: rows, Cols: cols}
	if err := writeFrame(c.getConn(), frameResize, encodeSize(rows, cols)); err != nil {
		return fmt.Errorf("resize the console of %q: %w", c.name, err)
	}
	return nil
}

// CloseWrite tells nothing to the container (a console has no EOF of its
// own); it is here so callers can treat Console like a net.Conn.
func (c *Console) CloseWrite() error { return nil }

// Close disconnects; the container keeps running.
func (c *Console) Close() error {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	c.closed = true
	return c.conn.Close()
}

// Size is a terminal size.
type Size struct{ Rows, Cols int }

// AttachOptions tunes AttachConsole.
type AttachOptions struct {
	// DetachKeys end the attachment and leave the container running;
	// nil means DefaultDetachKeys, empty (non-nil) disables detaching.
	DetachKeys []byte
	// SendEOF, when in reaches EOF, sends end-of-file to the console as a
	// terminal would (^D), for stdin that is a pipe or a file.
	SendEOF bool
}

// AttachConsole relays in to the console and the console to out, and
// applies sizes from resize, until the container exits (it returns its
// status), the detach keys are typed (ErrDetached) or the holder goes
// away (ErrConsoleLost). It does not close c.
func AttachConsole(c *Console, in io.Reader, out io.Writer, resize <-chan Size, opts AttachOptions) (*ExitStatus, error) {
	keys := opts.DetachKeys
	if keys == nil {
		keys = DefaultDetachKeys
	}
	done := make(chan error, 2)
	go func() {
		_, err := io.Copy(out, c)
		done <- err
	}()
	stop := make(chan struct{})
	defer close(stop)
	if resize != nil {
		go func() {
			for {
				select {
				case s, ok := <-resize:
					if !ok {
						return
					}
					c.Resize(s.Rows, s.Cols)
				case <-stop:
					return
				}
			}
		}()
	}
	if in != nil {
		go func() {
			done <- relayInput(c, in, keys, opts.SendEOF)
		}()
	}
	err := <-done
	if err == errInputDone {
		err = <-done
	}
	if errors.Is(err, ErrDetached) {
		return nil, ErrDetached
	}
	if err != nil {
		return nil, err
	}
	// io.Copy returned nil: the output ended with io.EOF.
	if st := c.ExitStatus(); st != nil {
		return st, nil
	}
	return nil, ErrConsoleLost
}

// relayInput copies in to the console and watches for the detach keys.
// A partial match at the end of a read is held back until the next read
// decides it.
func relayInput(c *Console, in io.Reader, keys []byte, sendEOF bool) error {
	buf := make([]byte, 32<<10)
	var held []byte
	last := byte('\n')
	for {
		n, err := in.Read(buf)
		if n > 0 {
			data := append(held, buf[:n]...)
			held = nil
			if len(keys) > 0 {
				if i := bytes.Index(data, keys); i >= 0 {
					if i > 0 {
						c.Write(data[:i])
					}
					return ErrDetached
				}
				for k := len(keys) - 1; k > 0; k-- {
					if bytes.HasSuffix(data, keys[:k]) {
						held = append([]byte(nil), data[len(data)-k:]...)
						data = data[:len(data)-k]
						break
					}
				}
			}
			if len(data) > 0 {
				if _, werr := c.Write(data); werr != nil {
					return nil // the output side reports why
				}
				last = data[len(data)-1]
			}
		}
		if err != nil {
			if len(held) > 0 {
				c.Write(held)
				last = held[len(held)-1]
			}
			if sendEOF {
				// In canonical mode ^D ends a pending line first, and only
				// a ^D at the start of a line is end-of-file.
				eof := []byte{0x04}
				if last != '\n' {
					eof = []byte{0x04, 0x04}
				}
				c.Write(eof)
			}
			// Input is done; output goes on until the container exits.
			return errInputDone
		}
	}
}
