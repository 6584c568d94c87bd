package runtime

import (
	"errors"
	"fmt"
	"os"
)

// noteHolderLost records, once, that a running container's holder died: its
// console is gone, the container lives on. The state's holder PID is
// cleared under the lock, so only one scan (of any boxtui process) writes
// the event. Only root can write state; others just see HolderPID 0.
func noteHolderLost(c Container, st State) {
	if os.Geteuid() != 0 {
		return
	}
	first := false
	err := UpdateState(st.Name, func(cur *State) error {
		if cur.HolderPID != st.HolderPID || cur.InitPID != st.InitPID {
			return errAlreadyNoted
		}
		cur.HolderPID, cur.HolderStart = 0, 0
		first = true
		return nil
	})
	if err == nil && first {
		_ = RecordEvent(c, EventHolderLost, fmt.Sprintf("holder pid %d is gone: the console is lost, the container runs on", st.HolderPID), "")
	}
}

var errAlreadyNoted = errors.New("already noted")
