package stage0

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Own is a `boxtui run` client that is also its container's holder (see
// own_holder in prefork.c): the process the caller started only waits,
// and this one, its child, does the client's work and then holds the
// container, so a launch starts the Go runtime once instead of twice.
type Own struct {
	Config *os.File // write EncodePreforkConfig's bytes, then close: the zygote reads them
	Go     *os.File // the go pipe's write end, as from a spawned holder
	// Alive reaches EOF when the waiting process is gone (killed): the
	// client's part is over then, though the container runs on.
	Alive *os.File

	status *os.File
	z      zygote
	mu     sync.Mutex
	reaped bool
}

var own struct {
	sync.Mutex
	taken bool
	o     *Own
}

// TakeOwnHolder hands this process's own-holder setup to its one user,
// the first launch; nil when this process is not one, or it was taken.
func TakeOwnHolder() *Own {
	own.Lock()
	defer own.Unlock()
	if own.taken {
		return nil
	}
	own.taken = true
	own.o = ownStarted()
	return own.o
}

// StartInit waits for the zygote's reply to the config just sent: the
// init then runs, or the holder part has the reason it does not.
func (o *Own) StartInit() *Holder {
	if o.z.pid <= 0 {
		return &Holder{PidFD: -1, Err: fmt.Errorf("start the init: no zygote could be started for it")}
	}
	o.mu.Lock()
	o.reaped = true
	o.mu.Unlock()
	return startFromZygote(o.z, false)
}

// Abandon ends the zygote of a launch that never sent its config.
func (o *Own) Abandon() {
	o.Config.Close()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.reaped || o.z.pid <= 0 {
		return
	}
	o.reaped = true
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(o.z.pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	unix.Close(o.z.reply)
	unix.Close(o.z.master)
	unix.Close(o.z.ready)
}

// Exiting tells the waiting process this process's exit code and that it
// is exiting too: it waits for that, so nothing outlives it.
func (o *Own) Exiting(code int) { o.tell(code, 'X') }

// Release tells the waiting process the client's exit code and not to
// wait for this process, which stays on as the holder of a container that
// still runs (once that has exited, its end is for the host's PID 1 to
// reap: unavoidable for a process that outlives its parent). The caller's stdin,
// stdout and stderr are let go first, so that a pipe the caller reads ends
// with the client's part.
func (o *Own) Release(code int) {
	if null, err := unix.Open(os.DevNull, unix.O_RDWR, 0); err == nil {
		for fd := 0; fd <= 2; fd++ {
			unix.Dup2(null, fd)
		}
		unix.Close(null)
	}
	o.tell(code, 'D')
}

func (o *Own) tell(code int, how byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.status == nil {
		return
	}
	o.status.Write([]byte(strconv.Itoa(code) + "\n" + string(how)))
	o.status.Close()
	o.status = nil
}
