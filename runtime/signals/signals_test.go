package signals

import (
	"os"
	"strings"
	"testing"

	"boxtui/runtime/procfs"

	"golang.org/x/sys/unix"
)

func parseStatusFile(t *testing.T, path string) procfs.Status {
	t.Helper()
	f, err := os.Open(path)
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

// systemd as PID 1 (captured from `systemd-nspawn -b` here) catches none
// of its stop signals: it blocks them and reads them from a signalfd. They
// count as handled all the same.
func TestParseStatusSystemdBlocksItsSignals(t *testing.T) {
	st := parseStatusFile(t, "testdata/status-systemd.txt")
	if st.Name != "systemd" || st.InnerPID() != 1 {
		t.Fatalf("got %+v", st)
	}
	if st.SigBlk != 0x7fe3c0fe28014a03 || st.SigCgt != 0x4ec {
		t.Errorf("SigBlk %x SigCgt %x, want 7fe3c0fe28014a03 and 4ec", st.SigBlk, st.SigCgt)
	}
	for _, sig := range []unix.Signal{unix.SIGTERM, SystemdStop, unix.SIGINT} {
		if st.CatchesSignal(int(sig)) {
			t.Errorf("systemd catches SIG%s: it should only block it", Name(sig))
		}
		if !st.BlocksSignal(int(sig)) || !st.HandlesSignal(int(sig)) {
			t.Errorf("SIG%s: blocked %v handled %v, want both", Name(sig), st.BlocksSignal(int(sig)), st.HandlesSignal(int(sig)))
		}
	}
	if st.HandlesSignal(int(unix.SIGKILL)) || st.HandlesSignal(0) || st.HandlesSignal(65) {
		t.Error("SIGKILL or an out-of-range signal counted as handled")
	}
}

// An init that waits for SIGTERM on a signalfd (stopinit, the faults
// tests' init, captured here) has it in SigBlk only.
func TestParseStatusSignalfdInit(t *testing.T) {
	st := parseStatusFile(t, "testdata/status-signalfd.txt")
	if st.SigCgt != 0 || st.SigBlk != 0x4000 {
		t.Fatalf("SigCgt %x SigBlk %x, want 0 and 4000", st.SigCgt, st.SigBlk)
	}
	if !st.HandlesSignal(int(unix.SIGTERM)) || st.HandlesSignal(int(unix.SIGINT)) {
		t.Errorf("TERM handled %v, INT handled %v; want true, false", st.HandlesSignal(int(unix.SIGTERM)), st.HandlesSignal(int(unix.SIGINT)))
	}
	// sleep as PID 1 neither catches nor blocks anything.
	sl := parseStatusFile(t, "testdata/status-container.txt")
	if sl.HandlesSignal(int(unix.SIGTERM)) {
		t.Errorf("sleep counted as handling SIGTERM (SigCgt %x SigBlk %x)", sl.SigCgt, sl.SigBlk)
	}
}

func TestParseStatusSigBlkError(t *testing.T) {
	if _, err := procfs.ParseStatus(strings.NewReader("SigBlk:\tnothex\n")); err == nil {
		t.Error("a SigBlk that is not hex was accepted")
	}
}

func TestRealTimeSignalNames(t *testing.T) {
	for _, c := range []struct {
		in   string
		want unix.Signal
		name string
	}{
		{"RTMIN+3", 37, "RTMIN+3"},
		{"SIGRTMIN+3", 37, "RTMIN+3"},
		{"rtmin+3", 37, "RTMIN+3"},
		{"RTMIN", 34, "RTMIN"},
		{"RTMIN+15", 49, "RTMIN+15"},
		{"RTMAX-14", 50, "RTMAX-14"},
		{"RTMAX-1", 63, "RTMAX-1"},
		{"RTMAX", 64, "RTMAX"},
		{"37", 37, "RTMIN+3"},
		{"TERM", unix.SIGTERM, "TERM"},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", c.in, got, err, c.want)
			continue
		}
		if n := Name(got); n != c.name {
			t.Errorf("SignalName(%d) = %q, want %q", got, n, c.name)
		}
	}
	for _, bad := range []string{"RTMIN-1", "RTMAX+1", "RTMIN+31", "RTMIN+", "RTMIN++3", "RTMINX", "RTMAX--2"} {
		if sig, err := Parse(bad); err == nil {
			t.Errorf("ParseSignal(%q) = %d, want an error", bad, sig)
		}
	}
	// The kernel's 32 and 33 belong to the C library: numbers only.
	if n := Name(32); n != "32" {
		t.Errorf("SignalName(32) = %q", n)
	}
}

// /proc/PID/syscall of stopinit waiting in sigwaitinfo (captured here):
// rt_sigtimedwait(set, NULL, NULL, 8); and of sleep, in clock_nanosleep.
func TestParseSyscallSamples(t *testing.T) {
	data, err := os.ReadFile("testdata/syscall-sigwait.txt")
	if err != nil {
		t.Fatal(err)
	}
	sc, ok, err := ParseSyscall(data)
	if err != nil || !ok {
		t.Fatalf("ParseSyscall: ok %v, %v", ok, err)
	}
	if sc.Nr != unix.SYS_RT_SIGTIMEDWAIT || sc.Args[0] != 0x7fff1221ce00 || sc.Args[3] != 8 {
		t.Errorf("got %+v, want rt_sigtimedwait(0x7fff1221ce00, 0, 0, 8)", sc)
	}
	data, err = os.ReadFile("testdata/syscall-sleep.txt")
	if err != nil {
		t.Fatal(err)
	}
	if sc, ok, err := ParseSyscall(data); err != nil || !ok || sc.Nr == unix.SYS_RT_SIGTIMEDWAIT {
		t.Errorf("sleep: %+v, ok %v, %v", sc, ok, err)
	}
	for _, s := range []string{"running\n", "-1 0x7ffe3e2b0e98 0x7f3876e8b503\n"} {
		if _, ok, err := ParseSyscall([]byte(s)); ok || err != nil {
			t.Errorf("%q: ok %v, %v; want not in a system call", s, ok, err)
		}
	}
	for _, s := range []string{"", "x 0x1", "128 0x1 0x2", "128 1 2 3 4 5 6", "128 0xz 0x0 0x0 0x8 0x0 0x0"} {
		if _, _, err := ParseSyscall([]byte(s)); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
