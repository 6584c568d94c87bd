//go:build cgo

package cshim

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"boxtui/runtime/enter/stage"

	"golang.org/x/sys/unix"
)

// openFDs returns n open descriptors above the stage's fixed ones.
func openFDs(t testing.TB, n int) []int {
	t.Helper()
	var fds []int
	for range n {
		f, err := os.Open("/")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		fds = append(fds, int(f.Fd()))
	}
	return fds
}

func TestParseMatchesEncode(t *testing.T) {
	fds := openFDs(t, 4)
	cfg := stage.Config{
		Target: 4242,
		NS: []stage.NS{
			{FD: fds[0], Flag: unix.CLONE_NEWNS},
			{FD: fds[1], Flag: unix.CLONE_NEWUSER},
		},
		Root: fds[2], Cwd: fds[3],
		Dir:   "/tmp/a dir",
		Env:   []string{"PATH=/bin", "HOME=/root", "X=\xff\x01"},
		Args:  []string{"/bin/sh", "-c", "echo hi", ""},
		SetID: true, UID: 0, GID: 7,
		MountProc: true,
	}
	got, err := Parse(cfg.Encode())
	if err != nil {
		t.Fatal(err)
	}
	want := "target=4242\n" +
		"ns=" + itoa(fds[0]) + ",0x20000,mnt\n" +
		"ns=" + itoa(fds[1]) + ",0x10000000,user\n" +
		"root=" + itoa(fds[2]) + " cwd=" + itoa(fds[3]) + "\n" +
		"dir=\"/tmp/a dir\"\n" +
		"env=\"PATH=/bin\"\nenv=\"HOME=/root\"\nenv=\"X=\\xff\\x01\"\n" +
		"arg=\"/bin/sh\"\narg=\"-c\"\narg=\"echo hi\"\narg=\"\"\n" +
		"setid=0,7\nmountproc\n"
	if got != want {
		t.Errorf("C parse of Go's block:\n%s\nwant:\n%s", got, want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func record(tag uint32, payload ...uint32) []byte {
	var p []byte
	for _, v := range payload {
		p = binary.NativeEndian.AppendUint32(p, v)
	}
	return stage.AppendRecord(nil, tag, p)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Blocks the stage must refuse before it joins anything.
func TestParseRefuses(t *testing.T) {
	fd := openFDs(t, 1)[0]
	end := stage.AppendRecord(nil, stage.TagEnd, nil)
	for _, tc := range []struct {
		name  string
		block []byte
		want  string
	}{
		{"empty", nil, "truncated block"},
		{"no end", record(stage.TagTarget, 1), "truncated block"},
		{"short header", []byte{1, 0, 0}, "truncated block"},
		{"length past the end", cat(binary.NativeEndian.AppendUint32(binary.NativeEndian.AppendUint32(nil, stage.TagDir), 1<<31), end), "truncated record"},
		{"data after end", cat(end, record(stage.TagTarget, 1)), "data after the end record"},
		{"end with payload", stage.AppendRecord(nil, stage.TagEnd, []byte{0}), "data after the end record"},
		{"unknown tag", cat(record(42), end), "unknown record"},
		{"tag below the profile's", cat(record(stage.ProfileFirst-1), end), "unknown record"},
		{"ns fd not open", cat(record(stage.TagNS, 9999, unix.CLONE_NEWNET), end), "bad namespace record"},
		{"ns fd is the config pipe", cat(record(stage.TagNS, 3, unix.CLONE_NEWNET), end), "bad namespace record"},
		{"ns fd is the status pipe", cat(record(stage.TagNS, 4, unix.CLONE_NEWNET), end), "bad namespace record"},
		{"pid namespace", cat(record(stage.TagNS, uint32(fd), unix.CLONE_NEWPID), end), "bad namespace record"},
		{"two namespace types", cat(record(stage.TagNS, uint32(fd), unix.CLONE_NEWNET|unix.CLONE_NEWNS), end), "bad namespace record"},
		{"namespace twice", cat(record(stage.TagNS, uint32(fd), unix.CLONE_NEWNET), record(stage.TagNS, uint32(fd), unix.CLONE_NEWNET), end), "namespace given twice"},
		{"short ns record", cat(record(stage.TagNS, uint32(fd)), end), "bad namespace record"},
		{"root fd not open", cat(record(stage.TagRoot, 9999), end), "bad directory record"},
		{"string without NUL", cat(stage.AppendRecord(nil, stage.TagArg, []byte("sh")), end), "bad string record"},
		{"string with inner NUL", cat(stage.AppendRecord(nil, stage.TagEnv, []byte("A=1\x00B=2\x00")), end), "bad string record"},
		{"empty string record", cat(stage.AppendRecord(nil, stage.TagDir, nil), end), "bad string record"},
		{"short id record", cat(record(stage.TagSetID, 0), end), "bad id record"},
		{"mount proc with payload", cat(record(stage.TagMountProc, 1), end), "bad mount-proc record"},
	} {
		if _, err := Parse(tc.block); err == nil || err.Error() != tc.want {
			t.Errorf("%s: Parse = %v; want %q", tc.name, err, tc.want)
		}
	}
	// Seventeen namespaces: more than any kernel has.
	var many []byte
	for range stage.MaxNS + 1 {
		many = append(many, record(stage.TagNS, uint32(fd), unix.CLONE_NEWNET)...)
	}
	if _, err := Parse(cat(many, end)); err == nil {
		t.Error("Parse took more namespace records than the stage holds")
	}
}

// FuzzParse: any block is parsed or refused, never a crash or a read past
// its end (run under the race detector's and the C compiler's bounds); a
// block Go encodes always parses.
func FuzzParse(f *testing.F) {
	f.Add(stage.Config{Root: -1, Cwd: -1, Args: []string{"true"}, Env: []string{"A=b"}}.Encode(), "x")
	f.Add(stage.Config{Root: -1, Cwd: -1, Dir: "/", SetID: true, MountProc: true}.Encode(), "")
	f.Add([]byte{}, "a\x00b")
	f.Fuzz(func(t *testing.T, block []byte, s string) {
		Parse(block)
		cfg := stage.Config{Target: len(s), Root: -1, Cwd: -1, Dir: s, Env: []string{s}, Args: []string{s, s}}
		if _, err := Parse(cfg.Encode()); err != nil {
			t.Fatalf("Go's block for %q refused: %v", s, err)
		}
	})
}

// runStage runs this test binary as the enter stage with block and
// returns its stdout, the status pipe's report and its exit code.
func runStage(t *testing.T, block []byte) (stdout, status string, code int) {
	t.Helper()
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Args = []string{"stage", stage.Name}
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{cfgR, statusW}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cfgR.Close()
	statusW.Close()
	cfgW.Write(block)
	cfgW.Close()
	msg, _ := io.ReadAll(statusR)
	statusR.Close()
	cmd.Wait()
	return out.String(), string(msg), cmd.ProcessState.ExitCode()
}

// The profile's hooks (profile.c here; exec-as-the-engine's in boxtui):
// records from tag 64 reach boxtui_stage_profile_record, and
// boxtui_stage_apply_profile runs before the command is executed and can
// refuse it. The stage joins nothing here (no namespace records), so no
// root is needed.
func TestProfileHooks(t *testing.T) {
	base := stage.Config{Root: -1, Cwd: -1, Env: []string{"PATH=/usr/bin:/bin"}, Args: []string{"sh", "-c", `echo "profile: $BOXTUI_TEST_PROFILE"`}}
	withProfile := base
	withProfile.Profile = []stage.Record{{Tag: 64, Payload: []byte("hello\x00")}}
	if out, status, code := runStage(t, withProfile.Encode()); out != "profile: hello\n" || status != "" || code != 0 {
		t.Errorf("profile record 64: stdout %q, status %q, exit %d", out, status, code)
	}
	refusing := base
	refusing.Profile = []stage.Record{{Tag: 65}}
	if out, status, code := runStage(t, refusing.Encode()); out != "" || status != "error\ntest profile: refused on purpose" || code != 1 {
		t.Errorf("refusing profile: stdout %q, status %q, exit %d", out, status, code)
	}
	unknown := base
	unknown.Profile = []stage.Record{{Tag: 67}}
	if out, status, code := runStage(t, unknown.Encode()); out != "" || status != "error\nenter stage: bad config: unknown record" || code != 1 {
		t.Errorf("record the profile does not know: stdout %q, status %q, exit %d", out, status, code)
	}
	if out, status, code := runStage(t, base.Encode()); out != "profile: \n" || status != "" || code != 0 {
		t.Errorf("no profile record: stdout %q, status %q, exit %d", out, status, code)
	}
	// Non-dumpable before anything is joined, until the exec: root inside
	// a user namespace the stage joined cannot ptrace it.
	dumpable := base
	dumpable.Args = []string{"sh", "-c", `echo "dumpable: $BOXTUI_TEST_DUMPABLE"`}
	dumpable.Profile = []stage.Record{{Tag: 66}}
	if out, status, code := runStage(t, dumpable.Encode()); out != "dumpable: 0\n" || status != "" || code != 0 {
		t.Errorf("dumpable before the exec: stdout %q, status %q, exit %d; want 0", out, status, code)
	}
	missing := base
	missing.Args = []string{"no-such-command-here"}
	if _, status, code := runStage(t, missing.Encode()); status != "notfound\nno-such-command-here" || code != 127 {
		t.Errorf("missing command: status %q, exit %d", status, code)
	}
}
