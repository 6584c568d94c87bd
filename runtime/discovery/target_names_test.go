package discovery

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"boxtui/runtime/state"
)

// namedSnapshot is a host with containers of several engines, two of which
// share a name, and a name full of what a parser might trip on.
func namedSnapshot() Snapshot {
	return Snapshot{Containers: []Container{
		{PID: 101, Origin: OriginBoxtui, Name: "web", Status: state.StatusRunning},
		{PID: 102, Origin: OriginDocker, EngineName: "web", EngineID: "0e09800b41829cdf91a39a3e0c435c9a06688d0821a44c290c029629a6af44a7", Status: state.StatusRunning},
		{PID: 103, Origin: OriginPodman, EngineName: "db", EngineID: "0e0912aa41829cdf91a39a3e0c435c9a06688d0821a44c290c029629a6af44a7", Status: state.StatusRunning},
		{PID: 104, Origin: OriginLXC, EngineName: "c1", Status: state.StatusRunning},
		{PID: 105, Origin: OriginNspawn, EngineName: "c1", Status: state.StatusRunning},
		{PID: 106, Origin: OriginKubernetes, EngineName: "pod/ctr:1\x1b]0;x\a", EngineID: "e4f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f", Status: state.StatusRunning},
		{PID: 107, Origin: OriginUnshare, Status: state.StatusRunning},
		{PID: 108, Origin: OriginLXC, EngineName: "twin", Status: state.StatusRunning},
		{PID: 109, Origin: OriginLXC, EngineName: "twin", Status: state.StatusRunning},
		{PID: 110, Origin: OriginDocker, EngineName: "cafe-db", EngineID: "cafe0000" + strings.Repeat("1", 56), Status: state.StatusRunning},
		{PID: 0, Origin: OriginBoxtui, Name: "old", Status: state.StatusExited},
	}}
}

// TestFindByEngineNameOriginAndIDPrefix: an engine's name, ORIGIN:NAME, a
// unique ID prefix (at least MinIDPrefix digits) and ORIGIN:ID-PREFIX each
// name one container; a name two origins share, or a prefix two IDs share,
// is an error that lists every candidate the way it can be named.
func TestFindByEngineNameOriginAndIDPrefix(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	snap := namedSnapshot()
	for _, c := range []struct {
		target string
		pid    int
	}{
		{"db", 103},
		{"podman:db", 103},
		{"docker:web", 102},
		{"boxtui:web", 101},
		{"lxc:c1", 104},
		{"nspawn:c1", 105},
		{"0e098", 102},
		{"0e0912", 103},
		{"docker:0e09", 102},
		{"e4f1a2b3c4d5", 106},
		{"kubernetes:pod/ctr:1\x1b]0;x\a", 106},
		{"pod/ctr:1\x1b]0;x\a", 106},
		{"cafe", 110},
	} {
		got, err := snap.Find(c.target)
		if err != nil || got.PID != c.pid {
			t.Errorf("Find(%q) = pid %d, %v; want pid %d", c.target, got.PID, err, c.pid)
		}
	}
	for _, c := range []struct {
		target string
		want   []string
	}{
		{"web", []string{`name "web" is ambiguous: 2 containers`, "boxtui:web (pid 101)", "docker:web (pid 102)"}},
		{"c1", []string{"lxc:c1 (pid 104)", "nspawn:c1 (pid 105)"}},
		{"lxc:twin", []string{`name "lxc:twin" is ambiguous`, "lxc:twin (pid 108)", "lxc:twin (pid 109)"}},
		{"0e09", []string{`ID prefix "0e09" is ambiguous`, "docker:web (pid 102)", "podman:db (pid 103)"}},
		{"0e0", []string{`no container named "0e0"`}}, // shorter than MinIDPrefix: a name
		{"docker:db", []string{`no docker container named "db"`}},
		{"docker:", []string{`give a name or an ID prefix after docker:`}},
		{"pid:x", []string{`pid: takes a host PID`}},
		{"nosuch", []string{`no container named "nosuch"`}},
		{"no/such", []string{`invalid target "no/such"`}},
		{"bogus:web", []string{`invalid target "bogus:web"`, `"bogus" is not an origin`}},
	} {
		_, err := snap.Find(c.target)
		if err == nil {
			t.Errorf("Find(%q): no error", c.target)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Find(%q): error on more than one line: %q", c.target, err)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Find(%q) = %q, want it to say %q", c.target, err, w)
			}
		}
	}
	if _, err := snap.Find("old"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Find(old) = %v, want ErrNotRunning", err)
	}
	if _, err := snap.Find("boxtui:old"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Find(boxtui:old) = %v, want ErrNotRunning", err)
	}
}

// TestExitedBoxtuiNameIsNotTakenForAnIDPrefix: `exec cafe` with cafe an
// exited boxtui container must not enter the docker container whose ID
// starts with cafe, even when the scan left exited containers out.
func TestExitedBoxtuiNameIsNotTakenForAnIDPrefix(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	code := 0
	if err := state.Create(state.State{Name: "cafe", Status: state.StatusExited, ExitCode: &code}); err != nil {
		t.Fatal(err)
	}
	snap := namedSnapshot()
	if _, err := snap.Find("cafe"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Find(cafe) = %v, want the exited boxtui container's ErrNotRunning", err)
	}
	if c, err := snap.Find("docker:cafe"); err != nil || c.PID != 110 {
		t.Errorf("Find(docker:cafe) = %d, %v; want the docker container", c.PID, err)
	}
}

// TestContainerJSONName: "name" in JSON is the name a user knows the
// container by, boxtui's else the engine's, with engine_id beside it, and
// it reads back into the same fields.
func TestContainerJSONName(t *testing.T) {
	for _, c := range namedSnapshot().Containers {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["name"] != c.DisplayName() || m["engine_id"] != c.EngineID {
			t.Errorf("%+v: JSON name %v, engine_id %v", c, m["name"], m["engine_id"])
		}
		if i, j := strings.Index(string(b), `"name"`), strings.Index(string(b), `"engine_id"`); i < 0 || j < i {
			t.Errorf("engine_id is not beside name: %s", b)
		}
		var back Container
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Name != c.Name || back.EngineName != c.EngineName || back.EngineID != c.EngineID {
			t.Errorf("round trip: %+v, want %+v", back, c)
		}
	}
}

// TestContainersJSONIsMarshalJSON: ls --json's one-pass form writes what
// each container's MarshalJSON writes, and [] for none.
func TestContainersJSONIsMarshalJSON(t *testing.T) {
	cs := namedSnapshot().Containers
	a, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ContainersJSON(cs))
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Errorf("ContainersJSON:\n%s\nMarshalJSON:\n%s", b, a)
	}
	if b, _ := json.Marshal(ContainersJSON(nil)); string(b) != "[]" {
		t.Errorf("ContainersJSON(nil) = %s, want []", b)
	}
}
