package main

import (
	"bytes"
	"strings"
	"testing"

	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
)

// ps names the PID namespace's column PIDNS, not PID a second time.
func TestProcessTableHeadingsAreDistinct(t *testing.T) {
	var b bytes.Buffer
	if err := writeProcessTable(&b, namespace.Set{}, discovery.Container{}); err != nil {
		t.Fatal(err)
	}
	head := strings.Fields(strings.SplitN(b.String(), "\n", 2)[0])
	want := "PID INNER PPID UID CGROUPNS IPCNS MNTNS NETNS PIDNS TIMENS USERNS UTSNS COMMAND"
	if got := strings.Join(head, " "); got != want {
		t.Errorf("heading %q, want %q", got, want)
	}
}
