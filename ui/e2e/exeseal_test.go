package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/exeseal"
)

// TestUIRunsFromSealedBinary: the UI starts exec shells and containers, so
// it must run from a sealed copy of boxtui's binary (package exeseal), both
// when started bare (sealed by the C constructor) and with a flag before
// any command (sealed by the cobra layer).
func TestUIRunsFromSealedBinary(t *testing.T) {
	testutil.RequireRoot(t, "the UI runs as root")
	for _, args := range [][]string{nil, {"--no-color"}} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			mark := fmt.Sprintf("BOXTUI_E2E_MARK=%d", time.Now().UnixNano())
			argv := append([]string{Binary(t)}, args...)
			s := Start(t, Options{Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir(), "BOXTUI_LOG=off", mark}}, argv...)
			s.Wait("container(s)", 10*time.Second)
			pid := findProcessWithEnv(t, mark)
			f, err := os.Open(fmt.Sprintf("/proc/%d/exe", pid))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if !exeseal.FileSealed(int(f.Fd())) {
				link, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
				t.Fatalf("the UI runs from %s, which is not sealed: a container could keep a handle on it and write it later", link)
			}
			s.Keys("q")
		})
	}
}

// findProcessWithEnv returns the PID of the one process whose environment
// holds kv.
func findProcessWithEnv(t *testing.T, kv string) int {
	t.Helper()
	var found int
	testutil.WaitFor(t, 5*time.Second, func() bool {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
			if err != nil {
				continue
			}
			comm, _ := os.ReadFile("/proc/" + e.Name() + "/comm")
			if strings.TrimSpace(string(comm)) != "boxtui" {
				continue
			}
			for _, v := range strings.Split(string(env), "\x00") {
				if v == kv {
					fmt.Sscan(e.Name(), &found)
					return true
				}
			}
		}
		return false
	}, "the UI's process")
	return found
}
