package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/state"
)

// Two boxtui instances at once (two people, or a script next to the UI):
// both launch, list, kill and remove, and race for shared names, while a
// third lists non-stop. Every launch either wins its name or is refused as
// taken; every listing is a whole JSON array with no warning; at the end
// every container is accounted for and no state is left.
func TestTwoBoxtuiInstancesKeepStateConsistent(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	const rounds = 6
	mark := marker()

	var (
		mu       sync.Mutex
		problems []string
		wins     = map[string]int{}
	)
	report := func(format string, a ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	listing := func() ([]discovery.Container, bool) {
		out, errOut, code, err := c.try("ls", "--json", "-a")
		if err != nil || code != 0 || errOut != "" {
			report("ls --json -a: exit %d, %v, stderr %q", code, err, errOut)
			return nil, false
		}
		var cs []discovery.Container
		if err := json.Unmarshal([]byte(out), &cs); err != nil {
			report("ls --json -a printed no whole array: %v: %q", err, out)
			return nil, false
		}
		return cs, true
	}

	stop := make(chan struct{})
	var lister sync.WaitGroup
	lister.Add(1)
	go func() {
		defer lister.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			listing()
		}
	}()

	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				own := fmt.Sprintf("inst%d-%d", w, i)
				shared := fmt.Sprintf("shared-%d", i)
				for _, name := range []string{own, shared} {
					_, errOut, code, err := c.try("run", "-d", "--name", name, "--rootfs", rootfs, "--", "/bin/sleep", "1000", mark)
					switch {
					case err != nil:
						report("run %s: %v", name, err)
					case code == 0:
						mu.Lock()
						wins[name]++
						mu.Unlock()
					case !strings.Contains(errOut, "already in use"):
						report("run %s lost with exit %d: %q, want a name-taken error", name, code, errOut)
					}
				}
				if cs, ok := listing(); ok {
					if ct, found := find(cs, own); !found || ct.Status != state.StatusRunning {
						report("%s not listed as running by its own instance: %v %+v", own, found, ct)
					}
				}
				// Each instance kills and removes its own container, and
				// tries the shared one too: only one rm may succeed.
				for _, name := range []string{own, shared} {
					c.try("kill", "-s", "KILL", name)
					c.try("rm", "-f", name)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	lister.Wait()
	for _, p := range problems {
		t.Error(p)
	}
	for w := range 2 {
		for i := range rounds {
			if n := wins[fmt.Sprintf("inst%d-%d", w, i)]; n != 1 {
				t.Errorf("inst%d-%d launched %d times, want 1", w, i, n)
			}
		}
	}
	for i := range rounds {
		// Both may win a shared name in turn (after the first winner's rm),
		// never together: the state would have been overwritten.
		if n := wins[fmt.Sprintf("shared-%d", i)]; n < 1 || n > 2 {
			t.Errorf("shared-%d launched %d times, want 1 or 2 in turn", i, n)
		}
	}
	testutil.WaitFor(t, 10*time.Second, func() bool { return len(processesWith(mark)) == 0 }, "every container to be gone")
	if names := stateNames(t, c.runDir); len(names) != 0 {
		t.Errorf("state left: %v", names)
	}
	entries, _ := os.ReadDir(c.runDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary state left: %s", e.Name())
		}
	}
	if _, errs := state.List(); len(errs) != 0 {
		t.Errorf("state unreadable after the race: %v", errs)
	}
	if _, err := state.Load("inst0-0"); !errors.Is(err, state.ErrNoState) {
		t.Errorf("inst0-0 after rm: %v", err)
	}
}
