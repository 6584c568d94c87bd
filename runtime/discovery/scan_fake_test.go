package discovery

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

// fakeProc builds a /proc-like tree: boxtui's own namespaces under self/ns,
// and one process pid inside PID namespace 4026532999 whose command line
// is cmdline (NUL-separated).
func fakeProc(t *testing.T, pid int, comm, cmdline string) string {
	t.Helper()
	dir := t.TempDir()
	links := func(base string, pidNS uint64) {
		if err := os.MkdirAll(filepath.Join(base, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		for i, name := range namespace.Names {
			kind := map[string]string{"pid_for_children": "pid", "time_for_children": "time"}[name]
			if kind == "" {
				kind = name
			}
			ino := uint64(4026531830 + i)
			if kind == "pid" {
				ino = pidNS
			}
			os.Symlink(fmt.Sprintf("%s:[%d]", kind, ino), filepath.Join(base, "ns", name))
		}
	}
	links(filepath.Join(dir, "self"), 4026531836)
	base := filepath.Join(dir, fmt.Sprint(pid))
	links(base, 4026532999)
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(base, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 10 0\n", pid, comm, pid, pid))
	write("status", fmt.Sprintf("Name:\t%s\nPPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t%d\t1\n", comm, pid))
	write("cmdline", cmdline)
	write("cgroup", "0::/\n")
	return dir
}

// An exec sets the new name before the new command line is in place; a
// scan that reads the process in between sees an empty cmdline. The next
// scan must show the real command line, not keep the bare name cached.
func TestScannerDoesNotCacheAHalfExecedCommandLine(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	proc := fakeProc(t, 4242, "sleep", "")
	s := &Scanner{proc: proc, cache: map[int]procCache{}, pidNS: map[int]pidNSCache{}}
	snap, err := s.Scan(ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Containers) != 1 || snap.Containers[0].Command != "sleep" {
		t.Fatalf("mid-exec scan: %+v", snap.Containers)
	}
	os.WriteFile(filepath.Join(proc, "4242", "cmdline"), []byte("sleep\x001004\x00"), 0o644)
	snap, err = s.Scan(ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Containers) != 1 || snap.Containers[0].Command != "sleep 1004" {
		t.Fatalf("after the exec: %+v, want command \"sleep 1004\"", snap.Containers)
	}
	if c := snap.Containers[0]; c.PID != 4242 || c.Namespaces[namespace.PID] != 4026532999 {
		t.Errorf("container %+v", c)
	}
}

// TestJustExitedContainerIsNotCalledUnknown: between its init's death and
// its holder's record of how, a container is listed as exited with no
// status yet, not "unknown"; with its holder gone too, it is unknown.
func TestJustExitedContainerIsNotCalledUnknown(t *testing.T) {
	self := os.Getpid()
	selfStart := procfs.LiveStartTime(self)
	if selfStart == 0 {
		t.Fatal("no start time for this process")
	}
	dead := exec.Command("/bin/true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	st := state.State{Name: "web", Status: state.StatusRunning, InitPID: dead.Process.Pid, InitStart: 1,
		HolderPID: self, HolderStart: selfStart}
	var snap Snapshot
	matchStates(&snap, []state.State{st}, true)
	if len(snap.Containers) != 1 {
		t.Fatalf("%d containers", len(snap.Containers))
	}
	if c := snap.Containers[0]; c.Status != state.StatusExited || c.ExitCode != nil || c.ExitSignal != "" {
		t.Errorf("holder alive: status %q, code %v, signal %q; want exited with no status yet", c.Status, c.ExitCode, c.ExitSignal)
	}
	st.HolderPID = dead.Process.Pid
	snap = Snapshot{}
	matchStates(&snap, []state.State{st}, true)
	if c := snap.Containers[0]; c.ExitSignal != "unknown" {
		t.Errorf("holder gone: signal %q, want unknown", c.ExitSignal)
	}
}
