//go:build cgo

package cshim

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"boxtui/runtime/launch/stage0"

	"golang.org/x/sys/unix"
)

var quoteSeeds = []string{
	"", "sh", `a"b\c`, "tab\tnl\nbell\a\b\f\r\v", "\x00x"[1:], "\x01\x1f\x7f", "héllo", "日本", "😀",
	"\u2028", "\ufffd", "\xef\xbf\xbd", "\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80",
	"a\xc3", "\U0010ffff", "\u00a0\u200b\ufeff", "x y", "~!@#$%^&*()_+`-={}[]|:;'<>?,./",
}

// TestQuoteMatchesGo: initstage.c quotes exactly as init.go's %+q
// (strconv.QuoteToASCII) does, on every input (the C init used to write
// "%s" between quotes, unlike Go's %q for anything but plain text).
func TestQuoteMatchesGo(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want := fmt.Sprintf("%+q", s)
		if want != strconv.QuoteToASCII(s) {
			t.Fatalf("fmt's %%+q is not QuoteToASCII for %q", s)
		}
		if got := Quote(s); got != want {
			t.Fatalf("C quotes %q as %s, Go as %s", s, got, want)
		}
	}
	for _, s := range quoteSeeds {
		check(s)
	}
	for a := 1; a < 256; a++ {
		for b := 0; b < 256; b++ {
			s := string([]byte{byte(a), byte(b)})
			if b == 0 {
				s = s[:1]
			}
			check(s)
		}
	}
	for a := 0xe0; a < 0x100; a++ {
		for b := 0x80; b < 0xc0; b++ {
			check(string([]byte{byte(a), byte(b), 0xbf}))
			check(string([]byte{byte(a), byte(b), 0x80, 0x80}))
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			return // argv cannot hold one
		}
		if got, want := Quote(s), fmt.Sprintf("%+q", s); got != want {
			t.Fatalf("C quotes %q as %s, Go as %s", s, got, want)
		}
	})
}

// fieldsOf is what parse_block must read from a block Go encoded.
func fieldsOf(cfg stage0.Config) []string {
	flags := ""
	if cfg.Net {
		flags += "n"
	}
	if cfg.Raw {
		flags += "r"
	}
	rows, cols := cfg.Rows, cfg.Cols
	if rows < 0 || rows > 0xffff {
		rows = 0
	}
	if cols < 0 || cols > 0xffff {
		cols = 0
	}
	f := []string{flags, strconv.Itoa(rows), strconv.Itoa(cols), cfg.Rootfs, cfg.Hostname, strconv.Itoa(len(cfg.Env))}
	f = append(f, cfg.Env...)
	return append(f, cfg.Command...)
}

// TestParseBlockReadsTheEncoder: zygote.c reads back every field of what
// EncodePreforkConfig writes.
func TestParseBlockReadsTheEncoder(t *testing.T) {
	for _, cfg := range []stage0.Config{
		{Rootfs: "/r", Hostname: "h", Command: []string{"/bin/sh"}},
		{Rootfs: "/r", Hostname: "h", Net: true, Raw: true, Rows: 50, Cols: 132, Env: []string{"A=1", "B="}, Command: []string{"sh", "-c", "x y"}},
		{Rootfs: "", Hostname: "", Rows: 70000, Cols: -1, Env: []string{""}, Command: []string{""}},
		{Rootfs: "/ü", Hostname: "\xff", Env: make([]string, 300), Command: []string{"a", "", "b"}},
	} {
		block, err := stage0.EncodePreforkConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ParseBlock(block)
		if !ok || !reflect.DeepEqual(got, fieldsOf(cfg)) {
			t.Errorf("parse_block of %+v: %q %v, want %q", cfg, got, ok, fieldsOf(cfg))
		}
	}
}

// hostileBlocks are blocks no client writes: counts that lie, that do not
// fit, that overflow when added to (6 + nenv used to wrap around for a
// huge nenv and pass the bound check: the command then pointed far past
// the block).
var hostileBlocks = []string{
	"", "\x00", "7", "7\x00", "abc\x00", "-7\x00", "6\x00a\x00b\x00c\x00d\x00e\x00f\x00",
	"7\x00\x00\x00\x00/\x00h\x000\x00",
	"7\x00\x00\x00\x00/\x00h\x001\x00sh\x00",
	"7\x00\x00\x00\x00/\x00h\x009223372036854775807\x00sh\x00",
	"7\x00\x00\x00\x00/\x00h\x009223372036854775806\x00sh\x00",
	"7\x00\x00\x00\x00/\x00h\x0099999999999999999999\x00sh\x00",
	"7\x00\x00\x00\x00/\x00h\x00-1\x00sh\x00",
	"7\x00\x00\x00\x00/\x00h\x00 0\x00sh\x00",
	"7\x00\x00\x00\x00/\x00h\x000x1\x00sh\x00",
	"65537\x00", "99999999999999999999\x00", "8\x00\x00\x00\x00/\x00h\x001\x00A=1\x00sh\x00",
	"7\x00n\x00999999999999\x00-5\x00/\x00h\x000\x00sh\x00",
}

// refParse is the block's grammar in Go: what parse_block must accept.
func refParse(b []byte) ([]string, bool) {
	head, rest, ok := strings.Cut(string(b), "\x00")
	if !ok {
		return nil, false
	}
	count, err := strconv.ParseInt(head, 10, 64)
	if err != nil || count < 7 || count > 1<<16 || strings.HasPrefix(head, "+") {
		return nil, false
	}
	fields := strings.SplitAfterN(rest, "\x00", int(count)+1)
	if len(fields) < int(count) {
		return nil, false
	}
	for i := range fields[:count] {
		if !strings.HasSuffix(fields[i], "\x00") {
			return nil, false
		}
		fields[i] = strings.TrimSuffix(fields[i], "\x00")
	}
	fields = fields[:count]
	nenv, err := strconv.ParseInt(fields[5], 10, 64)
	if err != nil || nenv < 0 || nenv > count-7 || strings.HasPrefix(fields[5], "+") {
		return nil, false
	}
	for i := 1; i <= 2; i++ {
		if v, err := strconv.ParseInt(fields[i], 10, 64); err != nil || v < 0 || v > 0xffff || strings.HasPrefix(fields[i], "+") {
			fields[i] = "0"
		} else {
			fields[i] = strconv.FormatInt(v, 10)
		}
	}
	flags := ""
	if strings.Contains(fields[0], "n") {
		flags += "n"
	}
	if strings.Contains(fields[0], "r") {
		flags += "r"
	}
	fields[0] = flags
	fields[5] = strconv.FormatInt(nenv, 10)
	return fields, true
}

// TestParseBlockRefusesHostileBlocks: hostile blocks are refused (or read
// as the grammar says), never read past.
func TestParseBlockRefusesHostileBlocks(t *testing.T) {
	for _, b := range hostileBlocks {
		checkBlock(t, []byte(b))
	}
}

func checkBlock(t *testing.T, b []byte) {
	t.Helper()
	got, ok := ParseBlock(b)
	want, wantOK := refParse(b)
	if ok != wantOK || (ok && !reflect.DeepEqual(got, want)) {
		t.Fatalf("parse_block(%q) = %q %v, want %q %v", b, got, ok, want, wantOK)
	}
}

func FuzzParseBlock(f *testing.F) {
	for _, b := range hostileBlocks {
		f.Add([]byte(b))
	}
	block, _ := stage0.EncodePreforkConfig(stage0.Config{Rootfs: "/r", Hostname: "h", Env: []string{"A=1"}, Command: []string{"sh"}})
	f.Add(block)
	f.Fuzz(func(t *testing.T, b []byte) { checkBlock(t, b) })
}

// TestOpenInRootRetriesEAGAIN: openat2 with RESOLVE_IN_ROOT says EAGAIN
// when a rename or mount anywhere raced its ".." walk; the init retries it
// (it used to fail the launch at once), up to a bound.
func TestOpenInRootRetriesEAGAIN(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	for _, n := range []int{0, 1, 5, 128} {
		fd := OpenInRoot(rootfd, "../../proc", n)
		if fd < 0 {
			t.Fatalf("after %d EAGAINs: %v, want the retry to open it", n, syscall.Errno(-fd))
		}
		unix.Close(fd)
	}
	if fd := OpenInRoot(rootfd, "proc", 129); fd != -int(unix.EAGAIN) {
		t.Fatalf("after 129 EAGAINs: %d, want EAGAIN (the retries are bounded)", fd)
	}
}

func openFDs(t *testing.T) []int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, e := range ents {
		n, _ := strconv.Atoi(e.Name())
		fds = append(fds, n)
	}
	return fds
}

// TestCloseFDsFallback: boxtui_close_fds leaves exactly the fds asked for,
// with close_range and, where it fails, one by one (the zygote, the
// holder and the init used to keep every fd when it failed: they live as
// long as the container).
func TestCloseFDsFallback(t *testing.T) {
	// Fds that must go: plain ones, and ones not close-on-exec.
	var extra []int
	for i := 0; i < 6; i++ {
		var p [2]int
		if err := unix.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, p[0], p[1])
	}
	defer func() {
		for _, fd := range extra {
			unix.Close(fd)
		}
	}()
	for _, hook := range []string{"0", "1"} {
		t.Setenv("BOXTUI_TEST_NO_CLOSE_RANGE", hook)
		for _, from := range []int{0, 3} {
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			keep := []int{extra[3], p[1]}
			sort.Ints(keep)
			var want []int
			for _, fd := range openFDs(t) {
				if fd < from && fd != p[0] {
					want = append(want, fd)
				}
			}
			want = append(want, keep...)
			if rc := CloseFDsInChild(from, keep, p[1]); rc != 0 {
				t.Fatalf("child exited %d", rc)
			}
			unix.Close(p[1])
			out, _ := readAll(p[0])
			unix.Close(p[0])
			var got []int
			for _, f := range strings.Fields(out) {
				n, _ := strconv.Atoi(f)
				got = append(got, n)
			}
			sort.Ints(got)
			sort.Ints(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("BOXTUI_TEST_NO_CLOSE_RANGE=%s, from %d, keep %v: left %v, want %v", hook, from, keep, got, want)
			}
		}
	}
}

func readAll(fd int) (string, error) {
	var b []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if n > 0 {
			b = append(b, buf[:n]...)
		}
		if n <= 0 || err != nil {
			return string(b), err
		}
	}
}

var initArgSeeds = [][]string{
	{}, {"/r"}, {"/r", "h", "0"}, {"/r", "h", "0", "sh"}, {"/r", "h", "1", "A=1", "sh"}, {"/r", "h", "1", "A=1"},
	{"/r", "h", "2", "A=1", "sh"}, {"/r", "h", "x", "sh"}, {"/r", "h", "-1", "sh"}, {"/r", "h", "+1", "A", "sh"},
	{"/r", "h", " 1", "A", "sh"}, {"/r", "h", "1 ", "A", "sh"}, {"/r", "h", "", "sh"}, {"/r", "h", "-0", "sh"},
	{"/r", "h", "00", "sh"}, {"/r", "h", "0x1", "A", "sh"}, {"/r", "h", "9223372036854775807", "sh"},
	{"/r", "h", "9223372036854775808", "sh"}, {"/r", "h", "18446744073709551617", "sh"}, {"/r", "h", "99999999999999999999", "sh"},
	{"", "", "0", ""}, {"/r", "h", "3", "a", "b", "c", "d"},
}

// checkInitArgs: the C init runs exactly the argvs init.go would accept,
// with the same environment count, so that no argv is read one way by
// one init and another way (or refused) by the other.
func checkInitArgs(t *testing.T, args []string) {
	t.Helper()
	for _, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return // argv cannot hold one
		}
	}
	cfg, err := stage0.ParseInitArgs(args)
	argv := append([]string{"boxtui-init", stage0.InitStage}, args...)
	n := InitArgs(argv)
	if (err == nil) != (n >= 0) || (err == nil && n != len(cfg.Env)) {
		t.Fatalf("init argv %q: C reads NENV %d, Go %d envs (%v)", args, n, len(cfg.Env), err)
	}
}

func TestInitArgsMatchGo(t *testing.T) {
	for _, args := range initArgSeeds {
		checkInitArgs(t, args)
	}
	for _, cfg := range []stage0.Config{
		{Rootfs: "/r", Hostname: "h", Command: []string{"sh"}},
		{Rootfs: "/r", Hostname: "h", Env: make([]string, 1000), Command: []string{"1", "2"}},
	} {
		checkInitArgs(t, stage0.InitArgs(cfg)[2:])
	}
}

func FuzzInitArgs(f *testing.F) {
	for _, a := range initArgSeeds {
		f.Add(strings.Join(a, "\x00"))
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		if joined == "" {
			args = nil
		}
		checkInitArgs(t, args)
	})
}
