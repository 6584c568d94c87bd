package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"boxtui/internal/lscmd"
	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/runtime/mounts"
	"boxtui/runtime/namespace"
	"boxtui/runtime/rootfs"
	"boxtui/runtime/state"

	"github.com/spf13/cobra"
)

// hostile is what a container may put in its command line, process name
// or mount point: the title-setting and screen-clearing sequences of the
// bug report, BEL, CR, BS, DEL, C1 CSI both as a raw byte and as UTF-8,
// invalid UTF-8 and a newline with a forged line after it.
const hostile = "\x1b]0;PWNED\a\x1b[2J\x9b31m\u009b\r\b\x7f\xff\xfe\nforged line"

// textOutputs prints s through every text printer of the CLI, the way a
// container gets it there: as a command line, a name, a mount point, an
// event detail, a skipped tarball entry, an error. Each output is returned
// with the number of lines it must have.
func textOutputs(t *testing.T, s string) map[string]struct {
	out   string
	lines int
} {
	t.Helper()
	outs := map[string]struct {
		out   string
		lines int
	}{}
	add := func(name string, lines int, print func(w *bytes.Buffer) error) {
		var b bytes.Buffer
		if err := print(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		outs[name] = struct {
			out   string
			lines int
		}{b.String(), lines}
	}
	c := discovery.Container{Name: s, PID: 42, Origin: discovery.Origin(s), Command: s, Comm: s, Processes: 1, Status: state.StatusRunning,
		Procs: []discovery.Process{{PID: 42, InnerPID: 1, Comm: s, Command: s}, {PID: 43, InnerPID: 2, Command: "/bin/sh"}}}
	exited := discovery.Container{Name: "x", PID: 44, Command: s, Status: state.StatusExited, ExitSignal: s, ExitCode: nil}
	add("ls", 4, func(w *bytes.Buffer) error {
		lscmd.WriteTable(w, discovery.Snapshot{Containers: []discovery.Container{c, exited}})
		return nil
	})
	add("ls warning", 1, func(w *bytes.Buffer) error {
		lscmd.WriteWarnings(w, []error{errors.New(s)})
		return nil
	})
	add("ps", 4, func(w *bytes.Buffer) error { return writeProcessTable(w, namespace.Set{}, c) })
	add("mounts", 3, func(w *bytes.Buffer) error {
		return writeMountTable(w, []mounts.Mount{{Source: s, Target: s, FSType: s}, {Source: "/dev/sda", Target: "/", FSType: "ext4"}})
	})
	add("ns tree", 3, func(w *bytes.Buffer) error {
		return writeTree(w, &discovery.PIDNamespaceNode{Inode: 1, Children: []*discovery.PIDNamespaceNode{
			{Inode: 2, Container: 42, Name: s, Command: s, Children: []*discovery.PIDNamespaceNode{{Inode: 3, Container: 43, Command: s}}},
		}}, 0)
	})
	add("events", 2, func(w *bytes.Buffer) error {
		return writeEvents(w, []events.Event{
			{Time: time.Unix(0, 0), Container: s, Kind: s, Detail: s, By: s},
			{Time: time.Unix(0, 0), Container: "web", Kind: "killed", Detail: "SIGTERM to process 2 inside (host pid 43, " + s + ")", By: "boxtui"},
		}, false)
	})
	add("stats", 2, func(w *bytes.Buffer) error { return writeStats(w, []statsLine{{Name: s, PID: 42}}, false) })
	add("rootfs create", 6, func(w *bytes.Buffer) error {
		printCreateReport(w, rootfs.Report{Dir: s, Binaries: []string{s}, Libraries: []string{s}, Terminfo: []string{s}, Devices: []string{s}, Skipped: []string{s}}, true)
		return nil
	})
	add("rootfs import", 3, func(w *bytes.Buffer) error {
		return writeImportReport(w, rootfs.ImportReport{Dir: s, Skipped: []string{s}, Created: []string{s}})
	})
	add("error", 1, func(w *bytes.Buffer) error {
		fail := &cobra.Command{Use: "fail-for-test", RunE: func(*cobra.Command, []string) error { return errors.New("mount " + s + ": busy") }}
		rootCmd.AddCommand(fail)
		defer rootCmd.RemoveCommand(fail)
		executeTo([]string{"fail-for-test"}, w)
		return nil
	})
	return outs
}

// checkTerminalSafe fails unless out could go to a terminal: valid UTF-8
// (so no raw C1 byte), and no C0 control but the newline, no DEL, no C1
// character, no bidirectional override.
func checkTerminalSafe(t *testing.T, name, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: output is not valid UTF-8:\n%q", name, out)
		return
	}
	for _, r := range out {
		if r != '\n' && (r < 0x20 || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)) {
			t.Errorf("%s: output holds %U:\n%q", name, r, out)
			return
		}
	}
}

func TestTextOutputEscapesContainerStrings(t *testing.T) {
	for name, o := range textOutputs(t, hostile) {
		checkTerminalSafe(t, name, o.out)
		if !strings.Contains(o.out, `\x1b]0;PWNED\x07\x1b[2J\x9b31m`) {
			t.Errorf("%s: the escaped form is missing:\n%s", name, o.out)
		}
		if n := strings.Count(o.out, "\n"); n != o.lines {
			t.Errorf("%s: %d lines, want %d:\n%s", name, n, o.lines, o.out)
		}
	}
}

// Columns after an escaped or wide cell stay aligned.
func TestMountTableAlignsEscapedAndWideCells(t *testing.T) {
	var b bytes.Buffer
	writeMountTable(&b, []mounts.Mount{
		{Target: "/mnt/\x1b]0;x\a", Source: "none", FSType: "tmpfs"},
		{Target: "/データ", Source: "/dev/sda[/日本]", FSType: "ext4"},
		{Target: "/", Source: "/dev/sda", FSType: "ext4", ReadOnly: true, Managed: true},
	})
	want := `TARGET             SOURCE           FSTYPE  MODE  MANAGED
/mnt/\x1b]0;x\x07  none             tmpfs   rw    -
/データ            /dev/sda[/日本]  ext4    rw    -
/                  /dev/sda         ext4    ro    yes
`
	if b.String() != want {
		t.Errorf("mount table:\n%s\nwant:\n%s", b.String(), want)
	}
}

// Any bytes in a command line, a name or a mount point: every text output
// stays terminal-safe and keeps its number of lines.
func FuzzTextOutputIsTerminalSafe(f *testing.F) {
	for _, s := range []string{"", "/bin/sleep 1000", hostile, "\u009b\u0085\u202e", `\x1b`, "日本語🙂", "a\tb", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, o := range textOutputs(t, s) {
			checkTerminalSafe(t, name, o.out)
			if n := strings.Count(o.out, "\n"); n != o.lines {
				t.Fatalf("%s of %q: %d lines, want %d:\n%s", name, s, n, o.lines, o.out)
			}
		}
	})
}
