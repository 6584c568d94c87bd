package discovery_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"boxtui/runtime/discovery"

	"boxtui/internal/testutil"
)

// comparable returns the containers of a scan made under ancestor, as
// ListContainers gives them: without process lists.
func comparable(t *testing.T, cs []discovery.Container, ancestor int) string {
	t.Helper()
	var out []discovery.Container
	for _, c := range cs {
		if descendsFrom(c.PID, ancestor) {
			c.Procs = nil
			out = append(out, c)
		}
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ListContainers must describe every container exactly as Scan does:
// nested ones with their parent, multi-process ones with their count.
func TestListContainersMatchesScan(t *testing.T) {
	testutil.RequireRoot(t)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	tree := testutil.StartGroup(t, "unshare", "--pid", "--fork", "--mount-proc", "sh", "-c",
		"sleep 2001 & sleep 2002 & unshare --pid --fork --mount-proc sleep 2003 & exec sleep 2004")
	// The outer init, two sleeps and the inner unshare; its child is the
	// nested container's init.
	testutil.WaitFor(t, 30*time.Second, func() bool {
		snap, err := discovery.ListContainers(false)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, c := range snap.Containers {
			if (c.Command == "sleep 2004" && c.Processes == 4) || (c.Command == "sleep 2003" && c.Parent != 0) {
				found++
			}
		}
		return found == 2
	}, "the outer and the nested container")

	// Only this test's containers are compared, and only once a Scan
	// before and after ListContainers agree: a process of the tree may
	// still be starting.
	var before, list string
	for deadline := time.Now().Add(10 * time.Second); ; {
		s1, err := discovery.Scan(discovery.ScanOptions{Exited: true})
		if err != nil {
			t.Fatal(err)
		}
		l, err := discovery.ListContainers(true)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := discovery.Scan(discovery.ScanOptions{Exited: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range l.Containers {
			if c.Procs != nil {
				t.Fatalf("container %d has a process list", c.PID)
			}
		}
		before, list = comparable(t, s1.Containers, tree.Process.Pid), comparable(t, l.Containers, tree.Process.Pid)
		stable := before == comparable(t, s2.Containers, tree.Process.Pid)
		if (stable && before == list) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(list, `"sleep 2003"`) || !strings.Contains(list, `"sleep 2004"`) {
		t.Errorf("ListContainers misses this test's containers:\n%s", list)
	}
	if before != list {
		t.Errorf("Scan:\n%s\nListContainers:\n%s", before, list)
	}
}
