//go:build cgo

package cshim

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"boxtui/runtime/enter/execcmd"
	"boxtui/runtime/events"
	"boxtui/runtime/signals"

	"golang.org/x/sys/unix"
)

// goJSON is how events.Record encodes a string: encoding/json's
// Marshal, HTML escaping on.
func goJSON(t testing.TB, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var jsonSeeds = []string{
	"", "plain", `"quoted" \back\slash`, "<a&b>", "tab\tnl\ncr\r", "\b\f\v\x01\x1f\x7f",
	"héllo wörld", "日本語", "emoji 😀", "\u2028 and \u2029", "\u2027\u202a",
	"\xff", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
	"\xe2\x80", "\xe2\x80\xa8", "\xe2", "a\xc3", "\xc3\x28", "\xf0\x9f\x98", "\xef\xbf\xbd",
	"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xc2\x80\xdf\xbf", "x\x80y", strings.Repeat("é<", 3000),
}

// TestJSONStringMatchesGo: json_str writes exactly what encoding/json
// does, invalid UTF-8 and U+2028/2029 included (it used to pass them raw).
func TestJSONStringMatchesGo(t *testing.T) {
	for _, s := range jsonSeeds {
		if got, want := JSONString(s), goJSON(t, s); got != want {
			t.Errorf("json_str(%q) = %q, Go writes %q", s, got, want)
		}
	}
	// Every one- and two-byte string, and every lead byte before each
	// continuation pair.
	for a := 1; a < 256; a++ {
		s := string([]byte{byte(a)})
		if got, want := JSONString(s), goJSON(t, s); got != want {
			t.Fatalf("json_str(%q) = %q, Go writes %q", s, got, want)
		}
		for b := 1; b < 256; b++ {
			s := string([]byte{byte(a), byte(b)})
			if got, want := JSONString(s), goJSON(t, s); got != want {
				t.Fatalf("json_str(%q) = %q, Go writes %q", s, got, want)
			}
		}
	}
	for a := 0xe0; a < 0x100; a++ {
		for b := 0x80; b < 0xc0; b++ {
			for _, c := range []byte{0x7f, 0x80, 0xa8, 0xbf, 0xc0} {
				s := string([]byte{byte(a), byte(b), c, 0x80})
				if got, want := JSONString(s), goJSON(t, s); got != want {
					t.Fatalf("json_str(%q) = %q, Go writes %q", s, got, want)
				}
			}
		}
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if HasNUL(s) {
			return // argv cannot hold one
		}
		if got, want := JSONString(s), goJSON(t, s); got != want {
			t.Fatalf("json_str(%q) = %q, Go writes %q (valid UTF-8: %v)", s, got, want, utf8.ValidString(s))
		}
	})
}

// TestEventLineMatchesGo: the C history line is events.Record's,
// byte for byte, however long the detail (a command line over 8 KiB used
// to be left out).
func TestEventLineMatchesGo(t *testing.T) {
	when := []time.Time{
		time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC),
		time.Date(2026, 12, 7, 1, 2, 3, 120000000, time.UTC),
		time.Date(2026, 1, 2, 23, 59, 59, 999999999, time.UTC),
	}
	details := append([]string{"host pid 42: " + strings.Repeat("arg ", 5000)}, jsonSeeds...)
	for _, tm := range when {
		for _, d := range details {
			if d == "" {
				continue // never a detail of exec's ("host pid N: ..."); Go omits an empty one
			}
			ev := events.Event{Time: tm, Container: "pidns:4026532000@12345", Kind: events.ExecOpened, Detail: d, By: "boxtui exec"}
			want, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			got := EventLine(tm.Format(time.RFC3339Nano), ev.Container, ev.Kind, d)
			if got != string(want)+"\n" {
				t.Fatalf("C line differs from Go's:\nC:  %.300q\nGo: %.300q", got, string(want)+"\n")
			}
		}
	}
}

var parseSeeds = [][]string{
	{"1", "--", "ls"}, {"c"}, {"c", "--"}, {"c", "--", "--"}, {"-i", "c", "ls", "-l"}, {"-iw/tmp", "c"},
	{"-w", "/x", "-e", "A=1", "--env=B=2", "--env", "C", "c", "--", "x"}, {"--interactive=false", "c"},
	{"--interactive=1", "c"}, {"--interactive=yes", "c"}, {"--workdir=", "c"}, {"-w", "", "c"},
	{"--", "c", "a"}, {"--"}, {}, {"-"}, {"-", "x"}, {"-e"}, {"-ie", "A=1", "c"}, {"-ei"}, {"--bogus", "c"},
	{"-t", "c"}, {"--ns", "pid", "c"}, {"-h"}, {"--help"}, {"--=x", "c"}, {"---", "c"}, {"-w"},
	{"--workdir"}, {"--e", "c"}, {"-i", "-i", "c", "-w", "x"},
}

// TestParseMatchesExecCmd: whatever fastexec.c's argv parser accepts,
// execcmd.Parse reads the same way (what it declines, Go parses alone).
func TestParseMatchesExecCmd(t *testing.T) {
	for _, args := range parseSeeds {
		checkParse(t, args)
	}
}

func checkParse(t *testing.T, args []string) {
	t.Helper()
	got, ok := Parse(args)
	if !ok {
		return
	}
	f, err := execcmd.Parse(args)
	if err != nil {
		t.Fatalf("C accepts %q, Go says %v", args, err)
	}
	interactive := "0"
	if f.Interactive {
		interactive = "1"
	}
	want := append([]string{interactive, f.Dir, strconv.Itoa(len(f.Env))}, f.Env...)
	want = append(append(want, f.Target), f.Command...)
	if f.TTY || f.NS != "" || f.NewMountProc || f.AsEngine || !reflect.DeepEqual(got, want) {
		t.Fatalf("exec %q: C reads %q, Go %q (%+v)", args, got, want, f)
	}
}

func FuzzParse(f *testing.F) {
	for _, args := range parseSeeds {
		f.Add(strings.Join(args, "\n"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		if HasNUL(joined) || len(joined) > 4096 {
			return
		}
		var args []string
		if joined != "" {
			args = strings.Split(joined, "\n")
		}
		if len(args) > 400 {
			return
		}
		checkParse(t, args)
	})
}

// TestSignalNameMatchesGo: exec-closed names the signal that ended the
// command as signals.Name does, for every number (the C path used
// glibc's names: POLL for 29, numbers for the realtime signals).
func TestSignalNameMatchesGo(t *testing.T) {
	for sig := -1; sig <= 70; sig++ {
		if got, want := SignalName(sig), signals.Name(unix.Signal(sig)); got != want {
			t.Errorf("signal %d: C names it %q, Go %q", sig, got, want)
		}
	}
}
