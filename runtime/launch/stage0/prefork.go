package stage0

import (
	"os"
	"sync"
	"syscall"
)

// Prefork is a holder that prefork.c started before the client's Go
// runtime, waiting for its config. Its fds in the holder are those of a
// spawned one (3 reports, 4 go pipe) plus 5, the config pipe, and 6, the
// holder's end of Console.
type Prefork struct {
	PID    int
	Config *os.File // write EncodePreforkConfig's bytes, then close
	Report *os.File // the holder's reports, as from a spawned holder
	Go     *os.File // the go pipe, as for a spawned holder
	// Console is connected to the holder, which registers it as a console
	// client before it does anything else: unlike a client that dials the
	// console socket, this one needs no hello before it lets the command
	// start, since no output can reach the holder before it is registered.
	Console *os.File
}

var prefork struct {
	sync.Mutex
	taken bool
}

// TakePrefork hands the preforked holder to its one user, the first launch
// of this process; nil when there is none (not `boxtui run`, no cgo,
// BOXTUI_PREFORK=0, or already taken).
func TakePrefork() *Prefork {
	prefork.Lock()
	defer prefork.Unlock()
	if prefork.taken {
		return nil
	}
	prefork.taken = true
	pid, cfg, rep, gop, con := preforked()
	if pid <= 0 {
		return nil
	}
	return &Prefork{
		PID:     pid,
		Config:  os.NewFile(uintptr(cfg), "holder config"),
		Report:  os.NewFile(uintptr(rep), "holder report"),
		Go:      os.NewFile(uintptr(gop), "go"),
		Console: os.NewFile(uintptr(con), "console"),
	}
}

// DiscardPrefork ends a preforked holder nobody took: closing its config
// pipe makes it exit without doing anything, and waiting for that means a
// `boxtui run` that failed leaves no process behind, not even briefly.
func DiscardPrefork() {
	p := TakePrefork()
	if p == nil {
		return
	}
	p.Config.Close()
	p.Report.Close()
	p.Go.Close()
	p.Console.Close()
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(p.PID, &ws, 0, nil); err != syscall.EINTR {
			return
		}
	}
}
