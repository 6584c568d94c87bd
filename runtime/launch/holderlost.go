package launch

import (
	"errors"
	"fmt"
	"os"

	"boxtui/runtime/events"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

// holderAlive says whether the holder a state names still runs: the same
// start time, and not a zombie.
func holderAlive(st state.State) bool {
	return st.HolderPID > 0 && procfs.LiveStartTime(st.HolderPID) == st.HolderStart
}

// noteHolderLost records, once, that a running container's holder died: its
// console is gone, the container lives on. It is called where a console is
// needed and found unreachable (whyNoConsole), never by a scan: scans only
// read. The state's holder PID is cleared under the state's lock, so of all
// the boxtui processes that find the holder gone, one writes the event.
// Only root can write state; others just report the console lost.
func noteHolderLost(st state.State) {
	if os.Geteuid() != 0 || st.HolderPID <= 0 {
		return
	}
	first := false
	err := state.Update(st.Name, func(cur *state.State) error {
		if cur.HolderPID != st.HolderPID || cur.HolderStart != st.HolderStart || cur.InitPID != st.InitPID {
			return errAlreadyNoted
		}
		cur.HolderPID, cur.HolderStart = 0, 0
		first = true
		return nil
	})
	if err == nil && first {
		_ = events.RecordKey(st.Name, events.HolderLost, fmt.Sprintf("holder pid %d is gone: the console is lost, the container runs on", st.HolderPID), "")
	}
}

var errAlreadyNoted = errors.New("already noted")
