package mounts_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/launch"
	"boxtui/runtime/mounts"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// A boxtui-made container gets `run -v` mounts at launch through
// AddToProcess from launch's Prepare hook (before its command starts), and
// takes mount/remount/umount afterwards like any other.
func TestBoxtuiContainer(t *testing.T) {
	testutil.RequireRoot(t, "launches a container and mounts into it")
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	rootfs := testutil.FreshRootfs(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "hello"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vol := state.MountRecord{Source: src, Target: "/mnt/vol", ReadOnly: true}
	c, err := launch.Run(launch.Options{
		Name: "mnt", Rootfs: rootfs, Command: []string{"/bin/sleep", "1000"},
		Mounts: []state.MountRecord{vol},
		Prepare: func(pid int) error {
			return mounts.AddToProcess(pid, 0, vol.Source, vol.Target, mounts.AddOptions{ReadOnly: vol.ReadOnly, Mkdir: true})
		},
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		signals.Send(c.InitPID, c.InitStart, unix.SIGKILL)
		signals.WaitGone(c.InitPID, c.InitStart, 5*time.Second)
		signals.WaitGone(c.HolderPID, c.HolderStart, 5*time.Second)
	})

	ctr, err := discovery.FindContainer("mnt")
	if err != nil {
		t.Fatal(err)
	}
	list, err := mounts.List(ctr)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range list {
		if m.Target == "/mnt/vol" {
			found = m.Managed && m.ReadOnly && m.Source == src
		}
	}
	if !found {
		t.Fatalf("no managed read-only /mnt/vol in %+v", list)
	}
	// Its own mount namespace: nothing on the host.
	if left, _ := testutil.MountsUnder(filepath.Join(rootfs, "mnt")); len(left) != 0 {
		t.Fatalf("the launch mount shows on the host: %v", left)
	}
	if err := mounts.Remount(ctr, "/mnt/vol", false); err != nil {
		t.Fatal(err)
	}
	if st, _ := state.Load("mnt"); len(st.Mounts) != 1 || st.Mounts[0].ReadOnly {
		t.Fatalf("state after remount rw: %+v", st.Mounts)
	}
	if err := mounts.Remove(ctr, "/mnt/vol"); err != nil {
		t.Fatal(err)
	}
	if st, _ := state.Load("mnt"); len(st.Mounts) != 0 {
		t.Fatalf("state after umount: %+v", st.Mounts)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", c.InitPID))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	infos, err := mountinfo.GetMountsFromReader(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range infos {
		if m.Mountpoint == "/mnt/vol" {
			t.Fatalf("mount left at /mnt/vol: %s", fmt.Sprint(*m))
		}
	}
}
