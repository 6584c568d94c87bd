package mounts

import (
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"boxtui/runtime/state"

	"github.com/moby/sys/mountinfo"
)

func TestCleanTarget(t *testing.T) {
	for _, c := range []struct {
		in, want  string
		protected bool
	}{
		{in: "/var/x", want: "/var/x"},
		{in: "/var//x/", want: "/var/x"},
		{in: "/var/../etc/x", want: "/etc/x"},
		{in: "/../../etc", want: "/etc"},
		{in: "/dev/log", want: "/dev/log"},
		{in: "/dev/fuse", want: "/dev/fuse"},
		{in: "/dev/shmem", want: "/dev/shmem"},
		{in: "/devices", want: "/devices"},
		{in: "/procfs", want: "/procfs"},
		{in: "/", protected: true},
		{in: "//", protected: true},
		{in: "/..", protected: true},
		{in: "/proc", protected: true},
		{in: "/proc/", protected: true},
		{in: "/proc/sys/kernel", protected: true},
		{in: "/sys", protected: true},
		{in: "/sys/fs/cgroup", protected: true},
		{in: "/dev", protected: true},
		{in: "/dev/", protected: true},
		{in: "/dev/pts", protected: true},
		{in: "/dev/pts/0", protected: true},
		{in: "/dev/shm", protected: true},
		{in: "/dev/shm/x", protected: true},
		{in: "/dev/mqueue", protected: true},
		{in: "/dev/mqueue/q", protected: true},
		{in: "/dev/x/../pts", protected: true},
		{in: "/var/../proc", protected: true},
	} {
		got, err := CleanTarget("mount over", c.in)
		switch {
		case c.protected:
			if !errors.Is(err, ErrProtectedTarget) {
				t.Errorf("CleanTarget(%q) = %q, %v; want ErrProtectedTarget", c.in, got, err)
			}
		case err != nil || got != c.want:
			t.Errorf("CleanTarget(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "var/x", "./x", "x\x00y", "/x\x00"} {
		if got, err := CleanTarget("mount over", bad); err == nil {
			t.Errorf("CleanTarget(%q) = %q, want an error", bad, got)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("CleanTarget(%q): multi-line error %q", bad, err)
		}
	}
}

// FuzzCleanTarget: whatever goes in, what comes out is absolute, clean,
// free of NUL and never a protected path.
func FuzzCleanTarget(f *testing.F) {
	for _, s := range []string{"/var/x", "/proc", "/../sys/x", "//dev//", "/dev/shm", "rel", "", "/a/./b/../c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := CleanTarget("mount over", in)
		if err != nil {
			return
		}
		if !strings.HasPrefix(out, "/") || path.Clean(out) != out || strings.IndexByte(out, 0) >= 0 {
			t.Fatalf("CleanTarget(%q) = %q: not absolute and clean", in, out)
		}
		if isProtected(out) {
			t.Fatalf("CleanTarget(%q) = %q: protected", in, out)
		}
		if out == "/proc" || out == "/sys" || out == "/dev" || out == "/" ||
			strings.HasPrefix(out, "/proc/") || strings.HasPrefix(out, "/sys/") ||
			out == "/dev/pts" || strings.HasPrefix(out, "/dev/pts/") ||
			out == "/dev/shm" || strings.HasPrefix(out, "/dev/shm/") ||
			out == "/dev/mqueue" || strings.HasPrefix(out, "/dev/mqueue/") {
			t.Fatalf("CleanTarget(%q) = %q let a protected path through", in, out)
		}
	})
}

// A mountinfo sample as a chrooted container with its own mount namespace
// shows it: its proc, a bind boxtui added, and two stacked at /data.
const sampleMountinfo = `84 64 0:39 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
85 64 254:0 /srv/a /data ro,nosuid,nodev,relatime - ext4 /dev/vda rw,discard
86 85 254:0 /srv/b /data rw,nosuid,nodev,relatime - ext4 /dev/vda rw,discard
87 64 0:40 / /mnt/with\040space rw,relatime - tmpfs tmpfs ro,size=4k
88 64 254:0 /etc/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw
`

func TestBuildList(t *testing.T) {
	infos, err := mountinfo.GetMountsFromReader(strings.NewReader(sampleMountinfo), nil)
	if err != nil {
		t.Fatal(err)
	}
	recs := []state.MountRecord{
		{Source: "/srv/a", Target: "/data", ReadOnly: true},
		{Source: "/srv/b", Target: "/data"},
		{Source: "/gone", Target: "/nowhere"}, // stale: no mount there
	}
	got := buildList(infos, recs)
	want := []Mount{
		{Source: "proc", Target: "/proc", FSType: "proc"},
		{Source: "/srv/a", Target: "/data", FSType: "ext4", ReadOnly: true, Managed: true},
		{Source: "/srv/b", Target: "/data", FSType: "ext4", Managed: true},
		{Source: "tmpfs", Target: "/mnt/with space", FSType: "tmpfs", ReadOnly: true},
		{Source: "/dev/vda[/etc/hosts]", Target: "/etc/hosts", FSType: "ext4"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("buildList =\n%+v\nwant\n%+v", got, want)
	}
	// One record for two stacked mounts marks only the top one.
	got = buildList(infos, recs[1:2])
	if got[1].Managed || !got[2].Managed || got[2].Source != "/srv/b" {
		t.Fatalf("one record, two stacked mounts: %+v", got[1:3])
	}
	data, err := json.Marshal(got[2])
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"source":"/srv/b","target":"/data","fstype":"ext4","readonly":false,"managed":true}` {
		t.Fatalf("JSON keys: %s", data)
	}
}

func TestRecordStack(t *testing.T) {
	var recs []state.MountRecord
	recs = pushRecord(recs, state.MountRecord{Source: "/a", Target: "/x", ReadOnly: true})
	recs = pushRecord(recs, state.MountRecord{Source: "/b", Target: "/y"})
	recs = pushRecord(recs, state.MountRecord{Source: "/c", Target: "/x"})
	orig := append([]state.MountRecord(nil), recs...)
	flipped := setRecordMode(recs, "/x", true)
	if !flipped[2].ReadOnly || flipped[0] != orig[0] || recs[2].ReadOnly {
		t.Fatalf("setRecordMode changed the wrong record or its input: %+v / %+v", flipped, recs)
	}
	popped := popRecord(recs, "/x")
	if len(popped) != 2 || popped[0].Source != "/a" || popped[1].Source != "/b" {
		t.Fatalf("popRecord = %+v", popped)
	}
	if !reflect.DeepEqual(recs, orig) {
		t.Fatalf("popRecord changed its input: %+v", recs)
	}
	if got := popRecord(popped, "/nothing"); !reflect.DeepEqual(got, popped) {
		t.Fatalf("popRecord of an unknown target = %+v", got)
	}
}

func TestDecodeForeign(t *testing.T) {
	good := `{"pid_ns":4026532179,"init_pid":42,"init_start":1234,"mounts":[{"source":"/srv","target":"/data","readonly":true}]}`
	fr, err := decodeForeign(strings.NewReader(good))
	if err != nil || fr.InitPID != 42 || len(fr.Mounts) != 1 || !fr.Mounts[0].ReadOnly {
		t.Fatalf("decodeForeign = %+v, %v", fr, err)
	}
	for _, bad := range []string{
		``, `{`, `[]`, `{"pid_ns":1}`, `{"init_pid":4}`,
		`{"pid_ns":1,"init_pid":-4}`,
		`{"pid_ns":1,"init_pid":4,"mounts":[{"target":"rel"}]}`,
	} {
		if fr, err := decodeForeign(strings.NewReader(bad)); err == nil {
			t.Errorf("decodeForeign(%q) = %+v, want an error", bad, fr)
		}
	}
}

// FuzzDecodeForeign: a record file never crashes the decoder, and what it
// accepts has an init and absolute targets only.
func FuzzDecodeForeign(f *testing.F) {
	f.Add(`{"pid_ns":4026532179,"init_pid":42,"init_start":1234,"mounts":[{"source":"/srv","target":"/data","readonly":true}]}`)
	f.Add(`{"pid_ns":1,"init_pid":4,"mounts":[{"target":"rel"}]}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, in string) {
		fr, err := decodeForeign(strings.NewReader(in))
		if err != nil {
			return
		}
		if fr.InitPID <= 0 || fr.PIDNS == 0 {
			t.Fatalf("accepted %+v", fr)
		}
		for _, m := range fr.Mounts {
			if !strings.HasPrefix(m.Target, "/") {
				t.Fatalf("accepted relative target %q", m.Target)
			}
		}
	})
}

func TestParseVolume(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		want state.MountRecord
	}{
		{"/srv/data:/data", state.MountRecord{Source: "/srv/data", Target: "/data"}},
		{"/srv/data:/data:ro", state.MountRecord{Source: "/srv/data", Target: "/data", ReadOnly: true}},
		{"/srv/data:/data/:rw", state.MountRecord{Source: "/srv/data", Target: "/data"}},
		{"gojek:/var/gojek:ro", state.MountRecord{Source: wd + "/gojek", Target: "/var/gojek", ReadOnly: true}},
	} {
		got, err := ParseVolume(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseVolume(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "/srv", ":/data", "/srv:", "/srv:data", "/srv:/data:rox", "/a:/b:ro:x", "/srv:/proc", "/srv:/:ro"} {
		if got, err := ParseVolume(bad); err == nil {
			t.Errorf("ParseVolume(%q) = %+v, want an error", bad, got)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseVolume(%q): multi-line error", bad)
		}
	}
}

// FuzzParseVolume: an accepted volume always has an absolute host path and
// a clean, unprotected container path.
func FuzzParseVolume(f *testing.F) {
	for _, s := range []string{"/srv:/data:ro", "a:/b", ":/x", "/x:/proc/1:rw", "/a:b:c:d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rec, err := ParseVolume(in)
		if err != nil {
			return
		}
		if !filepath.IsAbs(rec.Source) || !strings.HasPrefix(rec.Target, "/") || path.Clean(rec.Target) != rec.Target || isProtected(rec.Target) {
			t.Fatalf("ParseVolume(%q) = %+v", in, rec)
		}
	})
}

// A host mount table: / with proc, sysfs and cgroups below, a data disk at
// /srv with a tmpfs below it, and /srv/ctr/proc, a proc below a directory
// of /srv. Which kernel filesystem a recursive clone of a path brings along
// follows the tree of mounts, not just the path prefix.
const hostMountinfo = `21 1 254:0 / / rw,relatime - ext4 /dev/vda rw
22 21 0:20 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
23 21 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
24 23 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw
25 24 0:23 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
30 21 254:1 / /srv rw,relatime - ext4 /dev/vdb rw
31 30 0:40 / /srv/data/tmp rw,relatime - tmpfs tmpfs rw
32 30 0:41 / /srv/ctr/proc rw,relatime - proc proc rw
33 21 0:42 / /srvx/proc rw,relatime - proc proc rw
`

func TestFindKernelSubmount(t *testing.T) {
	infos, err := mountinfo.GetMountsFromReader(strings.NewReader(hostMountinfo), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mntID      uint64
		path, want string
	}{
		{21, "/", "/proc"},
		{21, "/etc", ""},
		{23, "/sys/fs", "/sys/fs/cgroup/unified"},
		{24, "/sys/fs/cgroup", "/sys/fs/cgroup/unified"},
		{30, "/srv", "/srv/ctr/proc"},
		{30, "/srv/data", ""},
		{30, "/srv/ctr", "/srv/ctr/proc"},
		{31, "/srv/data/tmp", ""},
		{21, "/srvx", "/srvx/proc"},
		// /srv and /srvx are not below /sr, though their names start so.
		{21, "/sr", ""},
	} {
		mp, fstype, err := findKernelSubmount(infos, c.mntID, c.path)
		if err != nil || mp != c.want || (mp != "" && !isKernelFSName(fstype)) {
			t.Errorf("findKernelSubmount(%d, %q) = %q, %q, %v; want %q", c.mntID, c.path, mp, fstype, err, c.want)
		}
	}
}

// Every kernel filesystem boxtui refuses is known both by its statfs magic
// and by the name mountinfo gives it, and no ordinary filesystem is.
func TestKernelFilesystemTable(t *testing.T) {
	seen := map[int64]bool{}
	for _, k := range kernelFilesystems {
		if seen[k.magic] || k.name == "" || kernelFSByMagic(k.magic) != k.name || !isKernelFSName(k.name) {
			t.Errorf("kernel filesystem %q (%#x) listed twice or not found", k.name, k.magic)
		}
		seen[k.magic] = true
	}
	for _, name := range []string{"ext4", "tmpfs", "xfs", "btrfs", "overlay", "devtmpfs", "fuse"} {
		if isKernelFSName(name) {
			t.Errorf("%s counts as a kernel filesystem", name)
		}
	}
	if kernelFSByMagic(0x01021994) != "" { // TMPFS_MAGIC
		t.Errorf("tmpfs counts as a kernel filesystem")
	}
}
