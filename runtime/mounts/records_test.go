package mounts

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"boxtui/runtime/state"
)

// List shows what the container sees and which mounts boxtui added;
// mounts stacked at one path are pushed and popped in order.
func TestListAndStackedRecords(t *testing.T) {
	b := newBox(t, true)
	src1, src2 := srcDir(t), srcDir(t)
	if err := Add(b.c, src1, "/var/x", AddOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	if err := Add(b.c, src2, "/var/x", AddOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err := List(b.c)
	if err != nil {
		t.Fatal(err)
	}
	var at []Mount
	proc := false
	for _, m := range list {
		if m.Target == "/var/x" {
			at = append(at, m)
		}
		if m.Target == "/proc" {
			proc = m.FSType == "proc" && !m.Managed
		}
	}
	if !proc {
		t.Errorf("List has no unmanaged proc at /proc: %+v", list)
	}
	if len(at) != 2 || at[0].Source != src1 || !at[0].ReadOnly || !at[0].Managed ||
		at[1].Source != src2 || at[1].ReadOnly || !at[1].Managed {
		t.Fatalf("mounts at /var/x = %+v, want %s ro under %s rw, both managed", at, src1, src2)
	}
	b.checkRecords("/var/x:read-only", "/var/x:read-write")
	if err := Remove(b.c, "/var/x"); err != nil {
		t.Fatal(err)
	}
	b.checkRecords("/var/x:read-only")
	if m := b.mountAt("/var/x"); m == nil || !isRO(m) {
		t.Fatalf("after popping the top, /var/x = %+v, want the read-only one", m)
	}
	if err := Remove(b.c, "/var/x"); err != nil {
		t.Fatal(err)
	}
	b.checkRecords()
	// A mount removed behind boxtui's back leaves a stale record, which
	// List ignores and Remove drops.
	if err := Add(b.c, src1, "/var/x", AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nsenter", "-t", strconv.Itoa(b.pid), "-m", "-r", "-w", "umount", "/var/x").CombinedOutput(); err != nil {
		t.Fatalf("umount inside: %v %s", err, out)
	}
	list, _ = List(b.c)
	for _, m := range list {
		if m.Managed {
			t.Errorf("stale record shown as managed: %+v", m)
		}
	}
	wantErr(t, Remove(b.c, "/var/x"), ErrNotMount, "Remove a mount already gone")
	b.checkRecords()
	b.checkHostUnchanged(src1, src2)
}

// For a boxtui container the records live in its state.
func TestRecordsInBoxtuiState(t *testing.T) {
	b := newBox(t, true)
	err := state.Create(state.State{
		Name: "rec", Rootfs: b.rootfs, Command: []string{"/bin/sleep", "1000"},
		Status: state.StatusRunning, Created: time.Now(), InitPID: b.pid, InitStart: b.c.StartTime,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := b.find("rec")
	if c.Name != "rec" {
		t.Fatalf("FindContainer(rec) = %+v", c)
	}
	src := srcDir(t)
	if err := Add(c, src, "/var/x", AddOptions{ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	st, err := state.Load("rec")
	if err != nil || len(st.Mounts) != 1 || st.Mounts[0] != (state.MountRecord{Source: src, Target: "/var/x", ReadOnly: true}) {
		t.Fatalf("state mounts = %+v, %v", st.Mounts, err)
	}
	if err := Remount(c, "/var/x", false); err != nil {
		t.Fatal(err)
	}
	if st, _ := state.Load("rec"); len(st.Mounts) != 1 || st.Mounts[0].ReadOnly {
		t.Fatalf("state after remount rw = %+v", st.Mounts)
	}
	list, err := List(c)
	if err != nil {
		t.Fatal(err)
	}
	managed := 0
	for _, m := range list {
		if m.Managed {
			managed++
			if m.Target != "/var/x" || m.Source != src || m.ReadOnly {
				t.Errorf("managed mount %+v", m)
			}
		}
	}
	if managed != 1 {
		t.Errorf("%d managed mounts, want 1: %+v", managed, list)
	}
	if _, err := os.Stat(recordDir()); err == nil {
		t.Errorf("a foreign record file was written for a boxtui container")
	}
	if err := Remove(c, "/var/x"); err != nil {
		t.Fatal(err)
	}
	if st, _ := state.Load("rec"); len(st.Mounts) != 0 {
		t.Fatalf("state after Remove = %+v", st.Mounts)
	}
	b.checkHostUnchanged(src)
}
