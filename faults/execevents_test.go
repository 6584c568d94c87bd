package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/events"
	"boxtui/runtime/state"
)

// An exec whose client is SIGKILLed never records its exec-closed itself.
// Readers show it closed ("client gone") as soon as the client is gone,
// without writing anything, and the holder writes that line when the
// container exits — for the C fast path and the Go path alike, one close
// per exec.
func TestExecWhoseClientDiedIsClosedInHistory(t *testing.T) {
	c := newCLI(t)
	name := "exec-killed"
	c.detached(name, testutil.Rootfs(t), "/bin/sleep", "1000")
	history := filepath.Join(c.runDir, name, "events.jsonl")

	for _, env := range []string{"BOXTUI_FASTEXEC=require", "BOXTUI_FASTEXEC=0"} {
		m := marker()
		cmd := exec.Command(c.bin, "exec", name, "--", "/bin/sleep", "1000", m)
		cmd.Env = append(append([]string(nil), c.env...), env)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		// Wait for its exec-opened, then kill the client.
		deadline := time.Now().Add(10 * time.Second)
		for {
			data, _ := os.ReadFile(history)
			if strings.Contains(string(data), m) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no exec-opened for %s in %s", env, m, data)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}

	closes := func(evs []events.Event) (n int) {
		for _, e := range evs {
			if e.Kind == events.ExecClosed && strings.HasSuffix(e.Detail, events.ExecClientGone) {
				n++
			}
		}
		return n
	}
	before, _ := os.ReadFile(history)
	out := c.mustRun("events", name)
	if got := strings.Count(out, events.ExecClientGone); got != 2 {
		t.Errorf("boxtui events shows %d execs closed for a gone client, want 2:\n%s", got, out)
	}
	if evs, _ := events.Read(name); closes(evs) != 2 {
		t.Errorf("Events: %d closes for gone clients, want 2: %+v", closes(evs), evs)
	}
	if after, _ := os.ReadFile(history); string(after) != string(before) {
		t.Errorf("reading the history wrote to it:\nbefore %s\nafter %s", before, after)
	}

	// The holder writes them when the container ends.
	c.mustRun("kill", name)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := state.Load(name)
		if err == nil && st.Status == state.StatusExited {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not recorded as exited: %+v %v", name, st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	written, _ := events.ReadAsWritten(name)
	if closes(written) != 2 {
		t.Errorf("the holder wrote %d closes for gone clients, want 2: %+v", closes(written), written)
	}
	if evs, _ := events.Read(name); closes(evs) != 2 {
		t.Errorf("after the holder wrote them, Events shows %d closes, want 2", closes(evs))
	}
}
