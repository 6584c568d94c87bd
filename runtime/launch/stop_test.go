package launch

import (
	"os"
	"strings"
	"testing"
	"time"

	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"

	"golang.org/x/sys/unix"
)

func sampleStatus(t *testing.T, name string) procfs.Status {
	t.Helper()
	f, err := os.Open("../signals/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := procfs.ParseStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The stop signal is chosen from captured inits: systemd (from
// `systemd-nspawn -b`), an init that reads SIGTERM from a signalfd, and
// sleep.
func TestChooseStopSignal(t *testing.T) {
	systemd := sampleStatus(t, "status-systemd.txt")
	notSystemd := systemd
	notSystemd.Name = "init"
	noRT := systemd
	noRT.SigBlk &^= 1 << (signals.SystemdStop - 1)
	catcher := sampleStatus(t, "status-container.txt")
	catcher.SigCgt = 1 << (unix.SIGTERM - 1)
	for _, c := range []struct {
		what string
		st   procfs.Status
		exe  string
		sig  unix.Signal
		why  string
	}{
		{"systemd", systemd, "/usr/lib/systemd/systemd", signals.SystemdStop, "systemd's stop signal"},
		{"systemd replaced by an upgrade", systemd, "/usr/lib/systemd/systemd (deleted)", signals.SystemdStop, "systemd's stop signal"},
		{"a process only called systemd", systemd, "/bin/myinit", unix.SIGTERM, "blocked"},
		{"systemd's file under another command name", notSystemd, "/usr/lib/systemd/systemd", unix.SIGTERM, "blocked"},
		{"systemd that does not take SIGRTMIN+3", noRT, "/usr/lib/systemd/systemd", unix.SIGTERM, "blocked"},
		{"signalfd init", sampleStatus(t, "status-signalfd.txt"), "/stopinit", unix.SIGTERM, "blocked"},
		{"handler", catcher, "/bin/tini", unix.SIGTERM, "caught"},
		{"sleep", sampleStatus(t, "status-container.txt"), "/bin/sleep", unix.SIGKILL, "SIGTERM is neither caught nor blocked"},
	} {
		sig, why := chooseStopSignal(c.st, c.exe)
		if sig != c.sig || why != c.why {
			t.Errorf("%s: SIG%s (%s), want SIG%s (%s)", c.what, signals.Name(sig), why, signals.Name(c.sig), c.why)
		}
	}
}

func TestStoppedLine(t *testing.T) {
	for _, c := range []struct {
		s    Stopped
		want string
	}{
		{Stopped{Signal: signals.SystemdStop, Why: "systemd's stop signal", Exited: true, After: 123 * time.Millisecond, Grace: 5 * time.Second},
			"sent SIGRTMIN+3 (systemd's stop signal), exited after 0.1 s"},
		{Stopped{Signal: unix.SIGTERM, Why: "caught", Exited: true, After: 37 * time.Millisecond},
			"sent SIGTERM (caught), exited after 0.04 s"},
		{Stopped{Signal: unix.SIGTERM, Why: "blocked", Killed: true, Grace: 5 * time.Second},
			"sent SIGTERM (blocked), still running after 5 s: sent SIGKILL"},
		{Stopped{Signal: unix.SIGKILL, Why: "SIGTERM is neither caught nor blocked"},
			"sent SIGKILL: SIGTERM is neither caught nor blocked"},
	} {
		if got := c.s.String(); got != c.want || strings.Contains(got, "\n") {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// A stop's time reads as people say it, and never as "0 s" for an init
// that exited within a few milliseconds.
func TestStopSecondsWording(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                        "0.001 s",
		300 * time.Microsecond:   "0.001 s",
		4200 * time.Microsecond:  "0.004 s",
		43 * time.Millisecond:    "0.04 s",
		340 * time.Millisecond:   "0.3 s",
		5 * time.Second:          "5 s",
		12400 * time.Millisecond: "12 s",
	} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}
