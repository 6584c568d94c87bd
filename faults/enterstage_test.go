package faults

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"boxtui/internal/testutil"
	"boxtui/runtime/enter/stage"

	"golang.org/x/sys/unix"
)

// The enter stage (`boxtui __boxtui-enter`) is reachable by anyone who can
// run the binary. Started by hand, without boxtui's pipes or with a block
// that is not one boxtui writes, it joins nothing and runs nothing: one
// error on the status pipe, or, without one, a silent exit 126.
func TestEnterStageRefusesWhatBoxtuiDidNotWrite(t *testing.T) {
	testutil.RequireRoot(t, "runs the stage with a host namespace handle")
	bin := testutil.Binary(t)
	if !stage.Available {
		t.Skip("built without cgo: no enter stage")
	}
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	netns, err := os.Open("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer netns.Close()
	base := stage.Config{
		Root: -1, Cwd: -1,
		NS:   []stage.NS{{FD: stage.FirstFD, Flag: unix.CLONE_NEWNET}},
		Env:  []string{"PATH=/usr/bin:/bin"},
		Args: []string{"/bin/sh", "-c", "echo ran > " + marker},
	}
	good := base.Encode()
	for _, tc := range []struct {
		name  string
		block []byte
		want  string
	}{
		{"unknown record", append(stage.AppendRecord(nil, 42, nil), good...), "error\nenter stage: bad config: unknown record"},
		{"a profile's record, no profile", append(stage.AppendRecord(nil, stage.ProfileFirst, nil), good...), "error\nenter stage: bad config: unknown record"},
		{"truncated", good[:len(good)-3], "error\nenter stage: bad config: truncated"},
		{"no end", good[:len(good)-8], "error\nenter stage: bad config: truncated block"},
		{"empty", nil, "error\nenter stage: bad config: truncated block"},
	} {
		cfgR, cfgW, _ := os.Pipe()
		statusR, statusW, _ := os.Pipe()
		cmd := exec.Command(bin)
		cmd.Args = []string{"boxtui", stage.Name}
		cmd.Env = []string{}
		cmd.ExtraFiles = []*os.File{cfgR, statusW, netns}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cfgR.Close()
		statusW.Close()
		cfgW.Write(tc.block)
		cfgW.Close()
		msg, _ := io.ReadAll(statusR)
		statusR.Close()
		cmd.Wait()
		if !strings.HasPrefix(string(msg), tc.want) || cmd.ProcessState.ExitCode() != 1 {
			t.Errorf("%s: status %q, exit %d; want %q, exit 1", tc.name, msg, cmd.ProcessState.ExitCode(), tc.want)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s: the stage ran its command", tc.name)
		}
	}

	// No status pipe: not started by boxtui.
	out, err := exec.Command(bin, stage.Name).CombinedOutput()
	var exit *exec.ExitError
	if len(out) != 0 || !errors.As(err, &exit) || exit.ExitCode() != 126 {
		t.Errorf("stage without its pipes: %v, %q; want a silent exit 126", err, out)
	}

	// The control: the same block, whole, runs the command.
	cfgR, cfgW, _ := os.Pipe()
	statusR, statusW, _ := os.Pipe()
	cmd := exec.Command(bin)
	cmd.Args = []string{"boxtui", stage.Name}
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{cfgR, statusW, netns}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cfgR.Close()
	statusW.Close()
	cfgW.Write(good)
	cfgW.Close()
	msg, _ := io.ReadAll(statusR)
	cmd.Wait()
	if data, err := os.ReadFile(marker); len(msg) != 0 || err != nil || string(data) != "ran\n" {
		t.Errorf("control: status %q, marker %q (%v)", msg, data, err)
	}
}
