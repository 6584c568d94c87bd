//go:build cgo

package cshim

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/runtime/state"
)

var nameSeeds = []string{
	"", "a", "web", "Web-1.x_y", "-a", ".a", "_a", "a/b", "a b", "é", "events", "mounts", "Events", "event",
	strings.Repeat("a", 64), strings.Repeat("a", 65), "123", "1234567890", "a\xff", "a.", "..", ".",
}

// TestValidNameMatchesGo: the C path takes as a name exactly what
// state.ValidateName does (it used to take "events" and "mounts").
func TestValidNameMatchesGo(t *testing.T) {
	for _, s := range nameSeeds {
		checkName(t, s)
	}
}

func checkName(t *testing.T, s string) {
	t.Helper()
	if HasNUL(s) {
		return
	}
	if c, g := ValidName(s), state.ValidateName(s) == nil; c != g {
		t.Fatalf("name %q: C valid %v, Go %v", s, c, g)
	}
}

func FuzzValidName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(checkName)
}

// goState is what discovery.FindInit reads from a state document for the
// name: the init's PID and start time, and whether it takes them (a
// state Go decodes, of that name, with an init, not exited).
func goState(doc []byte, name string) (pid int, start uint64, ok bool) {
	st, err := state.Decode(bytes.NewReader(doc))
	if err != nil || st.Name != name || st.InitPID <= 0 || st.Status == state.StatusExited {
		return 0, 0, false
	}
	return st.InitPID, st.InitStart, true
}

// checkState: what the C path takes from a state, Go takes the same;
// running states that Go would read the C path may leave to it (a
// decline costs only time), but never read otherwise.
func checkState(t *testing.T, doc []byte, name string) (cok bool) {
	t.Helper()
	cpid, cstart, cok := StateDoc(doc, name)
	gpid, gstart, gok := goState(doc, name)
	if cok && (!gok || cpid != gpid || cstart != gstart) {
		t.Fatalf("state %q of %s: C reads init %d started %d, Go %d %d (takes it: %v)", doc, name, cpid, cstart, gpid, gstart, gok)
	}
	return cok
}

func exitCode(n int) *int { return &n }

// states are what boxtui writes (json.MarshalIndent of state.State, as
// its writeStateFile does).
func states(t testing.TB) map[string][]byte {
	created := time.Date(2026, 12, 7, 6, 1, 2, 345678900, time.UTC)
	out := map[string][]byte{}
	for name, st := range map[string]state.State{
		"plain": {Name: "web", Rootfs: "/r", Command: []string{"/bin/sh"}, Status: state.StatusRunning, Created: created,
			InitPID: 1234, InitStart: 987654, HolderPID: 1200, HolderStart: 987600, ClaimPID: 1100, ClaimStart: 987500},
		"everything": {Name: "web", Rootfs: "/r \"q\" \\ \x01 é \xff <&>", Command: []string{"sh", "-c", `"init_pid": 5, "status": "exited"`},
			Hostname: "h", Net: true, Remove: true, Status: state.StatusRunning, Created: created.In(time.FixedZone("", -5*3600-30*60)),
			InitPID: 1 << 30, InitStart: 1<<63 - 1, HolderPID: 7, ExitCode: exitCode(-3), ExitSignal: "KILL",
			Mounts: []state.MountRecord{{Source: "/a", Target: "/b", ReadOnly: true, MntNS: 4026531840}, {Source: "/c", Target: "/d"}}},
		"exited": {Name: "web", Rootfs: "/r", Status: state.StatusExited, Created: created, Exited: created.Add(time.Hour),
			InitPID: 1234, InitStart: 5, ExitCode: exitCode(0)},
		"creating":     {Name: "web", Rootfs: "/r", Status: state.StatusCreating, Created: created, ClaimPID: 9, ClaimStart: 9},
		"another name": {Name: "webb", Rootfs: "/r", Status: state.StatusRunning, Created: created, InitPID: 5, InitStart: 5},
		"no start":     {Name: "web", Rootfs: "/r", Status: state.StatusRunning, Created: created, InitPID: 5},
	} {
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = append(b, '\n')
	}
	return out
}

// hostileStates are state documents no boxtui writes, each read one way
// by encoding/json and another by a reader that looks for keys.
var hostileStates = []string{
	`{"name":"web","status":"running","init_pid":5,"init_start":7`,                         // cut short
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"Status":"exited"}`,      // Go matches keys in any case
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"ſtatus":"exited"}`,      // and folds ſ to s
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"st\u0061tus":"exited"}`, // and unescapes keys
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"status":"exited"}`,      // the last one wins
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"init_pid":6}`,           // again
	`{"name":"other","status":"running","init_pid":5,"init_start":7}`,                      // another container's
	`{"name":"web","status":"running","init_pid":"5","init_start":7}`,                      // a string
	`{"name":"web","status":"running","init_pid":5.0,"init_start":7}`,                      // a fraction
	`{"name":"web","status":"running","init_pid":5e0,"init_start":7}`,                      // an exponent
	`{"name":"web","status":"running","init_pid":5,"init_start":-7}`,                       // a negative uint64
	`{"name":"web","status":"running","init_pid":5,"init_start":-0}`,                       // even -0
	`{"name":"web","status":"running","init_pid":5,"init_start":18446744073709551616}`,     // past uint64
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"holder_pid":-1}`,        // refused by DecodeState
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"net":"yes"}`,            // a field of another type
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"created":"2026-02-30T00:00:00Z"}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"created":"2026-12-07 06:00:00Z"}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"created":"2026-12-07T06:00:00"}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"mounts":[{"readonly":"no"}]}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"mounts":[{"Readonly":1}]}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"command":["a",1]}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"x":[1,2,}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"x":"\x01"}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"x":"\q"}`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7} trailing`,
	`{"name":"web","status":"running","init_pid":5,"init_start":7}{"status":"exited"}`,
	`{"name":"web","status":"run\u006eing","init_pid":5,"init_start":7}`,
	`{"name":"we\u0062","status":"running","init_pid":5,"init_start":7}`,
	`{"name":"web","status":"Running","init_pid":5,"init_start":7}`,
	`{"name":"web","status":"running","init_pid":null,"init_start":7}`,
	`{"name":"web","status":"running","init_pid":0,"init_start":7}`,
	`{"name":"web","status":"running","init_pid":-5,"init_start":7}`,
	`{"name":"web","status":"running","init_pid":2147483648,"init_start":7}`,
	`["web"]`, `null`, ``, ` `, `{}`, "\xef\xbb\xbf{\"name\":\"web\",\"status\":\"running\",\"init_pid\":5,\"init_start\":7}",
	`{"name":"web","status":"running","init_pid":5,"init_start":7,"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`,
}

// TestStateMatchesGo: the C path reads every state boxtui writes as Go
// does, and takes none that Go would not (it used to take a state cut
// short, another container's, or one whose status a second key changed).
func TestStateMatchesGo(t *testing.T) {
	for what, doc := range states(t) {
		pid, start, ok := StateDoc(doc, "web")
		gpid, gstart, gok := goState(doc, "web")
		if want := what == "plain" || what == "everything"; ok != want || (ok && (pid != gpid || start != gstart || !gok)) {
			t.Errorf("%s state: C reads %d %d %v, Go %d %d %v; want it read: %v\n%s", what, pid, start, ok, gpid, gstart, gok, want, doc)
		}
		for i := range doc {
			checkState(t, doc[:i], "web")
		}
	}
	for _, doc := range hostileStates {
		if checkState(t, []byte(doc), "web") {
			t.Errorf("C takes the hostile state %q", doc)
		}
	}
}

// TestStateFileOnDisk: the file boxtui writes, read where it writes it;
// a link in its place or a file too large is left to Go.
func TestStateFileOnDisk(t *testing.T) {
	runDir := t.TempDir()
	t.Setenv("BOXTUI_RUN_DIR", runDir)
	if err := state.Create(state.State{Name: "web", Rootfs: "/r", Command: []string{"sh"}, Status: state.StatusCreating, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := state.Update("web", func(st *state.State) error {
		st.Status, st.InitPID, st.InitStart = state.StatusRunning, 4321, 8765
		st.Mounts = []state.MountRecord{{Source: "/x", Target: "/y"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if pid, start, ok := StateInit(runDir, "web"); !ok || pid != 4321 || start != 8765 {
		data, _ := os.ReadFile(filepath.Join(runDir, "web", "state.json"))
		t.Fatalf("C reads the state boxtui wrote as %d %d %v:\n%s", pid, start, ok, data)
	}
	if _, _, ok := StateInit(runDir, "events"); ok {
		t.Errorf("C reads a state for the reserved name events")
	}
	if err := os.Mkdir(filepath.Join(runDir, "linked"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(runDir, "web", "state.json"), filepath.Join(runDir, "linked", "state.json")); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := StateInit(runDir, "linked"); ok {
		t.Errorf("C follows a link in place of state.json")
	}
	big := states(t)["plain"]
	big = append(big[:len(big)-2], []byte(`,"pad":"`+strings.Repeat("x", 70000)+`"}`)...)
	if _, _, ok := StateDoc(big, "web"); !ok {
		t.Fatalf("the padded state does not read in memory: %.200s", big)
	}
	if err := os.Mkdir(filepath.Join(runDir, "big"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, "big", "state.json"), bytes.Replace(big, []byte(`"web"`), []byte(`"big"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := StateInit(runDir, "big"); ok {
		t.Errorf("C reads a state file larger than it reads whole")
	}
}

func FuzzState(f *testing.F) {
	for _, doc := range states(f) {
		f.Add(doc)
	}
	for _, doc := range hostileStates {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkState(t, doc, "web") })
}

// FuzzStateFields builds state documents field by field, so that most of
// them are ones the C path takes: its times, numbers and extra keys then
// meet Go's reading.
func FuzzStateFields(f *testing.F) {
	f.Add("2026-12-07T06:01:02.3456789Z", "1234", "987654", "mounts", `[{"source":"/a","mnt_ns":1}]`, "running")
	f.Add("2024-02-29T23:59:59+14:00", "1", "0", "x", `{"a":[1,2.5e-3,"s",null,true]}`, "running")
	f.Add("0000-01-01T00:00:00-00:00", "1073741824", "9223372036854775807", "exit_code", "null", "running")
	f.Add("2026-12-07T06:01:02.Z", "-0", "00", "claim_pid", "-5", "running")
	f.Fuzz(func(t *testing.T, created, pid, start, key, val, status string) {
		keyJSON, _ := json.Marshal(key)
		doc := `{"name":"web","status":"` + status + `","created":"` + created + `","init_pid":` + pid +
			`,"init_start":` + start + `,` + string(keyJSON) + `:` + val + `}`
		checkState(t, []byte(doc), "web")
	})
}
