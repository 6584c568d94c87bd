package reexec

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseOnExecFrom marks every fd from `from` up close-on-exec, so that no fd
// of boxtui's caller reaches a process started in a container: one
// close_range, or where that fails each fd listed in /proc/self/fd. Its C
// twins are fastexec.c's cloexec_from and stage0's boxtui_close_fds.
func CloseOnExecFrom(from int) {
	if unix.CloseRange(uint(from), ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= from {
			unix.CloseOnExec(fd)
		}
	}
}
