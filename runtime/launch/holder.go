// The holder's life: from stage0's started init to the running state, then
// waiting for the init and recording how it ended. How it serves the console
// to clients is in holder_console.go.

package launch

import (
	"encoding/json"
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

	"golang.org/x/sys/unix"
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
