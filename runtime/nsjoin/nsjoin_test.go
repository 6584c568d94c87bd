package nsjoin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
)

// TestOpenEntryRefusesAPartialJoin: when one namespace link of the target
// cannot be read (it read as 0), Open must refuse rather than join the
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
	start, err := procfs.StartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { readTargetNamespaces = namespace.Read })
	readTargetNamespaces = func(pid int) (namespace.Set, error) {
		s, err := namespace.Read(pid)
		s[namespace.Mnt] = 0 // as if /proc/PID/ns/mnt could not be read
		return s, err
	}
	e, err := Open(pid, start, Options{})
	if err == nil {
		e.Close()
		t.Fatal("OpenEntry joined the other namespaces of a process whose mnt link could not be read")
	}
	if !strings.Contains(err.Error(), "mnt namespace") || errors.Is(err, procfs.ErrNoProcess) {
		t.Fatalf("error %q: want one naming the unreadable mnt namespace", err)
	}
}

// A process with its own user and time namespaces: Open refuses them
// unless the entry is for the enter stage (UserTime), whose default set
// then includes them, user given last; Do, a Go thread, refuses such an
// entry rather than join only the rest. A link of either that cannot be
// read refuses the entry, as for the others.
func TestOpenEntryUserAndTime(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: opens another process's namespaces")
	}
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--time", "--pid", "--fork", "--kill-child", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var pid int
	deadline := time.Now().Add(10 * time.Second)
	for pid == 0 && time.Now().Before(deadline) {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
		if pid > 0 {
			if ns, _ := namespace.Read(pid); ns[namespace.User] == namespace.Host()[namespace.User] {
				pid = 0 // not yet in its namespaces
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the container's init did not start")
	}
	start, err := procfs.StartTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(pid, start, Options{}); !errors.Is(err, ErrUserNamespace) {
		t.Errorf("OpenEntry without UserTime = %v; want ErrUserNamespace", err)
	}
	e, err := Open(pid, start, Options{UserTime: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []namespace.Type
	for _, ns := range e.StageNamespaces() {
		got = append(got, ns.Type)
	}
	if fmt.Sprint(got) != fmt.Sprint([]namespace.Type{namespace.Time, namespace.User}) || !e.Joins(namespace.PID) {
		t.Errorf("stage namespaces %v (pid joined: %v); want time, user, and pid for DoInPID", got, e.Joins(namespace.PID))
	}
	if err := e.Do(func() error { return nil }); !errors.Is(err, ErrUserNamespace) {
		t.Errorf("Do with a user namespace to join = %v; want ErrUserNamespace", err)
	}
	e.Close()

	t.Cleanup(func() { readTargetNamespaces = namespace.Read })
	readTargetNamespaces = func(pid int) (namespace.Set, error) {
		s, err := namespace.Read(pid)
		s[namespace.User] = 0 // as if /proc/PID/ns/user could not be read
		return s, err
	}
	if e, err := Open(pid, start, Options{UserTime: true}); err == nil || !strings.Contains(err.Error(), "user namespace") {
		if e != nil {
			e.Close()
		}
		t.Errorf("OpenEntry with an unreadable user link = %v; want a refusal naming it", err)
	}
}
