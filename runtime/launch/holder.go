package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	boxpty "boxtui/pty"
	"boxtui/runtime/events"
	"boxtui/runtime/launch/stage0"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
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

// Messages on the init's ready pipe (fd 3 of the init).
const (
	initReady = stage0.InitReady
	initAbort = stage0.InitAbort
	initError = stage0.InitError
)

// holderMain is the main part of the __boxtui-holder stage. It runs
// setsid'd with fd 3 the report pipe to the client; its early part (package
// stage0) has already opened the console and started the init.
func holderMain(args []string) int {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix(fmt.Sprintf("holder[%d] ", os.Getpid()))
	early := stage0.Early
	if early == nil && len(args) == 1 && args[0] == "-" {
		early = stage0.StartPreforked()
	}
	if early == nil {
		log.Print("holder stage: the early part did not run")
		return 2
	}
	if early.Err != nil && early.Config.Name == "" {
		// Not started by a client (no pipes, no config): there is no
		// report pipe to answer on and no state to remove.
		log.Print(early.Err)
		return 2
	}
	// The holder has no terminal (setsid), but a stray hangup from a
	// session it once belonged to must not end it, nor the loss of a reader.
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE, syscall.SIGINT, syscall.SIGQUIT)
	// The holder's live heap is small (the console's screen and the
	// clients' queues) and it allocates little once its scrollback is
	// full: a lower GC target keeps it small after a flood for little CPU.
	debug.SetGCPercent(25)
	h := newHolder(early.Config, os.NewFile(3, "report"))
	return h.run(early)
}

type holder struct {
	cfg    holderConfig
	report *os.File

	master *os.File
	ln     *net.UnixListener

	mu      sync.Mutex
	cond    *sync.Cond // on mu: a stream client caught up or left
	screen  *boxpty.Screen
	written bool // the console has written something
	clients map[*consoleClient]bool
	exited  bool
	writers sync.WaitGroup // client writers, waited for before exiting
}

func newHolder(cfg holderConfig, report *os.File) *holder {
	rows, cols := cfg.Rows, cfg.Cols
	if rows <= 0 || cols <= 0 {
		rows, cols = 24, 80 // as stage0 sizes the PTY
	}
	h := &holder{cfg: cfg, report: report, screen: boxpty.NewScreen(cols, rows, screenHistory)}
	h.cond = sync.NewCond(&h.mu)
	return h
}

func (h *holder) send(r holderReport) {
	if h.report == nil {
		return
	}
	b, _ := json.Marshal(r)
	b = append(b, '\n')
	// The client may be gone (killed after the launch): EPIPE is fine.
	h.report.Write(b)
}

// fail reports a launch failure to the client after removing the state, so
// that the name is free by the time the client returns the error.
func (h *holder) fail(err error) int {
	log.Print(err)
	h.close()
	state.RemoveClaimed(h.cfg.Name, h.cfg.ClientPID, h.cfg.ClientStart)
	h.send(holderReport{Error: err.Error()})
	return 1
}

func (h *holder) close() {
	if h.ln != nil {
		h.ln.Close()
	}
	if h.master != nil {
		h.master.Close()
	}
}

func (h *holder) run(early *stage0.Holder) int {
	name := h.cfg.Name
	if early.Err != nil {
		h.master = early.Master
		return h.fail(early.Err)
	}
	h.master = early.Master
	initPID, pidfd, readyR := early.InitPID, early.PidFD, early.ReadyR
	defer unix.Close(pidfd)
	initStart, err := procfs.StartTime(initPID)
	if err != nil {
		log.Printf("read start time of init %d: %v", initPID, err)
	}

	// The launching client's own connection (preforked holders only) is
	// registered before any output is read or the init reaped: that is
	// what lets it send the go byte without waiting for a hello.
	if early.Client != nil {
		if fc, err := net.FileConn(early.Client); err != nil {
			log.Printf("console connection of the client: %v", err)
		} else if conn, ok := fc.(*net.UnixConn); ok {
			h.addClient(conn)
		} else {
			fc.Close()
		}
		early.Client.Close()
	}
	// Output is read from the start: the init's error messages before exec
	// go to the ready pipe, but nothing on the console may ever block.
	outputDone := make(chan struct{})
	go func() {
		h.pumpOutput()
		close(outputDone)
	}()
	waitDone := make(chan ExitStatus, 1)
	go func() {
		ws, err := reap(initPID)
		waitDone <- exitStatusOf(ws, err)
	}()
	// The socket is made while the init starts up, off the critical path.
	// The client dials it only after the init reported ready.
	ln, err := listenConsole(name)
	if err != nil {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
		readyR.Close()
		<-waitDone
		return h.fail(err)
	}
	h.ln = ln

	msg, err := readInitMessage(readyR)
	if err != nil || msg[0] != initReady {
		readyR.Close()
		<-waitDone
		return h.fail(initFailure(name, msg, err))
	}
	// A pipe keeps no message boundaries: when the go pipe closes at once
	// (the client was killed right after starting us), the init's abort
	// follows its ready byte so closely that one read returns both.
	pending := msg[1:]
	// Tell the client first: its Prepare and the state update below then
	// overlap. Run returns only after both (the "running" report).
	h.send(holderReport{InitPID: initPID, InitStart: initStart})
	go h.serve()
	// The state says running from here: the init exists in its namespaces
	// and can be listed and killed; if the launch is abandoned the state
	// goes away again.
	holderStart, _ := procfs.StartTime(os.Getpid())
	err = state.Update(name, func(st *state.State) error {
		if !st.ClaimedBy(h.cfg.ClientPID, h.cfg.ClientStart) {
			return fmt.Errorf("the name was claimed again: this launch's client died before it ran")
		}
		st.Status = state.StatusRunning
		st.InitPID, st.InitStart = initPID, initStart
		st.HolderPID, st.HolderStart = os.Getpid(), holderStart
		return nil
	})
	if err != nil {
		signals.Send(initPID, initStart, unix.SIGKILL)
		readyR.Close()
		<-waitDone
		return h.fail(fmt.Errorf("record the launch of %s: %w", name, err))
	}

	// The ready pipe is close-on-exec in the init: EOF without a message
	// means the command was exec'd.
	if len(pending) > 0 {
		msg, err = pending, nil
	} else {
		msg, err = readInitMessage(readyR)
	}
	readyR.Close()
	if err == nil {
		ps := <-waitDone
		log.Printf("launch abandoned: %q, init %v", msg, ps)
		h.mu.Lock()
		h.exited = true
		h.dropClientsLocked(nil)
		h.mu.Unlock()
		return h.fail(initFailure(name, msg, nil))
	}
	// The started event first: a client told "running" (run -d returns)
	// may at once exec, whose fast path reads the history, or show it.
	if err := events.RecordStarted(name, fmt.Sprintf("init pid %d: %s", initPID, strings.Join(h.cfg.Command, " ")), initPID, initStart); err != nil {
		log.Printf("record %s event: %v", events.Started, err)
	}
	h.send(holderReport{Running: true})
	h.report.Close()
	h.report = nil

	status := <-waitDone
	// Every process of the PID namespace died with its init, so the slave
	// side closes and the pump reaches EOF; do not hang if something outside
	// the namespace (an exec'd shell's child that escaped) still holds it.
	select {
	case <-outputDone:
	case <-time.After(500 * time.Millisecond):
	}
	h.finish(status)
	return 0
}

// recordEvent adds to a container's history; history is informative, and
// failing to write it never fails the launch or the holder.
func recordEvent(name, kind, detail, by string) {
	if err := events.RecordKey(name, kind, detail, by); err != nil {
		log.Printf("record %s event: %v", kind, err)
	}
}

// recordExit writes how the container ended. A death by signal that no
// boxtui kill announced was someone else's doing, and says so. Execs whose
// client died (SIGKILL) before it recorded their end are closed first:
// every process of the container has ended with it.
func recordExit(name string, status ExitStatus) {
	evs, _ := events.ReadAsWritten(name)
	announced := len(evs) > 0 && evs[len(evs)-1].Kind == events.Killed
	for _, e := range events.OrphanedExecs(evs) {
		recordEvent(name, e.Kind, e.Detail, "boxtui run")
	}
	if status.Signal != "" && !announced {
		recordEvent(name, events.Killed, "SIG"+status.Signal+" to the init", "other")
	}
	recordEvent(name, events.Exited, status.String(), "")
}

// finish records how the container ended, tells every client, and removes
// the state if asked to.
func (h *holder) finish(status ExitStatus) {
	name := h.cfg.Name
	h.ln.Close()
	if h.cfg.Remove {
		if err := state.RemoveClaimed(name, h.cfg.ClientPID, h.cfg.ClientStart); err != nil {
			log.Printf("remove state: %v", err)
		}
	} else {
		recordExit(name, status)
		err := state.Update(name, func(st *state.State) error {
			st.Status = state.StatusExited
			st.Exited = time.Now()
			code := status.Code
			st.ExitCode = nil
			st.ExitSignal = status.Signal
			if status.Signal == "" {
				st.ExitCode = &code
			}
			return nil
		})
		if err != nil {
			log.Printf("record exit: %v", err)
		}
		os.Remove(state.ConsoleSocket(name))
	}
	h.mu.Lock()
	h.exited = true
	h.dropClientsLocked(&status)
	h.mu.Unlock()
	h.master.Close()
	// Let every client get its last output and the exit status; a client
	// that does not read is not worth waiting long for.
	flushed := make(chan struct{})
	go func() {
		h.writers.Wait()
		close(flushed)
	}()
	select {
	case <-flushed:
	case <-time.After(2 * time.Second):
	}
}

func readInitMessage(r io.Reader) ([]byte, error) {
	buf := make([]byte, 4096)
	n, err := r.Read(buf)
	if n > 0 {
		return buf[:n], nil
	}
	if err == nil {
		err = io.EOF
	}
	return nil, err
}

func initFailure(name string, msg []byte, err error) error {
	switch {
	case len(msg) > 0 && msg[0] == initError:
		return fmt.Errorf("start %s: %s", name, msg[1:])
	case len(msg) > 0 && msg[0] == initAbort:
		return fmt.Errorf("start %s: launch abandoned before the command started", name)
	case err != nil:
		return fmt.Errorf("start %s: the init stage died before it was ready", name)
	}
	return fmt.Errorf("start %s: unexpected message %q from the init stage", name, msg)
}

func exitStatusOf(ws syscall.WaitStatus, err error) ExitStatus {
	switch {
	case err != nil:
		return ExitStatus{Code: 255, Signal: "unknown"}
	case ws.Signaled():
		return ExitStatus{Code: 128 + int(ws.Signal()), Signal: signals.Name(unix.Signal(ws.Signal()))}
	}
	return ExitStatus{Code: ws.ExitStatus()}
}

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
