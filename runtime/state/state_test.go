package state

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestValidateName(t *testing.T) {
	good := []string{"a", "web-1", "box_2.test", "A9", strings.Repeat("x", 64)}
	bad := []string{"", ".", "..", "-x", "_x", ".x", "a/b", "../x", "a b", "ä", strings.Repeat("x", 65)}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidateName(n); err == nil {
			t.Errorf("ValidateName(%q): want an error", n)
		}
	}
}

func TestStateLifecycle(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	st := State{Name: "web", Rootfs: "/r", Command: []string{"/bin/sh"}, Status: StatusCreating, Created: time.Now()}
	if err := Create(st); err != nil {
		t.Fatal(err)
	}
	if err := Create(st); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second create: %v, want ErrNameTaken", err)
	}
	if err := Update("web", func(s *State) error {
		s.Status = StatusRunning
		s.InitPID = 42
		s.Mounts = append(s.Mounts, MountRecord{Source: "/h", Target: "/c", ReadOnly: true})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := Load("web")
	if err != nil || got.Status != StatusRunning || got.InitPID != 42 || len(got.Mounts) != 1 {
		t.Fatalf("LoadState = %+v, %v", got, err)
	}
	info, err := os.Stat(Dir("web"))
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, %v; want 0700", info.Mode().Perm(), err)
	}
	fi, err := os.Stat(filepath.Join(Dir("web"), "state.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if err := Remove("web"); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("web"); !errors.Is(err, ErrNoState) {
		t.Fatalf("after remove: %v, want ErrNoState", err)
	}
	if err := Update("web", func(*State) error { return nil }); !errors.Is(err, ErrNoState) {
		t.Fatalf("update after remove: %v, want ErrNoState", err)
	}
}

func TestCreateStateRaceHasOneWinner(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := Create(State{Name: "race", Status: StatusCreating})
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ErrNameTaken) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d winners, want exactly 1", wins)
	}
}

func TestCorruptStateIsSkippedNotFatal(t *testing.T) {
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	if err := Create(State{Name: "good", Status: StatusRunning}); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(Dir("bad"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(Dir("bad"), "state.json"), []byte(`{"name":"bad","sta`), 0o600); err != nil {
		t.Fatal(err)
	}
	states, errs := List()
	if len(states) != 1 || states[0].Name != "good" {
		t.Errorf("states = %+v", states)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "corrupt state file") {
		t.Errorf("errs = %v, want one corrupt-state error", errs)
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"name":"web","status":"running","init_pid":42,"mounts":[{"source":"/a","target":"/b","readonly":true}]}`))
	f.Add([]byte(`{"name":"..","status":"running"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Decode(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		if ValidateName(st.Name) != nil || st.InitPID < 0 {
			t.Fatalf("accepted %+v", st)
		}
	})
}

// TestListOnlyReadsAbandonedClaims: every scan calls List, so it must not
// write; an abandoned claim is hidden by List and removed by
// SweepAbandoned (what `boxtui ls` calls) or a new Create of its name.
func TestListOnlyReadsAbandonedClaims(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sweeping claims is root's: run as root")
	}
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	// A claimant that has exited: its PID names no process with its
	// start time any more.
	dead := exec.Command("/bin/true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ghost", "ghost2"} {
		st := State{Name: name, Status: StatusCreating, Created: time.Now(), ClaimPID: dead.Process.Pid, ClaimStart: 1}
		if err := Create(st); err != nil {
			t.Fatal(err)
		}
	}
	states, errs := List()
	if len(states) != 0 || len(errs) != 0 {
		t.Fatalf("List showed abandoned claims: %+v %v", states, errs)
	}
	for _, name := range []string{"ghost", "ghost2"} {
		if _, err := os.Stat(Dir(name)); err != nil {
			t.Fatalf("List removed %s: %v", name, err)
		}
	}
	// A new launch of the name frees it.
	if err := Create(State{Name: "ghost", Status: StatusCreating, Created: time.Now()}); err != nil {
		t.Fatalf("create over an abandoned claim: %v", err)
	}
	SweepAbandoned()
	if _, err := os.Stat(Dir("ghost2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SweepAbandoned left ghost2: %v", err)
	}
	if _, err := Load("ghost"); err != nil {
		t.Errorf("SweepAbandoned removed a live claim: %v", err)
	}
}
