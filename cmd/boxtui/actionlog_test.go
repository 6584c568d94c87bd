package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests in this package run privileged commands in-process; keep their
// action log out of /var/log unless the caller chose a file.
func init() {
	if os.Getenv("BOXTUI_LOG") == "" {
		os.Setenv("BOXTUI_LOG", filepath.Join(os.TempDir(), "boxtui-test-actions.log"))
	}
}

// An attempted privileged action is logged with its outcome, a refused
// command line is not.
func TestActionLogged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: rm refuses to run before acting otherwise")
	}
	log := filepath.Join(t.TempDir(), "actions.log")
	t.Setenv("BOXTUI_LOG", log)
	t.Setenv("BOXTUI_RUN_DIR", t.TempDir())
	_, errOut, code := runCLI(t, "rm", "no-such-box")
	if code != 1 {
		t.Fatalf("rm no-such-box: exit %d, stderr %q", code, errOut)
	}
	_, _, code = runCLI(t, "kill", "--time", "-1", "whatever")
	if code != 1 {
		t.Fatalf("kill --time -1: exit %d", code)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 1 {
		t.Fatalf("log has %d lines, want 1 (the rm):\n%s", len(lines), b)
	}
	if !strings.Contains(lines[0], " action=rm target=no-such-box outcome=\"error: ") {
		t.Errorf("log line %q", lines[0])
	}
}
