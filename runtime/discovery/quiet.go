package discovery

import (
	"bytes"
	"os"
	"strconv"

	"boxtui/runtime/procfs"
)

// maxQuiet bounds how many passes in a row skip the /proc listing, so even
// a change the last-PID check could not see shows within that many
// refreshes.
const maxQuiet = 15

// quietSinceLastPass reports whether no process can have appeared since the
// last full pass, so the pass may reread the processes it found instead of
// listing /proc. The kernel gives every new process (and thread) the next
// PID of every PID namespace it is visible in, and /proc/loadavg shows the
// last one given in boxtui's: while it stands still, nothing was created.
// Nothing can join a PID namespace or get a recycled PID without being
// created, and processes that exit or exec are seen by rereading their stat
// lines. The full pass must have read the same last PID twice in a row: a
// fork that took its PID just before the first read may not have been in
// /proc yet when that pass listed it; a second later it is.
func (s *Scanner) quietSinceLastPass() bool {
	if s.oneShot {
		return false
	}
	last, ok := s.lastAllocatedPID()
	if ok && s.listed && last == s.lastPID && s.calm >= 2 && s.quiet < maxQuiet {
		s.quiet++
		return true
	}
	switch {
	case !ok:
		s.calm = 0
	case last == s.lastPID && s.listed:
		s.calm++
	default:
		s.calm = 1
	}
	s.lastPID, s.quiet = last, 0
	return false
}

// lastAllocatedPID reads the last field of /proc/loadavg: the PID most
// recently handed out in the reader's PID namespace. It is only a measure of
// what s.proc lists when that procfs belongs to boxtui's own PID namespace,
// which /proc/self naming boxtui's PID proves.
func (s *Scanner) lastAllocatedPID() (int, bool) {
	if s.ownProc == 0 {
		s.ownProc = -1
		if self, err := os.Readlink(s.proc + "/self"); err == nil && self == strconv.Itoa(os.Getpid()) {
			s.ownProc = 1
		}
	}
	if s.ownProc < 0 {
		return 0, false
	}
	var b [128]byte
	buf := b[:0]
	data, err := procfs.ReadFileInto(s.proc+"/loadavg", &buf)
	if err != nil {
		return 0, false
	}
	data = bytes.TrimSpace(data)
	return procfs.ParsePID(data[bytes.LastIndexByte(data, ' ')+1:])
}
