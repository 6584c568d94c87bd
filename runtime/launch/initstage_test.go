package launch

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"boxtui/runtime/signals"
)

// threadsOf reads the Threads: line of pid's status.
func threadsOf(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// containerViewScript prints what an init stage decides about its
// container: PID, hostname, umask, /dev, the mounts of /, /proc and /dev
// (without their IDs, which differ from one container to the next), the
// environment and PID 1's command line.
const containerViewScript = `echo pid=$$ host=$(hostname) HOSTNAME=$HOSTNAME umask=$(umask); stat -c '%n %A %t:%T %U' /dev/* /dev/pts/*; ` +
	`grep -E ' / | /proc | /dev' /proc/self/mountinfo | while read id parent dev root rest; do echo "$root $rest"; done; ` +
	`env | sort; cat /proc/1/cmdline; echo`

// The C init (initstage.c) and the Go one (init.go) build the same
// container: same output of a command that looks at its mounts, /dev,
// hostname, environment and PID. Before the go byte the C init is one
// thread (no Go runtime ever started); the Go one is several.
func TestInitStagesBuildTheSameContainer(t *testing.T) {
	rootfs := setup(t)
	script := containerViewScript
	outputs := map[string]string{}
	for _, mode := range []string{"", "go"} {
		t.Setenv("BOXTUI_INIT_STAGE", mode)
		threads := ""
		c := launch(t, Options{
			Rootfs: rootfs, Hostname: "twin", Command: []string{"/bin/sh", "-c", script},
			Env: []string{"X=1"}, Raw: true, Console: true,
			Prepare: func(pid int) error { threads = threadsOf(pid); return nil },
		})
		out, err := readConsole(t, c.Console, 20*time.Second)
		if err != nil {
			t.Fatalf("mode %q: read console: %v", mode, err)
		}
		// Mount IDs differ from one container to the next; nothing else may.
		outputs[mode] = out
		switch {
		case mode == "" && threads != "1" && cgoBuild:
			t.Errorf("the C init ran %s threads before exec, want 1 (no Go runtime)", threads)
		case mode == "go" && threads == "1":
			t.Errorf("BOXTUI_INIT_STAGE=go: the init ran 1 thread, want a Go runtime's several")
		}
		signals.WaitGone(c.InitPID, c.InitStart, 10*time.Second)
	}
	if outputs[""] != outputs["go"] {
		t.Fatalf("the C and Go inits differ:\nC:\n%s\nGo:\n%s", outputs[""], outputs["go"])
	}
	if !strings.Contains(outputs[""], "pid=1 host=twin HOSTNAME=twin umask=0022") {
		t.Fatalf("unexpected container:\n%s", outputs[""])
	}
}
