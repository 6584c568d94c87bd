package faults

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"boxtui/internal/testutil"
	"boxtui/runtime/mounts"
)

// What a hostile container names its process and its mount point: the
// sequences that set a terminal's title and clear its screen, BEL, C1 CSI
// both as UTF-8 (U+009B) and as a raw byte, DEL and invalid UTF-8.
const (
	hostileArgv0 = "\x1b]0;PWNED\a\x1b[2J\u009b\x9b31m\x7f\xff"
	hostileComm  = "\x1b]2;C\a\x9b\x7f\xff" // 9 bytes: the kernel keeps 15
	hostileMount = "/mnt/\x1b]0;PWNED\a\x1b[2J\u009b\x9b\x7f\xff"
	hostileFS    = "src\x1b[31m\x9b"
)

// shellBytes writes s for a bash $'...' string.
func shellBytes(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		b.WriteString(`\x`)
		b.WriteByte("0123456789abcdef"[s[i]>>4])
		b.WriteByte("0123456789abcdef"[s[i]&0xf])
	}
	b.WriteString("'")
	return b.String()
}

// asJSON is what encoding/json makes of s: the same bytes, except that
// each byte of invalid UTF-8 becomes U+FFFD.
func asJSON(t *testing.T, s string) string {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// terminalUnsafe returns the first byte or character of out that a
// terminal could act on: a C0 control other than the newline, DEL, a C1
// control (a raw byte 0x80-0x9f is invalid UTF-8, U+0080-U+009F is
// caught as a character), or any invalid UTF-8.
func terminalUnsafe(out string) (string, bool) {
	for i, r := range out {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(out[i:], "\uFFFD"):
			return out[i : i+1], true
		case r == '\n':
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return string(r), true
		}
	}
	return "", false
}

// A container names its process and its mount points as it likes, with
// escape sequences that would retitle and clear the terminal of whoever
// runs `boxtui ls`. Every text output escapes them (\x1b), and JSON keeps
// them exactly, written as \u escapes.
func TestHostileNamesDoNotReachTheTerminal(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.FreshRootfs(t)
	script := `set -e
d=` + shellBytes(hostileMount) + `
mkdir -p "$d"
mount -t tmpfs ` + shellBytes(hostileFS) + ` "$d"
ln -s /bin/sleep "$d/"` + shellBytes(hostileComm) + `
exec -a ` + shellBytes(hostileArgv0) + ` "$d/"` + shellBytes(hostileComm) + ` 1000`
	c.detached("esc", rootfs, "/bin/bash", "-c", script)

	wantCommand := asJSON(t, hostileArgv0+" 1000")
	testutil.WaitFor(t, 10*time.Second, func() bool {
		ct, ok := find(c.ls(false), "esc")
		return ok && ct.Command == wantCommand
	}, "the container's init to run under its hostile name")

	// JSON carries the original: every byte of valid UTF-8 exactly (ESC,
	// BEL, DEL, U+009B), an invalid byte as U+FFFD, as before.
	ct, _ := find(c.ls(false), "esc")
	if ct.Comm != asJSON(t, hostileComm) {
		t.Errorf("ls --json: comm %q, want %q", ct.Comm, asJSON(t, hostileComm))
	}
	if !strings.Contains(ct.Command, "\x1b]0;PWNED\a\x1b[2J\u009b") {
		t.Errorf("ls --json: command %q lost its bytes", ct.Command)
	}
	var ms []mounts.Mount
	if err := json.Unmarshal([]byte(c.mustRun("mounts", "--json", "esc")), &ms); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range ms {
		if m.FSType == "tmpfs" && strings.HasPrefix(m.Target, "/mnt/") {
			found = true
			if m.Target != asJSON(t, hostileMount) || m.Source != asJSON(t, hostileFS) {
				t.Errorf("mounts --json: %q on %q, want %q on %q", m.Source, m.Target, asJSON(t, hostileFS), asJSON(t, hostileMount))
			}
		}
	}
	if !found {
		t.Errorf("mounts --json does not list the hostile mount: %+v", ms)
	}

	// An event that names the process by its comm.
	c.mustRun("kill", "-s", "CONT", "--pid", "1", "esc")

	for _, cmd := range []struct {
		args []string
		want []string // escaped forms that must be printed
	}{
		{[]string{"ls"}, []string{`\x1b]0;PWNED\x07\x1b[2J\xc2\x9b\x9b31m\x7f\xff 1000`}},
		{[]string{"ls", "-a"}, []string{`\x1b]0;PWNED\x07\x1b[2J\xc2\x9b\x9b31m\x7f\xff 1000`}},
		{[]string{"ps", "esc"}, []string{`\x1b]0;PWNED\x07\x1b[2J\xc2\x9b\x9b31m\x7f\xff 1000`}},
		{[]string{"mounts", "esc"}, []string{`/mnt/\x1b]0;PWNED\x07\x1b[2J\xc2\x9b\x9b\x7f\xff`, `src\x1b[31m\x9b`}},
		{[]string{"ns", "tree"}, []string{`esc init ` + itoa(ct.PID) + ` \x1b]0;PWNED\x07\x1b[2J\xc2\x9b\x9b31m…`}},
		// The history is JSON lines: the invalid bytes of the comm are
		// U+FFFD there already.
		{[]string{"events", "esc"}, []string{`(host pid ` + itoa(ct.PID) + `, \x1b]2;C\x07` + "\uFFFD" + `\x7f` + "\uFFFD)"}},
		{[]string{"stats", "-n", "1", "-i", "100ms", "esc"}, []string{"esc"}},
		// JSON says the same with \u escapes, DEL and C1 included
		// (encoding/json alone writes those raw).
		{[]string{"ls", "--json"}, []string{`"command": "\u001b]0;PWNED\u0007\u001b[2J\u009b\ufffd31m\u007f\ufffd 1000"`}},
		{[]string{"ls", "-a", "--json"}, []string{`"comm": "\u001b]2;C\u0007\ufffd\u007f\ufffd"`}},
		{[]string{"ps", "--json", "esc"}, []string{`"command": "\u001b]0;PWNED\u0007\u001b[2J\u009b\ufffd31m\u007f\ufffd 1000"`}},
		{[]string{"mounts", "--json", "esc"}, []string{`"target": "/mnt/\u001b]0;PWNED\u0007\u001b[2J\u009b\ufffd\u007f\ufffd"`}},
		{[]string{"ns", "tree", "--json"}, []string{`\u001b]0;PWNED\u0007\u001b[2J\u009b`}},
		{[]string{"events", "--json", "esc"}, []string{`\u001b]2;C\u0007`}},
	} {
		out, errOut, code := c.run(cmd.args...)
		if code != 0 {
			t.Errorf("boxtui %s: exit %d: %s", strings.Join(cmd.args, " "), code, errOut)
			continue
		}
		for what, text := range map[string]string{"stdout": out, "stderr": errOut} {
			if bad, ok := terminalUnsafe(text); ok {
				t.Errorf("boxtui %s printed %q on %s:\n%q", strings.Join(cmd.args, " "), bad, what, text)
			}
		}
		for _, w := range cmd.want {
			if !strings.Contains(out, w) {
				t.Errorf("boxtui %s does not print %s:\n%s", strings.Join(cmd.args, " "), w, out)
			}
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
