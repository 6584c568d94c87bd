package procfs

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseStatusContainerSample(t *testing.T) {
	f, err := os.Open("testdata/status-container.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := ParseStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "sleep" || st.UID != 0 || st.PPid == 0 {
		t.Errorf("got %+v", st)
	}
	if !reflect.DeepEqual(st.NSpid, []int{7685, 1}) || st.InnerPID() != 1 {
		t.Errorf("NSpid = %v, inner %d; want [7685 1], inner 1", st.NSpid, st.InnerPID())
	}
}

func TestParseStatusHostSample(t *testing.T) {
	f, err := os.Open("testdata/status-host.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := ParseStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.NSpid) != 1 || st.InnerPID() != st.NSpid[0] {
		t.Errorf("NSpid = %v", st.NSpid)
	}
}

func TestParseStatusSigCgt(t *testing.T) {
	// bash as PID 1 catches SIGINT(2), SIGCHLD(17) and others, not SIGTERM(15).
	st, err := ParseStatus(strings.NewReader("Name:\tbash\nSigCgt:\t000000004b813efb\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !st.CatchesSignal(2) || st.CatchesSignal(15) || !st.CatchesSignal(17) {
		t.Errorf("SigCgt %x: INT %v TERM %v CHLD %v", st.SigCgt, st.CatchesSignal(2), st.CatchesSignal(15), st.CatchesSignal(17))
	}
	if st.CatchesSignal(0) || st.CatchesSignal(65) {
		t.Error("out-of-range signals must not be caught")
	}
}

func TestParseStatusErrors(t *testing.T) {
	for _, in := range []string{
		"NSpid:\t12 x\n",
		"NSpid:\t12 0\n",
		"PPid:\tabc\n",
		"Uid:\t\n",
		"SigCgt:\tzz\n",
	} {
		if _, err := ParseStatus(strings.NewReader(in)); err == nil {
			t.Errorf("ParseStatus(%q): want an error", in)
		}
	}
}

func TestParseStatSample(t *testing.T) {
	data, err := os.ReadFile("testdata/stat-sleep.txt")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseStat(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{PID: 7685, Comm: "sleep", State: 'S', PPid: 7683, StartTime: 55146, RSSPages: 411}
	if st != want {
		t.Errorf("got %+v\nwant %+v", st, want)
	}
}

func TestParseStatOddComm(t *testing.T) {
	// A command name may hold spaces and parentheses: "a) (b".
	line := []byte("42 (a) (b) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 999 0 5 0 0 0\n")
	st, err := ParseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.Comm != "a) (b" || st.StartTime != 999 || st.UTime != 7 || st.STime != 3 || st.RSSPages != 5 {
		t.Errorf("got %+v", st)
	}
}

func TestParseStatErrors(t *testing.T) {
	for _, in := range []string{"", "42", "42 (x", "x (y) R 1", "42 (y) R 1 2 3", "42 (y) RR 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 999 0 5 0"} {
		if _, err := ParseStat([]byte(in)); err == nil {
			t.Errorf("ParseStat(%q): want an error", in)
		}
	}
}

func TestParseCmdline(t *testing.T) {
	if got := ParseCmdline([]byte("sleep\x001000\x00")); !reflect.DeepEqual(got, []string{"sleep", "1000"}) {
		t.Errorf("got %q", got)
	}
	if got := ParseCmdline(nil); got != nil {
		t.Errorf("kernel thread: got %q, want nil", got)
	}
}

func FuzzParseStatus(f *testing.F) {
	for _, p := range []string{"testdata/status-container.txt", "testdata/status-host.txt"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStatus(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range st.NSpid {
			if p <= 0 {
				t.Fatalf("accepted non-positive pid in %v", st.NSpid)
			}
		}
	})
}

func FuzzParseStat(f *testing.F) {
	data, err := os.ReadFile("testdata/stat-sleep.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("42 (a) (b) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 999 0 5 0 0 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseStat(data)
		if err != nil {
			return
		}
		if strings.Count(string(data), "(") == 0 {
			t.Fatalf("accepted a line without a command name: %+v", st)
		}
	})
}
