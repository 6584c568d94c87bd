package lscmd

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"boxtui/runtime"
)

func TestParse(t *testing.T) {
	ok := []struct {
		args []string
		want Flags
	}{
		{nil, Flags{}},
		{[]string{"--json"}, Flags{JSON: true}},
		{[]string{"-a"}, Flags{All: true}},
		{[]string{"--all", "--json"}, Flags{JSON: true, All: true}},
		{[]string{"--json=false", "--all=true"}, Flags{All: true}},
		{[]string{"--json=1", "--all=0"}, Flags{JSON: true}},
		{[]string{"--no-color", "--json"}, Flags{JSON: true}},
		{[]string{"--config", "/x.toml", "-a"}, Flags{All: true, Config: "/x.toml"}},
		{[]string{"--config=/x.toml"}, Flags{Config: "/x.toml"}},
		{[]string{"--json", "--"}, Flags{JSON: true}},
	}
	for _, c := range ok {
		got, err := Parse(c.args)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	// Anything else is left to the cobra command.
	for _, args := range [][]string{
		{"extra"}, {"--", "extra"}, {"--jsn"}, {"--json=maybe"}, {"-x"}, {"-aj"}, {"--config"},
	} {
		if _, err := Parse(args); err == nil {
			t.Errorf("Parse(%q) accepted it", args)
		}
	}
	for _, args := range [][]string{{"-h"}, {"--json", "--help"}} {
		if _, err := Parse(args); !errors.Is(err, ErrHelp) {
			t.Errorf("Parse(%q) = %v, want ErrHelp", args, err)
		}
	}
}

// Every column of the ls table has a heading of its own: the PID
// namespace's column used to be headed PID too, beside the init's PID.
func TestWriteTableHeadingsAreDistinct(t *testing.T) {
	var b bytes.Buffer
	WriteTable(&b, runtime.Snapshot{})
	head := strings.Fields(strings.SplitN(b.String(), "\n", 2)[0])
	want := "NAME PID ORIGIN PROCS STATUS CGROUPNS IPCNS MNTNS NETNS PIDNS TIMENS USERNS UTSNS COMMAND"
	if got := strings.Join(head, " "); got != want {
		t.Errorf("heading %q, want %q", got, want)
	}
}
