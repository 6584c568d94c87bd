//go:build cgo

package cshim

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

var targetSeeds = []string{
	"1", "42", "0", "00", "007", "123456789", "1234567890", "99999999999999999999", "+5", "-5", "+", "-", "5a", "a5",
	"web", "events", "mounts", "", " 5", "5 ", "pid:5", "docker:web", "0x10", "١٢", "web.1",
}

// checkTarget: a TARGET the C path reads as a PID, Go reads as the same
// PID (strconv.Atoi); one it reads as a name, Go reads as a name too.
func checkTarget(t *testing.T, target string) {
	t.Helper()
	if HasNUL(target) {
		return
	}
	kind, pid := TargetKind(target)
	n, err := strconv.Atoi(target)
	switch {
	case kind == 1 && (err != nil || n != pid || n <= 0):
		t.Fatalf("target %q: C reads PID %d, Go %d (%v)", target, pid, n, err)
	case kind == 0 && (err == nil || state.ValidateName(target) != nil):
		t.Fatalf("target %q: C reads a name, Go a PID or nothing (%v)", target, state.ValidateName(target))
	}
}

func TestTargetKindMatchesGo(t *testing.T) {
	for _, s := range targetSeeds {
		checkTarget(t, s)
	}
	if k, pid := TargetKind("42"); k != 1 || pid != 42 {
		t.Errorf("42 is read as %d %d, want PID 42", k, pid)
	}
	if k, _ := TargetKind("web"); k != 0 {
		t.Errorf("web is read as %d, want a name", k)
	}
}

func FuzzTargetKind(f *testing.F) {
	for _, s := range targetSeeds {
		f.Add(s)
	}
	f.Fuzz(checkTarget)
}

// checkStatus: what the C path reads from a status text, Go reads the
// same (readStatusOf: ParseStatus without an error).
func checkStatus(t *testing.T, text []byte) bool {
	t.Helper()
	ppid, inner, ok := ParseStatus(text)
	st, err := procfs.ParseStatus(bytes.NewReader(text))
	if ok && (err != nil || st.PPid != ppid || st.InnerPID() != inner) {
		t.Fatalf("status %q: C reads PPid %d NSpid %d, Go %d %d (%v)", text, ppid, inner, st.PPid, st.InnerPID(), err)
	}
	return ok
}

// checkStat: the same for a stat line (ParseStat).
func checkStat(t *testing.T, text []byte) bool {
	t.Helper()
	state, start, ok := ParseStat(text)
	st, err := procfs.ParseStat(text)
	if ok && (err != nil || st.State != state || st.StartTime != start) {
		t.Fatalf("stat %q: C reads %c %d, Go %c %d (%v)", text, state, start, st.State, st.StartTime, err)
	}
	return ok
}

const sampleStatus = "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t77\nNgid:\t0\nPid:\t77\nPPid:\t70\nTracerPid:\t0\n" +
	"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t \nNStgid:\t77\t1\nNSpid:\t77\t1\nNSpgid:\t77\t1\nNSsid:\t77\t1\n" +
	"SigQ:\t0/7823\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n" +
	"SigIgn:\t0000000000000004\nSigCgt:\t0000000000010002\n"

const sampleStat = "77 (s) h (a)) S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1982273 2654208 127 " +
	"18446744073709551615 1 1 0 0 0 0 65536 4 65538 1 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

var hostileStatus = []string{
	"", "PPid:\t70\nNSpid:\t77\t1", "PPid:\t70\nNSpid:\t77\t1\nPPid:\t71\n", "PPid:\t70\nNSpid:\t77\t1\nUid:\tx\n",
	"PPid:\t70\nNSpid:\t77\t1\nSigCgt:\tzz\n", "PPid:\t70\nNSpid:\t77\t0\n", "PPid:\t70\nNSpid:\t77\x00\t1\n",
	"PPid:\t+70\nNSpid:\t1\n", "PPid:\t70\nNSpid:\t77\t1\t\n", "PPid: 70\nNSpid:\t1\n", "PPid:\t70\r\nNSpid:\t1\n",
	"PPid:\t70\nNSpid:\t12345\t1", "PPid:\t70\nNSpid:\t1\nSigBlk:\t00000000000000000\n",
}

var hostileStat = []string{
	"", "77 (s) S 70", "77 (s) S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1982273\n",
	"77 (s) S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 -1982273 2654208 127\n",
	"77 (s) S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1982273 2654208 x\n",
	"77 (s) SS 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1982273 2654208 127\n",
	"77 (s)  S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1982273 2654208 127\n",
	"x (s) S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1982273 2654208 127\n",
	"77 s) S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1982273 2654208 127\n",
	"77 (s) S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999 2654208 127\n",
	"77 (s) S 70 77 77 34816 77 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1982273\x00 2654208 127\n",
}

// TestProcParsersMatchGo: fastexec.c reads /proc's status and stat texts
// as runtime does: the kernel's own (this host's live processes) both
// read the same, and texts the kernel never writes are refused or read
// the same (the C path used to take a status cut at its buffer, whose
// last NSpid could read 1 for 17).
func TestProcParsersMatchGo(t *testing.T) {
	if !checkStatus(t, []byte(sampleStatus)) || !checkStat(t, []byte(sampleStat)) {
		t.Fatal("the C path refuses the kernel's form")
	}
	for _, s := range hostileStatus {
		if checkStatus(t, []byte(s)) {
			t.Errorf("C reads the status %q", s)
		}
	}
	for _, s := range hostileStat {
		if checkStat(t, []byte(s)) {
			t.Errorf("C reads the stat %q", s)
		}
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	read := 0
	for _, d := range dirs {
		status, err1 := os.ReadFile(d + "/status")
		stat, err2 := os.ReadFile(d + "/stat")
		if err1 != nil || err2 != nil {
			continue // gone meanwhile
		}
		if !checkStatus(t, status) || !checkStat(t, stat) {
			t.Errorf("C refuses the kernel's text of %s:\n%s\n%s", d, status, stat)
		}
		read++
	}
	if read == 0 {
		t.Fatal("no process of /proc read")
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(sampleStatus))
	for _, s := range hostileStatus {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) { checkStatus(t, text) })
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(sampleStat))
	for _, s := range hostileStat {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) { checkStat(t, text) })
}
