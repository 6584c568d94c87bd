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

	"boxtui/runtime"
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
// Read returns the container's output (starting with a replay of recent
// output) and io.EOF once the container exited or the holder went away;
// ExitStatus then says which. Write sends input. It is safe to Read from
// one goroutine while others Write and Resize.
type Console struct {
	conn *net.UnixConn
	name string

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
	if err := runtime.ValidateName(name); err != nil {
		return nil, err
	}
	path := runtime.ConsoleSocket(name)
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errConnRefused) {
			if st, serr := runtime.LoadState(name); serr == nil && st.Status == runtime.StatusExited {
				return nil, fmt.Errorf("container %q: %w (it exited; `boxtui rm %s` removes it)", name, runtime.ErrNotRunning, name)
			} else if serr != nil {
				return nil, fmt.Errorf("attach %q: %w", name, serr)
			}
			return nil, fmt.Errorf("attach %q: %w", name, ErrConsoleLost)
		}
		return nil, fmt.Errorf("connect to the console of %q: %w", name, err)
	}
	// Wait to be registered (or refused): only then is every later byte of
	// output, and the exit status, ours.
	typ, p, err := readFrame(conn, nil)
	switch {
	case err != nil:
		conn.Close()
		if st, serr := runtime.LoadState(name); serr == nil && st.Status == runtime.StatusExited {
			return nil, fmt.Errorf("container %q: %w (it exited; `boxtui rm %s` removes it)", name, runtime.ErrNotRunning, name)
		}
		return nil, fmt.Errorf("attach %q: %w", name, ErrConsoleLost)
	case typ == frameError:
		conn.Close()
		return nil, fmt.Errorf("attach %q: %s", name, p)
	case typ != frameHello:
		conn.Close()
		return nil, fmt.Errorf("attach %q: unexpected console frame %q", name, typ)
	}
	return &Console{conn: conn, name: name, buf: make([]byte, 32<<10)}, nil
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
		typ, payload, err := readFrame(c.conn, c.buf)
		if err != nil {
			if c.status == nil {
				c.err = ErrConsoleLost
				if errors.Is(err, net.ErrClosed) {
					c.err = io.EOF
				}
			} else {
				c.err = io.EOF
			}
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
	for off := 0; off < len(p); {
		n := min(len(p)-off, 32<<10)
		if err := writeFrame(c.conn, frameInput, p[off:off+n]); err != nil {
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
	if err := writeFrame(c.conn, frameResize, encodeSize(rows, cols)); err != nil {
		return fmt.Errorf("resize the console of %q: %w", c.name, err)
	}
	return nil
}

// CloseWrite tells nothing to the container (a console has no EOF of its
// own); it is here so callers can treat Console like a net.Conn.
func (c *Console) CloseWrite() error { return nil }

// Close disconnects; the container keeps running.
func (c *Console) Close() error { return c.conn.Close() }

// Size is a terminal size.
type Size struct{ Rows, Cols int }

// AttachOptions tunes Attach.
type AttachOptions struct {
	// DetachKeys end the attachment and leave the container running;
	// nil means DefaultDetachKeys, empty (non-nil) disables detaching.
	DetachKeys []byte
	// SendEOF, when in reaches EOF, sends end-of-file to the console as a
	// terminal would (^D), for stdin that is a pipe or a file.
	SendEOF bool
}

// Attach dials the console of name and relays it; see AttachConsole.
func Attach(name string, in io.Reader, out io.Writer, resize <-chan Size, opts AttachOptions) (*ExitStatus, error) {
	c, err := DialConsole(name)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return AttachConsole(c, in, out, resize, opts)
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
