package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// ShutdownConns shuts down every connected socket of pid (not a listener),
// through copies taken with pidfd_getfd, and returns how many: a connection
// that breaks under a process that still runs.
func ShutdownConns(t testing.TB, pid int) int {
	t.Helper()
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		link, _ := os.Readlink(filepath.Join(dir, e.Name()))
		if !strings.HasPrefix(link, "socket:") {
			continue
		}
		num, _ := strconv.Atoi(e.Name())
		fd, err := unix.PidfdGetfd(pidfd, num, 0)
		if err != nil {
			t.Fatalf("pidfd_getfd %d: %v", num, err)
		}
		if listening, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); listening == 0 {
			if unix.Shutdown(fd, unix.SHUT_RDWR) == nil {
				n++
			}
		}
		unix.Close(fd)
	}
	return n
}
