package stage0

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"boxtui/internal/testutil"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { testutil.Main(m) }

var configs = []Config{
	{Name: "a", Rootfs: "/r", Hostname: "h", Command: []string{"/bin/sh"}},
	{Name: "web", Rootfs: "/var/lib/boxtui/rootfs", Hostname: "web", Net: true, Raw: true, Remove: true,
		Env: []string{"A=1", "B=", "C=x=y"}, Command: []string{"sh", "-c", "echo $A; exit 3"}, Rows: 50, Cols: 132,
		ClientPID: 42, ClientStart: 1 << 40, Log: "/run/boxtui/web.log"},
	{Rootfs: "", Hostname: "", Env: []string{""}, Command: []string{"", "", ""}},
	{Rootfs: "/ü \t\n", Hostname: "\xff\xfe", Env: make([]string, 300), Command: []string{"a", "--", "-x"}},
	{Rootfs: "/r", Hostname: "h", Env: []string{"N=3"}, Command: []string{"3", "2"}}, // a command that looks like a count
}

// TestInitArgsRoundTrip: the init reads back exactly what the holder
// puts in its argv (the C init reads the same argv: initstage.c).
func TestInitArgsRoundTrip(t *testing.T) {
	for _, cfg := range configs {
		args := InitArgs(cfg)
		if args[0] != "boxtui-init" || args[1] != InitStage {
			t.Fatalf("InitArgs(%+v) starts %q", cfg, args[:2])
		}
		got, err := ParseInitArgs(args[2:])
		if err != nil {
			t.Fatalf("ParseInitArgs(InitArgs(%+v)): %v", cfg, err)
		}
		if got.Rootfs != cfg.Rootfs || got.Hostname != cfg.Hostname ||
			!reflect.DeepEqual(got.Command, cfg.Command) || len(got.Env) != len(cfg.Env) ||
			(len(cfg.Env) > 0 && !reflect.DeepEqual(got.Env, cfg.Env)) {
			t.Errorf("ParseInitArgs(InitArgs(%+v)) = %+v", cfg, got)
		}
	}
}

// TestParseInitArgsRefuses: an argv the holder never writes is refused
// with the reason, never read past its end.
func TestParseInitArgsRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "init stage: want ROOTFS HOSTNAME NENV ENV... CMD"},
		{[]string{"/r", "h", "0"}, "init stage: want ROOTFS HOSTNAME NENV ENV... CMD"},
		{[]string{"/r", "h", "x", "sh"}, `init stage: bad environment count "x"`},
		{[]string{"/r", "h", "-1", "sh"}, `init stage: bad environment count "-1"`},
		{[]string{"/r", "h", "1", "A=1"}, `init stage: bad environment count "1"`}, // no command left
		{[]string{"/r", "h", "2", "A=1", "sh"}, `init stage: bad environment count "2"`},
		{[]string{"/r", "h", "9223372036854775807", "sh"}, `init stage: bad environment count "9223372036854775807"`},
		{[]string{"/r", "h", "99999999999999999999", "sh"}, `init stage: bad environment count "99999999999999999999"`},
		{[]string{"/r", "h", "", "sh"}, `init stage: bad environment count ""`},
	} {
		_, err := ParseInitArgs(tc.args)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseInitArgs(%q) = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestPreforkConfigRoundTrip: what a client sends a preforked holder
// decodes to the config it encoded.
func TestPreforkConfigRoundTrip(t *testing.T) {
	for _, cfg := range configs {
		b, err := EncodePreforkConfig(cfg)
		if err != nil {
			t.Fatalf("EncodePreforkConfig(%+v): %v", cfg, err)
		}
		got, err := decodePreforkConfig(b)
		if err != nil {
			t.Fatalf("decode of %+v: %v", cfg, err)
		}
		if want := jsonRoundTrip(t, cfg); !reflect.DeepEqual(got, want) {
			t.Errorf("decode of %+v = %+v", cfg, got)
		}
	}
}

// jsonRoundTrip is cfg as JSON gives it back (invalid UTF-8 becomes
// U+FFFD): the block's strings are the zygote's, the JSON the holder's.
func jsonRoundTrip(t *testing.T, cfg Config) Config {
	t.Helper()
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// TestEncodePreforkConfigRefuses: what the NUL-separated block cannot
// carry is refused, not sent cut.
func TestEncodePreforkConfigRefuses(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Rootfs: "/r", Hostname: "h"}, "encode launch config: no command"},
		{Config{Rootfs: "/r\x00x", Hostname: "h", Command: []string{"sh"}}, `encode launch config: "/r\x00x" contains a NUL byte`},
		{Config{Rootfs: "/r", Hostname: "h", Env: []string{"A=\x00"}, Command: []string{"sh"}}, `encode launch config: "A=\x00" contains a NUL byte`},
		{Config{Rootfs: "/r", Hostname: "h", Command: []string{"sh", "-c", "\x00"}}, `encode launch config: "\x00" contains a NUL byte`},
	} {
		b, err := EncodePreforkConfig(tc.cfg)
		if err == nil || err.Error() != tc.want || b != nil {
			t.Errorf("EncodePreforkConfig(%+v) = %q, %v; want %q", tc.cfg, b, err, tc.want)
		}
	}
}

// TestDecodePreforkConfigRefusesDamage: a block cut anywhere, or with a
// count that lies, is refused, never read as a config.
func TestDecodePreforkConfigRefusesDamage(t *testing.T) {
	b, err := EncodePreforkConfig(configs[1])
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(b); i++ {
		if cfg, err := decodePreforkConfig(b[:i]); err == nil {
			t.Fatalf("the block cut at %d of %d bytes decodes to %+v", i, len(b), cfg)
		}
	}
	for _, tc := range []struct {
		block, want string
	}{
		{"", "holder stage: decode config: no field count"},
		{"x\x00{}", "holder stage: decode config: no field count"},
		{"-1\x00{}", "holder stage: decode config: no field count"},
		{"{}", "holder stage: decode config: no field count"},
		{"3\x00a\x00b\x00", "holder stage: decode config: the block ends early"},
		{"99999999999\x00a\x00", "holder stage: decode config: the block ends early"},
		{"1\x00a\x00{\"name\":", "holder stage: decode config: unexpected end of JSON input"},
		{"0\x00[]", "holder stage: decode config: json: cannot unmarshal array into Go value of type stage0.Config"},
	} {
		if _, err := decodePreforkConfig([]byte(tc.block)); err == nil || err.Error() != tc.want {
			t.Errorf("decodePreforkConfig(%q) = %v, want %q", tc.block, err, tc.want)
		}
	}
	// The block's count is of fields, not bytes: a count too small leaves
	// block fields where the JSON should be, and that is refused too.
	b, _ = EncodePreforkConfig(configs[0])
	head, rest, _ := bytes.Cut(b, []byte{0})
	short := append([]byte(string(head[:len(head)-1])+"6\x00"), rest...)
	if string(head) != "7" {
		t.Fatalf("configs[0]'s block has %s fields, the test expects 7", head)
	}
	if _, err := decodePreforkConfig(short); err == nil {
		t.Errorf("a block whose count is one short decodes")
	}
}

func FuzzPreforkConfig(f *testing.F) {
	f.Add("/r", "h", "A=1", "sh", "-c", true, 24, 80)
	f.Add("", "", "", "", "", false, -1, 70000)
	f.Add("/ü", "\xff", "3", "2", "1", true, 0, 0)
	f.Fuzz(func(t *testing.T, rootfs, host, env, cmd, arg string, net bool, rows, cols int) {
		cfg := Config{Rootfs: rootfs, Hostname: host, Env: []string{env}, Command: []string{cmd, arg}, Net: net, Rows: rows, Cols: cols}
		b, err := EncodePreforkConfig(cfg)
		hasNUL := strings.Contains(rootfs+host+env+cmd+arg, "\x00")
		if hasNUL != (err != nil) {
			t.Fatalf("EncodePreforkConfig(%+v): %v", cfg, err)
		}
		if err != nil {
			return
		}
		got, err := decodePreforkConfig(b)
		if err != nil || !reflect.DeepEqual(got, jsonRoundTrip(t, cfg)) {
			t.Fatalf("decode of %+v = %+v, %v", cfg, got, err)
		}
		// Damage: any byte dropped or changed must give an error or some
		// config, never a panic.
		for i := range b {
			decodePreforkConfig(append(append([]byte{}, b[:i]...), b[i+1:]...))
		}
	})
}

// TestReadConfig: the config pipe is read to its end and closed, and a
// config over 1 MiB is refused.
func TestReadConfig(t *testing.T) {
	for _, size := range []int{0, 1, 4096, 100000, 1<<20 + 5000} {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		want := bytes.Repeat([]byte("x"), size)
		go func() {
			unix.Write(p[1], want)
			unix.Close(p[1])
		}()
		got, err := readConfig(p[0])
		if size > 1<<20 {
			if err == nil || err.Error() != "config larger than 1 MiB" {
				t.Errorf("a %d-byte config: %v, want it refused", size, err)
			}
		} else if err != nil || !bytes.Equal(got, want) {
			t.Errorf("a %d-byte config: read %d bytes, %v", size, len(got), err)
		}
		if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_GETFD, 0); err != unix.EBADF {
			t.Errorf("readConfig left its fd open")
		}
	}
}

// startFake starts a process that stands for the zygote (startFromZygote
// reaps it) and returns it with a reply pipe holding reply.
func startFake(t *testing.T, reply string) zygote {
	t.Helper()
	pid, err := syscall.ForkExec("/bin/true", []string{"true"}, &syscall.ProcAttr{})
	if err != nil {
		t.Skipf("needs /bin/true to stand for the zygote: %v", err)
	}
	var rp, master, ready [2]int
	for _, p := range []*[2]int{&rp, &master, &ready} {
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
	}
	unix.Write(rp[1], []byte(reply))
	unix.Close(rp[1])
	t.Cleanup(func() { unix.Close(master[1]); unix.Close(ready[1]) })
	return zygote{pid: pid, reply: rp[0], master: master[0], ready: ready[0]}
}

// TestStartFromZygoteSaysWhy: a zygote that could not clone the init, or
// did not understand its config, is reported with its reason.
func TestStartFromZygoteSaysWhy(t *testing.T) {
	block, err := EncodePreforkConfig(Config{Name: "web", Rootfs: "/r", Hostname: "h", Command: []string{"sh"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reply, want string
	}{
		{"E12\n" + string(block), "start the init of web: cannot allocate memory"},
		{"E1\n" + string(block), "start the init of web: operation not permitted"},
		{"garbage\n" + string(block), `start the init of web: the zygote could not read its config ("garbage")`},
		{"P\n" + string(block), `start the init of web: the zygote could not read its config ("P")`},
		{"E12\n7\x00a", "holder stage: decode config: the block ends early"},
	} {
		h := startFromZygote(startFake(t, tc.reply), false)
		if h.Err == nil || h.Err.Error() != tc.want {
			t.Errorf("reply %q: %v, want %q", tc.reply, h.Err, tc.want)
		}
		if h.InitPID != 0 || h.ReadyR != nil || h.PidFD != -1 {
			t.Errorf("reply %q: a failed start has init %d, ready %v, pidfd %d", tc.reply, h.InitPID, h.ReadyR, h.PidFD)
		}
		if h.Master != nil {
			h.Master.Close()
		}
	}
}

// TestOwnHolderWithoutAZygote: a client that is its own holder but got no
// zygote says so instead of waiting; its exit code goes to the waiting
// process once, as "CODE\nX".
func TestOwnHolderWithoutAZygote(t *testing.T) {
	if TakeOwnHolder() != nil || TakeOwnHolder() != nil {
		t.Fatal("a test process is its own holder")
	}
	if TakePrefork() != nil {
		t.Fatal("a test process has a preforked holder")
	}
	DiscardPrefork() // nothing to discard: must not block
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer cfgR.Close()
	stR, stW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stR.Close()
	o := &Own{Config: cfgW, status: stW, z: zygote{pid: -1}}
	h := o.StartInit()
	if h.Err == nil || h.Err.Error() != "start the init: no zygote could be started for it" || h.PidFD != -1 {
		t.Errorf("StartInit without a zygote: %+v", h)
	}
	o.Abandon()
	if _, err := cfgW.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Abandon left the config pipe open: %v", err)
	}
	o.Exiting(3)
	o.Exiting(4) // told once only
	got := make([]byte, 16)
	n, _ := stR.Read(got)
	if string(got[:n]) != "3\nX" {
		t.Errorf("the waiting process was told %q, want %q", got[:n], "3\nX")
	}
}

func TestMountErrorReads(t *testing.T) {
	err := error(&mountError{"attach", "/dev", unix.EPERM})
	if err.Error() != "attach /dev: operation not permitted" || !errors.Is(err, unix.EPERM) {
		t.Errorf("mountError reads %q (wraps EPERM: %v)", err, errors.Is(err, unix.EPERM))
	}
}
