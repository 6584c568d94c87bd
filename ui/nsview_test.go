package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"boxtui/runtime/namespace"
	"boxtui/ui/styles"
)

// TestInodeColoursAreStableAndHostIsMuted: the same inode gets the same
// colour wherever it appears, and a namespace shared with the host is drawn
// in the muted host style, not an inode colour.
func TestInodeColoursAreStableAndHostIsMuted(t *testing.T) {
	st := new(styles.New(false))
	a := st.Inode(4026532201).Render("x")
	if a != st.Inode(4026532201).Render("x") {
		t.Fatal("one inode, two colours")
	}
	distinct := map[string]bool{}
	for ino := uint64(4026532200); ino < 4026532216; ino++ {
		distinct[st.Inode(ino).Render("x")] = true
	}
	if len(distinct) < 8 {
		t.Fatalf("16 consecutive inodes got only %d colours", len(distinct))
	}
	c := fakeSnapshot().Containers[0]
	out := renderNamespaces(st, fakeHost, c, 120, 10)
	ipc := st.Inode(webNS[1]).Render("4026532201")
	if strings.Count(out, ipc) != 2 { // init and set 2 share the ipc namespace
		t.Fatalf("ipc inode of init and set 2 not drawn alike:\n%q", out)
	}
	if !strings.Contains(out, st.HostInode.Render("4026531835")) {
		t.Fatalf("host cgroup inode not muted:\n%q", out)
	}
}

func TestFormatInode(t *testing.T) {
	for _, c := range []struct {
		ino, host uint64
		w         int
		noColor   bool
		want      string
	}{
		{4026532201, 1, 10, false, "4026532201"},
		{4026532201, 1, 7, false, "…532201"},
		{4026532201, 4026532201, 10, true, "host"},
		{4026532201, 1, 14, true, "own 4026532201"},
		{4026532201, 1, 10, true, "own …32201"},
		{0, 1, 10, false, "?"},
	} {
		if got := formatInode(c.ino, c.host, c.w, c.noColor); got != c.want {
			t.Errorf("formatInode(%d, %d, %d, %v) = %q, want %q", c.ino, c.host, c.w, c.noColor, got, c.want)
		}
	}
}

// TestNamespaceViewSaysWhatItCut: at 80 columns the inodes lose their
// leading digits, and the view says which they were; wide enough, it
// shows them whole and says nothing.
func TestNamespaceViewSaysWhatItCut(t *testing.T) {
	c := fakeSnapshot().Containers[0]
	narrow := ansi.Strip(renderNamespaces(new(styles.New(false)), fakeHost, c, 80, 20))
	if !strings.Contains(narrow, "… = 4026: every inode here starts with it") {
		t.Errorf("80 columns: no word on the cut digits:\n%s", narrow)
	}
	wide := ansi.Strip(renderNamespaces(new(styles.New(false)), fakeHost, c, 160, 20))
	if strings.Contains(wide, "…") || !strings.Contains(wide, "4026532199") {
		t.Errorf("160 columns: inodes not whole:\n%s", wide)
	}
	mixed := fakeHost
	mixed[namespace.Net] = 1234567890
	if got := cutInodes(mixed, namespaceSets(c), 7, false); !strings.Contains(got, "boxtui ns") {
		t.Errorf("inodes with different leading digits: %q", got)
	}
}
