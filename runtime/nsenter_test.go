package runtime

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestOpenEntryRefusesAPartialJoin: when one namespace link of the target
// cannot be read (it read as 0), OpenEntry must refuse rather than join the
// others and leave that one out, as fastexec.c declines.
func TestOpenEntryRefusesAPartialJoin(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: opens another process's namespaces")
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	start, err := ProcessStartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { readTargetNamespaces = ReadNamespaces })
	readTargetNamespaces = func(pid int) (NSSet, error) {
		s, err := ReadNamespaces(pid)
		s[NSMnt] = 0 // as if /proc/PID/ns/mnt could not be read
		return s, err
	}
	e, err := OpenEntry(pid, start, EntryOptions{})
	if err == nil {
		e.Close()
		t.Fatal("OpenEntry joined the other namespaces of a process whose mnt link could not be read")
	}
	if !strings.Contains(err.Error(), "mnt namespace") || errors.Is(err, ErrNoProcess) {
		t.Fatalf("error %q: want one naming the unreadable mnt namespace", err)
	}
}
