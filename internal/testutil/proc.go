package testutil

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// CPUTicks is the user and system time pid has used, in clock ticks
// (USER_HZ, 100 a second), read from /proc/PID/stat: the figure a scan
// reads, for tests that check CPU accounting against the kernel.
func CPUTicks(t testing.TB, pid int) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	n, err := statTicks(data)
	if err != nil {
		t.Fatalf("/proc/%d/stat: %v", pid, err)
	}
	return n
}

// statTicks adds utime and stime (fields 14 and 15) of a stat line. The
// command name, field 2, may hold spaces and parentheses: the fields are
// counted from its last ')'.
func statTicks(data []byte) (uint64, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", data)
	}
	f := bytes.Fields(data[i+1:]) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want 13 or more", len(f))
	}
	var sum uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("utime/stime %q: %v", s, err)
		}
		sum += n
	}
	return sum, nil
}
