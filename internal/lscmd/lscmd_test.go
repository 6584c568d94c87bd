package lscmd

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"boxtui/runtime/discovery"
	"boxtui/runtime/state"
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
	WriteTable(&b, discovery.Snapshot{})
	head := strings.Fields(strings.SplitN(b.String(), "\n", 2)[0])
	want := "NAME PID ORIGIN PROCS STATUS CGROUPNS IPCNS MNTNS NETNS PIDNS TIMENS USERNS UTSNS COMMAND"
	if got := strings.Join(head, " "); got != want {
		t.Errorf("heading %q, want %q", got, want)
	}
}

// TestTableShowsEngineNamesEscaped: the NAME column shows boxtui's name,
// else the engine's, and an engine name is text a user chose: its control
// bytes are escaped like any container-chosen text. --json carries it as
// "name", with engine_id beside it.
func TestTableShowsEngineNamesEscaped(t *testing.T) {
	snap := discovery.Snapshot{Containers: []discovery.Container{
		{PID: 10, Origin: discovery.OriginBoxtui, Name: "box", Status: state.StatusRunning},
		{PID: 11, Origin: discovery.OriginDocker, EngineName: "web", EngineID: "0e09800b4182", Status: state.StatusRunning},
		{PID: 12, Origin: discovery.OriginLXC, EngineName: "c\x1b]0;PWNED\a:1/x", Status: state.StatusRunning},
		{PID: 13, Origin: discovery.OriginUnshare, Status: state.StatusRunning},
	}}
	var b bytes.Buffer
	WriteTable(&b, snap)
	names := []string{}
	for _, line := range strings.Split(b.String(), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 1 && f[1] != "=" {
			names = append(names, f[0])
		}
	}
	want := []string{"box", "web", `c\x1b]0;PWNED\x07:1/x`, "-"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("NAME column %q, want %q:\n%s", names, want, b.String())
	}
	if strings.ContainsRune(b.String(), 0x1b) {
		t.Errorf("raw ESC in the table:\n%q", b.String())
	}
	b.Reset()
	if err := WriteJSON(&b, discovery.ContainersJSON(snap.Containers)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"name": "web",
    "engine_id": "0e09800b4182"`, `"name": "c\u001b]0;PWNED\u0007:1/x"`, `"name": "box"`} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("ls --json lacks %s:\n%s", w, b.String())
		}
	}
}
