package launch

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/pty"
)

// Every console gets the TERM the emulator implements, whatever the
// caller's terminal is (a console launched from a `screen` session used to
// say TERM=screen to a program drawn by boxtui's xterm emulator), and its
// terminfo entry is there in the default rootfs.
func TestConsoleTERMIsTheEmulatorsWithItsTerminfo(t *testing.T) {
	rootfs := setup(t)
	t.Setenv("TERM", "screen")
	c := launch(t, Options{Rootfs: rootfs, Console: true, Raw: true, Command: []string{"/bin/sh", "-c",
		`echo T=$TERM; for d in /etc/terminfo /lib/terminfo /usr/share/terminfo /usr/lib/terminfo; do [ -r $d/x/$TERM ] && echo FOUND=$d; done; true`}})
	out, err := readConsole(t, c.Console, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "T="+pty.TERM+"\n") {
		t.Errorf("console TERM: %q, want %s", out, pty.TERM)
	}
	if !strings.Contains(out, "FOUND=") {
		t.Errorf("no terminfo entry for %s in the default rootfs: %q", pty.TERM, out)
	}
}

// A rootfs of one static binary (busybox) has no terminfo database and
// needs none: its programs write xterm's sequences themselves.
func TestOneBinaryRootfsWorksWithoutTerminfo(t *testing.T) {
	setup(t)
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("needs a static busybox: not installed")
	}
	if f, err := elf.Open(bb); err != nil {
		t.Skip("busybox is not an ELF binary")
	} else {
		interp := f.Section(".interp")
		f.Close()
		if interp != nil {
			t.Skip("busybox is dynamically linked")
		}
	}
	root := t.TempDir()
	for _, d := range []string{"bin", "proc", "dev"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	c := launch(t, Options{Rootfs: root, Console: true, Raw: true, Command: []string{"/bin/busybox", "sh", "-c",
		`echo T=$TERM; /bin/busybox ls -d /etc/terminfo /lib/terminfo /usr/share/terminfo 2>/dev/null; /bin/busybox clear; echo rc=$?`}})
	out, err := readConsole(t, c.Console, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "T="+pty.TERM+"\n") || !strings.Contains(out, "\x1b[H\x1b[J") || !strings.Contains(out, "rc=0") {
		t.Errorf("one-binary rootfs: %q, want TERM=%s and clear's sequences", out, pty.TERM)
	}
	if strings.Contains(out, "terminfo") {
		t.Errorf("the one-binary rootfs has a terminfo directory: %q", out)
	}
}
