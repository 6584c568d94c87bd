// The holder's side of the console protocol (frame.go): the console's output
// to its screen and to every client, the socket, and what clients send back.

package launch

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"

	"boxtui/runtime/state"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

const (
	// screenHistory is how many lines that scrolled off the console's
	// screen the holder keeps: a client that attaches gets them for its
	// scrollback.
	screenHistory = 1000
	// screenBehind is how much output a screen client may have waiting
	// before it is skipped ahead to the current screen.
	screenBehind = 64 << 10
	// streamBehind is how much output a stream client may have waiting
	// before the holder stops reading the console until it catches up.
	streamBehind = 256 << 10
)

// pumpOutput feeds the console's output to the holder's screen and to
// every client until the container's side of the PTY is closed.
func (h *holder) pumpOutput() {
	buf := make([]byte, 32<<10)
	for {
		n, err := h.master.Read(buf)
		if n > 0 {
			h.mu.Lock()
			h.screen.Write(buf[:n])
			h.written = true
			for c := range h.clients {
				h.queueLocked(c, buf[:n])
			}
			// A stream client that fell too far behind holds the console
			// back until it catches up, as a pipe would.
			for h.streamBehindLocked() {
				h.cond.Wait()
			}
			h.mu.Unlock()
		}
		if err != nil {
			return // EIO once no process holds the slave
		}
	}
}

// queueLocked gives output to a client. A screen client that would fall
// more than screenBehind behind gets the current screen instead of what it
// missed: it is never waited for and never dropped.
func (h *holder) queueLocked(c *consoleClient, p []byte) {
	switch {
	case c.redraw >= 0:
		// The redraw, drawn when its writer gets to it, will show this.
		return
	case c.screen && len(c.pend)+len(p) > screenBehind:
		c.pend = c.pend[:0]
		c.redraw = screenHistory
		c.redraws++
	default:
		c.pend = append(c.pend, p...)
	}
	c.signal()
}

func (h *holder) streamBehindLocked() bool {
	for c := range h.clients {
		if !c.screen && len(c.pend) > streamBehind {
			return true
		}
	}
	return false
}

// consoleClient is one attached connection. Its fields but conn and wake
// are guarded by the holder's mutex.
type consoleClient struct {
	conn *net.UnixConn
	wake chan struct{} // buffered(1): there is something to write

	pend    []byte // output not yet written
	spare   []byte // the previous pend, for reuse
	screen  bool   // a terminal: skipped ahead, never waited for
	redraw  int    // history lines of a pending redraw, -1 for none
	redraws int    // how many times it was skipped ahead
	ending  bool   // flush pend, send status, close
	status  *ExitStatus
	gone    bool // the connection broke: stop at once
}

func (c *consoleClient) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (h *holder) serve() {
	for {
		conn, err := h.ln.AcceptUnix()
		if err != nil {
			return
		}
		if err := checkPeerRoot(conn); err != nil {
			log.Printf("refused console connection: %v", err)
			writeFrame(conn, frameError, []byte(err.Error()))
			conn.Close()
			continue
		}
		h.addClient(conn)
	}
}

// addClient registers a console connection: from now on it gets all
// output and, at the end, the exit status. It starts as a stream client
// whose first output is the console's recent lines; a terminal then says it
// is one (frameScreen) and gets the current screen instead.
func (h *holder) addClient(conn *net.UnixConn) {
	h.mu.Lock()
	if h.exited {
		h.mu.Unlock()
		conn.Close()
		return
	}
	c := &consoleClient{conn: conn, wake: make(chan struct{}, 1), redraw: -1}
	if h.clients == nil {
		h.clients = map[*consoleClient]bool{}
	}
	h.clients[c] = true
	// Taken under the same lock as live output, so the client sees recent
	// output and then new output, nothing twice.
	if h.written {
		c.pend = h.screen.AppendLines(nil, screenHistory)
	}
	h.mu.Unlock()
	h.writers.Add(1)
	go h.writeClient(c)
	go h.readClient(c)
}

// dropClientLocked ends a client: its writer sends what is queued and the
// status (if any), then closes the connection.
func (h *holder) dropClientLocked(c *consoleClient, status *ExitStatus) {
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	if c.redraws > 0 {
		log.Printf("console client %p: fell behind and was skipped ahead to the current screen %d times", c, c.redraws)
	}
	c.ending, c.status = true, status
	c.signal()
	h.cond.Broadcast()
}

func (h *holder) dropClientsLocked(status *ExitStatus) {
	for c := range h.clients {
		h.dropClientLocked(c, status)
	}
}

// brokenLocked ends a client whose connection broke.
func (h *holder) brokenLocked(c *consoleClient) {
	c.gone = true
	h.dropClientLocked(c, nil)
	c.signal()
}

func (h *holder) writeClient(c *consoleClient) {
	defer h.writers.Done()
	defer c.conn.Close()
	// The client waits for this before it lets a command start, so a
	// command that exits at once still finds it registered.
	if writeFrame(c.conn, frameHello, nil) != nil {
		h.mu.Lock()
		h.brokenLocked(c)
		h.mu.Unlock()
		return
	}
	for {
		h.mu.Lock()
		for !c.gone && !c.ending && c.redraw < 0 && len(c.pend) == 0 {
			h.mu.Unlock()
			<-c.wake
			h.mu.Lock()
		}
		if c.gone {
			h.mu.Unlock()
			return
		}
		var out []byte
		if c.redraw >= 0 {
			// Drawn now, under the lock: output from here on is queued
			// after it, so the client misses nothing that follows.
			out = h.screen.AppendSnapshot(c.spare[:0], c.redraw)
			c.spare, c.redraw, c.pend = nil, -1, c.pend[:0]
		} else {
			out, c.pend, c.spare = c.pend, c.spare[:0], nil
		}
		last := c.ending && len(c.pend) == 0 && c.redraw < 0
		status := c.status
		h.mu.Unlock()
		h.cond.Broadcast()
		for p := out; len(p) > 0; {
			n := min(len(p), maxFrame)
			if writeFrame(c.conn, frameOutput, p[:n]) != nil {
				h.mu.Lock()
				h.brokenLocked(c)
				h.mu.Unlock()
				return
			}
			p = p[n:]
		}
		h.mu.Lock()
		if cap(out) <= 2*screenBehind {
			c.spare = out[:0] // kept small: a big redraw is not kept
		}
		h.mu.Unlock()
		if last {
			if status != nil {
				writeFrame(c.conn, frameExit, encodeExit(*status))
			}
			return
		}
	}
}

func (h *holder) readClient(c *consoleClient) {
	buf := make([]byte, 32<<10)
	for {
		typ, p, err := readFrame(c.conn, buf)
		if err != nil {
			h.mu.Lock()
			h.brokenLocked(c)
			h.mu.Unlock()
			return
		}
		switch typ {
		case frameInput:
			if _, err := h.master.Write(p); err != nil && !errors.Is(err, os.ErrClosed) {
				log.Printf("write console input: %v", err)
			}
		case frameResize:
			// The latest client to ask decides the size.
			if rows, cols, err := decodeSize(p); err == nil && rows > 0 && cols > 0 {
				h.mu.Lock()
				h.resizeLocked(c, rows, cols)
				h.mu.Unlock()
			}
		case frameScreen:
			rows, cols, redraw, err := decodeScreen(p)
			if err != nil {
				continue
			}
			h.mu.Lock()
			c.screen = true
			if rows > 0 && cols > 0 {
				h.resizeLocked(c, rows, cols)
			}
			if redraw && h.written {
				// What was queued is replaced by the whole screen, with
				// the recent lines for the client's scrollback.
				c.redraw, c.pend = screenHistory, c.pend[:0]
				c.signal()
			}
			h.mu.Unlock()
			h.cond.Broadcast() // no longer a stream client to wait for
		}
	}
}

// resizeLocked sets the console's size. The client that asked, if it is a
// screen client, gets the screen redrawn at the new size: its own emulator
// and the holder's reflowed alike, but output drawn for the old size may
// have reached it after its resize.
func (h *holder) resizeLocked(c *consoleClient, rows, cols int) {
	if oc, or := h.screen.Size(); oc == cols && or == rows {
		return
	}
	pty.Setsize(h.master, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
	h.screen.Resize(cols, rows)
	if c.screen && h.written && c.redraw < 0 {
		c.redraw, c.pend = 0, c.pend[:0]
		c.signal()
	}
}

// listenConsole creates the console socket. Its directory is the state
// directory (0700, root's); the socket itself is 0600 and every peer is
// checked for uid 0, so the mode is a second fence, not the only one.
func listenConsole(name string) (*net.UnixListener, error) {
	path := state.ConsoleSocket(name)
	os.Remove(path)
	old := unix.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on console socket %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict console socket %s: %w", path, err)
	}
	return ln, nil
}

// checkPeerRoot refuses connections from anyone but root: the console is a
// root shell.
func checkPeerRoot(conn *net.UnixConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("read peer credentials: %w", credErr)
	}
	if cred.Uid != 0 {
		return fmt.Errorf("console of this container is root-only (peer uid %d)", cred.Uid)
	}
	return nil
}
