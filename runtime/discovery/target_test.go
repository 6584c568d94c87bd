package discovery_test

import (
	"strconv"
	"testing"

	"boxtui/runtime/discovery"

	"boxtui/internal/testutil"
	"boxtui/runtime/procfs"
)

// TestTargetPIDNamesTheProcess: a host PID as TARGET keeps the process
// named (nsenter -t PID), whichever way it is resolved: by the parent walk
// (a child of the init), by the scan (the seed's second shell, which joined
// from outside), through FindContainer and FindInit alike. A name, or the
// init's own PID, names the init.
func TestTargetPIDNamesTheProcess(t *testing.T) {
	testutil.RequireRoot(t, "starts containers")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	rootfs := testutil.Rootfs(t)
	initPID := testutil.StartUnshare(t, rootfs, "/bin/sleep", "1000")
	second := testutil.StartSecondShell(t, initPID, rootfs, "second", "/bin/sleep", "1001")
	secondStart, err := procfs.StartTime(second)
	if err != nil {
		t.Fatal(err)
	}
	for name, find := range map[string]func(string) (discovery.Container, error){
		"FindContainer": discovery.FindContainer, "FindInit": discovery.FindInit,
	} {
		c, err := find(strconv.Itoa(second))
		if err != nil {
			t.Fatalf("%s(%d): %v", name, second, err)
		}
		want := discovery.ProcRef{PID: second, StartTime: secondStart}
		if c.PID != initPID || c.Named != want || c.EntryProcess() != want {
			t.Errorf("%s(second shell %d) = init %d, named %+v, entry %+v; want init %d, named and entry %+v",
				name, second, c.PID, c.Named, c.EntryProcess(), initPID, want)
		}
		c, err = find(strconv.Itoa(initPID))
		if err != nil {
			t.Fatalf("%s(%d): %v", name, initPID, err)
		}
		if c.Named != (discovery.ProcRef{}) || c.EntryProcess() != (discovery.ProcRef{PID: initPID, StartTime: c.StartTime}) {
			t.Errorf("%s(init %d): named %+v, entry %+v; want the init", name, initPID, c.Named, c.EntryProcess())
		}
	}
}
