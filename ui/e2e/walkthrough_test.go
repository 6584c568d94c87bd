package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// TestSeedWalkthrough does the seed blog post's walkthrough from the
// keyboard: launch a chrooted PID-namespaced shell from the form ($$ is 1),
// exec a second shell in a split pane, run top there and kill it from the
// first pane, add a read-only bind mount from the mounts form (writes are
// refused), flip it writable with space (writes pass), kill the container
// from the list, and quit.
func TestSeedWalkthrough(t *testing.T) {
	testutil.RequireRoot(t, "launches a container, enters it and mounts into it")
	rootfs := testutil.Rootfs(t)
	runDir := t.TempDir()
	shared := t.TempDir()
	if err := os.WriteFile(filepath.Join(shared, "hello"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("seed%d", os.Getpid()%100000)
	actions := filepath.Join(t.TempDir(), "actions.log")
	s := Start(t, Options{Width: 120, Height: 40, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + runDir, "BOXTUI_LOG=" + actions}}, Binary(t))
	t.Cleanup(func() {
		// Whatever happened, leave no container behind.
		bin := Binary(t)
		cmd := fmt.Sprintf("BOXTUI_RUN_DIR=%s %s kill %s >/dev/null 2>&1; BOXTUI_RUN_DIR=%s %s rm -f %s >/dev/null 2>&1", runDir, bin, name, runDir, bin, name)
		runShell(cmd)
	})
	s.Wait("container(s)", 10*time.Second)

	// Launch from the form; the console opens in pane 1.
	// huh moves between fields asynchronously: wait for the focus mark
	// of a field before typing into it.
	field := func(title string) { s.Wait("┃ "+title, 5*time.Second) }
	s.Keys("n")
	field("Name")
	s.Type(name)
	s.Keys("Enter")
	field("Root filesystem")
	s.Keys("C-u")
	s.Type(rootfs)
	s.Keys("Enter")
	field("Command")
	s.Keys("C-u")
	s.Type("/bin/bash")
	s.Keys("Enter")
	field("Hostname")
	s.Keys("Enter")
	field("Own network")
	s.Keys("Enter") // no
	field("Bind mounts")
	s.Keys("Enter") // none: submit
	s.Wait("1 "+name+" console", 15*time.Second)
	s.Wait("#", 10*time.Second)
	s.Type("echo M$((6*7)) $$")
	s.Keys("Enter")
	s.Wait("M42 1", 10*time.Second)

	// A second shell in a split pane, running top.
	s.Keys("C-]")
	s.Keys("e")
	s.Wait("2 "+name+" exec", 10*time.Second)
	s.Type("echo E$((6*7)) $$")
	s.Keys("Enter")
	s.Wait("E42", 10*time.Second)
	s.Type("top")
	s.Keys("Enter")
	s.Wait("Tasks:", 10*time.Second)

	// Kill top from the first pane.
	s.Keys("C-]")
	s.Keys("1")
	s.Type(`ps -e -o pid=,comm= | while read p c; do [ "$c" = top ] && kill $p && echo K$((40+2)); done`)
	s.Keys("Enter")
	s.Wait("K42", 10*time.Second)
	s.Keys("C-]")
	s.Keys("2")
	s.Type("echo T$((6*7))")
	s.Keys("Enter")
	s.Wait("T42", 10*time.Second) // the second shell is back at its prompt

	// A read-only bind mount from the form refuses writes.
	s.Keys("C-]")
	s.Keys("m")
	s.Wait("mounts of "+name, 5*time.Second)
	s.Keys("a")
	field("Host path")
	s.Type(shared)
	s.Keys("Enter")
	field("Path inside")
	s.Type("/shared")
	s.Keys("Enter")
	field("Read-only")
	s.Keys("Enter") // yes (the default): submit
	s.Wait("mounted "+shared+" onto /shared (read-only)", 10*time.Second)
	s.Keys("1")
	s.Type("cat /shared/hello; touch /shared/new || echo D$((40+2))")
	s.Keys("Enter")
	s.Wait("D42", 10*time.Second)

	// space makes it writable. The mounts panel is still open, and ctrl+]
	// gives the keys back to it (not to the list behind it).
	s.Keys("C-]")
	s.Wait("/shared", 5*time.Second)
	for i := 0; i < 12; i++ {
		s.Keys("Down")
	}
	s.Keys("Space")
	s.Wait("mount /shared is now read-write", 10*time.Second)
	s.Keys("1")
	s.Type("touch /shared/new && echo W$((40+2))")
	s.Keys("Enter")
	s.Wait("W42", 10*time.Second)
	if _, err := os.Stat(filepath.Join(shared, "new")); err != nil {
		t.Fatalf("the write inside did not reach the host: %v", err)
	}

	// Kill the container from the list with SIGKILL: both panes end.
	s.Keys("C-]")
	s.Keys("x")
	s.Wait("Kill container "+name, 5*time.Second)
	s.Keys("Right", "Right") // stop -> TERM -> KILL
	s.Wait("[KILL]", 5*time.Second)
	s.Keys("y")
	s.WaitFunc(func(screen string) bool {
		return !strings.Contains(screen, "1 "+name+" console ─") && !strings.Contains(screen, "2 "+name+" exec ─") &&
			strings.Contains(screen, "ended: ") && strings.Contains(screen, "killed by")
	}, "both panes closed, the last saying how it ended", 10*time.Second)

	s.Keys("q")
	screen := s.Wait("EXIT=0", 10*time.Second)
	if !strings.Contains(screen, "keep running") {
		t.Fatalf("quit did not say containers keep running:\n%s", screen)
	}

	// Every privileged action the UI took is in the action log.
	data, err := os.ReadFile(actions)
	if err != nil {
		t.Fatalf("read the action log: %v", err)
	}
	for _, want := range []string{
		"action=launch target=" + name + " outcome=ok",
		"action=exec target=\"" + name + " shell\" outcome=ok",
		"action=mount.add",
		"action=mount.flip target=\"" + name + " /shared rw\" outcome=ok",
		"action=signal",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("action log lacks %q:\n%s", want, data)
		}
	}
}
