package asengine

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const sampleStatus = `Name:	sleep
Umask:	0022
State:	S (sleeping)
Tgid:	4242
NSpid:	4242	1
PPid:	4200
TracerPid:	0
Uid:	1000	1001	1002	1003
Gid:	2000	2001	2002	2003
FDSize:	64
Groups:	10 20 30 
NStgid:	4242	1
CapInh:	0000000000000000
CapPrm:	00000000a80425fb
CapEff:	00000000a80425fa
CapBnd:	00000000a80425fb
CapAmb:	0000000000000400
NoNewPrivs:	1
Seccomp:	2
Seccomp_filters:	3
Speculation_Store_Bypass:	thread force mitigated
`

func TestParseStatus(t *testing.T) {
	st, err := parseStatus([]byte(sampleStatus))
	if err != nil {
		t.Fatal(err)
	}
	want := Caps{Inheritable: 0, Permitted: 0xa80425fb, Effective: 0xa80425fa, Bounding: 0xa80425fb, Ambient: 0x400}
	if st.caps != want {
		t.Errorf("caps %+v, want %+v", st.caps, want)
	}
	if !st.nnp || st.seccomp != 2 || st.filters != 3 || st.tracer != 0 {
		t.Errorf("nnp %v seccomp %d filters %d tracer %d", st.nnp, st.seccomp, st.filters, st.tracer)
	}
	if st.uid != (IDs{1000, 1001, 1002, 1003}) || st.gid != (IDs{2000, 2001, 2002, 2003}) {
		t.Errorf("uid %+v gid %+v", st.uid, st.gid)
	}
	if !reflect.DeepEqual(st.groups, []uint32{10, 20, 30}) {
		t.Errorf("groups %v", st.groups)
	}
}

func TestParseStatusRefusesWhatItCannotTrust(t *testing.T) {
	for name, text := range map[string]string{
		"no CapAmb":      strings.Replace(sampleStatus, "CapAmb:", "XapAmb:", 1),
		"twice":          sampleStatus + "CapEff:\t0000000000000000\n",
		"bad hex":        strings.Replace(sampleStatus, "00000000a80425fa", "zz", 1),
		"short Uid":      strings.Replace(sampleStatus, "1000\t1001\t1002\t1003", "1000", 1),
		"no filter line": strings.Replace(sampleStatus, "Seccomp_filters:", "Xeccomp_filters:", 1),
		"mode 3":         strings.Replace(sampleStatus, "Seccomp:\t2", "Seccomp:\t3", 1),
		"bad group":      strings.Replace(sampleStatus, "10 20 30", "10 x", 1),
	} {
		if _, err := parseStatus([]byte(text)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestParseEnvironDropsMalformedEntries(t *testing.T) {
	data := []byte("A=1\x00=nokey\x00noequals\x00\x00B=x=y\x00\xff\xfe=bin\x00C=\x00nginx: worker process")
	env, skipped := ParseEnviron(data)
	want := []string{"A=1", "B=x=y", "\xff\xfe=bin", "C="}
	if !reflect.DeepEqual(env, want) || skipped != 3 {
		t.Errorf("got %q skipped %d, want %q skipped 3", env, skipped, want)
	}
}

func TestParseCgroups(t *testing.T) {
	data := "12:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/a:b\n"
	got, err := ParseCgroups([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cgroup{{12, "cpu,cpuacct", "/docker/abc"}, {1, "name=systemd", "/docker/abc"}, {0, "", "/docker/a:b"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	if !got[2].Unified() || got[0].Unified() {
		t.Error("Unified wrong")
	}
	for _, bad := range []string{"0::/a\n0::/b\n", "x::/a\n", "1:cpu\n", "1:cpu:relative\n", "-1::/a\n"} {
		if _, err := ParseCgroups([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

const sampleMountinfo = `22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpuacct,cpu,clone_children
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
41 22 0:28 /docker /mnt/only\040docker rw,relatime - cgroup cgroup rw,cpu,cpuacct
`

func TestPickMount(t *testing.T) {
	mounts, err := parseCgroupMounts([]byte(sampleMountinfo), map[string]bool{"cpu": true, "cpuacct": true, "memory": true})
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 4 {
		t.Fatalf("mounts %+v", mounts)
	}
	if mounts[3].point != "/mnt/only docker" || mounts[3].root != "/docker" || mounts[0].controllers != "cpu,cpuacct" {
		t.Errorf("mounts %+v", mounts)
	}
	for _, c := range []struct {
		cg        Cgroup
		point     string
		rel       string
		found     bool
		mountsArg []cgroupMount
	}{
		{Cgroup{1, "cpuacct,cpu", "/docker/abc"}, "/sys/fs/cgroup/cpu,cpuacct", "docker/abc", true, mounts},
		{Cgroup{2, "name=systemd", "/"}, "/sys/fs/cgroup/systemd", "", true, mounts},
		{Cgroup{0, "", "/docker/abc"}, "/sys/fs/cgroup/unified", "docker/abc", true, mounts},
		{Cgroup{3, "memory", "/docker/abc"}, "", "", false, mounts},
		// Only a mount of a subtree: the path must lie below its root.
		{Cgroup{1, "cpu,cpuacct", "/docker/abc"}, "/mnt/only docker", "abc", true, mounts[3:]},
		{Cgroup{1, "cpu,cpuacct", "/dockerx/abc"}, "", "", false, mounts[3:]},
		{Cgroup{1, "cpu,cpuacct", "/docker"}, "/mnt/only docker", "", true, mounts[3:]},
	} {
		m, rel, ok := pickMount(c.mountsArg, c.cg)
		if ok != c.found || (ok && (m.point != c.point || rel != c.rel)) {
			t.Errorf("%+v: got %q %q %v", c.cg, m.point, rel, ok)
		}
	}
}

func TestOpenProcsRefusesWhatIsNotTheCgroupMount(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	// A directory that the mount table would call a cgroup mount but is
	// not (something mounted over it, a stale table): refused before any
	// write.
	_, err := openProcs(cgroupMount{dev: st.Dev, root: "/", point: dir, v2: true}, "")
	if err == nil || !strings.Contains(err.Error(), "not the cgroup mount") {
		t.Errorf("got %v", err)
	}
	if _, err := openProcs(cgroupMount{dev: st.Dev, root: "/", point: dir, v2: true}, "a/../../x"); err == nil {
		t.Error("a path with .. was opened")
	}
}

func TestNSIDsMapIntoTheTargetsUserNamespace(t *testing.T) {
	p := &Profile{
		PID: 7,
		UID: IDs{100000, 101000, 101000, 101000}, GID: IDs{100000, 100000, 100000, 100005},
		Groups: []uint32{100010},
		UIDMap: []IDMapRange{{0, 100000, 65536}}, GIDMap: []IDMapRange{{0, 100000, 65536}},
	}
	uid, gid, groups, err := p.NSIDs()
	if err != nil {
		t.Fatal(err)
	}
	if uid != (IDs{0, 1000, 1000, 1000}) || gid != (IDs{0, 0, 0, 5}) || !reflect.DeepEqual(groups, []uint32{10}) {
		t.Errorf("uid %+v gid %+v groups %v", uid, gid, groups)
	}
	p.Groups = []uint32{65534}
	if _, _, _, err := p.NSIDs(); err == nil || !strings.Contains(err.Error(), "no mapping") {
		t.Errorf("unmapped group: %v", err)
	}
	if m, err := ParseIDMap([]byte("         0     100000      65536\n")); err != nil || !reflect.DeepEqual(m, []IDMapRange{{0, 100000, 65536}}) {
		t.Errorf("ParseIDMap %v %v", m, err)
	}
}

func TestPlanRefusesWhatCannotBeReproduced(t *testing.T) {
	base := Profile{PID: 9, UIDMap: []IDMapRange{{0, 0, 4294967295}}, GIDMap: []IDMapRange{{0, 0, 4294967295}}}
	strict := base
	strict.SeccompMode = SeccompStrict
	unread := base
	unread.SeccompMode, unread.FilterCount = SeccompFilter, 1
	notif := base
	notif.SeccompMode, notif.FilterCount = SeccompFilter, 1
	notif.Filters = []Filter{{Insns: []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_USER_NOTIF}}}}
	for name, c := range map[string]struct {
		p    Profile
		want string
	}{
		"strict": {strict, "strict seccomp"},
		"unread": {unread, "were not read"},
		"notif":  {notif, "supervisor"},
	} {
		_, err := c.p.Plan()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := base.Plan(); err != nil {
		t.Errorf("plain profile: %v", err)
	}
}

func TestReadOfAGonePIDSaysSo(t *testing.T) {
	_, err := Read(1<<22+12345, 0, Options{})
	if !errors.Is(err, ErrNoProcess) {
		t.Errorf("got %v", err)
	}
}

const sampleLimits = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             4096                 4096                 processes 
Max open files            1024                 1024                 files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       96367                96367                signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`

func TestParseLimits(t *testing.T) {
	got, err := ParseLimits([]byte(sampleLimits))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 16 {
		t.Fatalf("%d limits", len(got))
	}
	want := map[int]Rlimit{
		unix.RLIMIT_STACK:  {unix.RLIMIT_STACK, 8388608, RlimInfinity},
		unix.RLIMIT_NOFILE: {unix.RLIMIT_NOFILE, 1024, 1024},
		unix.RLIMIT_CPU:    {unix.RLIMIT_CPU, RlimInfinity, RlimInfinity},
		unix.RLIMIT_RTPRIO: {unix.RLIMIT_RTPRIO, 0, 0},
	}
	for _, r := range got {
		if w, ok := want[r.Resource]; ok && r != w {
			t.Errorf("got %+v, want %+v", r, w)
		}
	}
	for name, bad := range map[string]string{
		"missing row":    strings.Replace(sampleLimits, "Max open files  ", "Max open filez  ", 1),
		"soft over hard": strings.Replace(sampleLimits, "1024                 1024", "2048                 1024", 1),
		"not a number":   strings.Replace(sampleLimits, "4096                 4096", "lots                 4096", 1),
		"twice":          sampleLimits + "Max open files            1024                 1024                 files\n",
	} {
		if _, err := ParseLimits([]byte(bad)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
