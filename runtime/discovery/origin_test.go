package discovery

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestOriginFromCgroup(t *testing.T) {
	cases := map[string]Origin{
		// cgroup v2, as systemd hosts write them
		"0::/system.slice/docker-3f1c0c6b6a1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f.scope\n": OriginDocker,
		"0::/machine.slice/libpod-2b1c0c6b6a1e.scope/container\n":                                          OriginPodman,
		"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-9f2c.scope\n":                  OriginPodman,
		"0::/machine.slice/systemd-nspawn@web.service/payload\n":                                           OriginNspawn,
		"0::/machine.slice/machine-web.scope/payload\n":                                                    OriginNspawn,
		"0::/lxc.payload.c1/\n": OriginLXC,
		// cgroup v1 / hybrid
		"12:memory:/docker/3f1c0c6b6a1e\n11:pids:/docker/3f1c0c6b6a1e\n": OriginDocker,
		"4:memory:/lxc/c1\n": OriginLXC,
		"9:name=systemd:/\n4:memory:/process_api/81a51012f903140269ca7b5ed6406376\n0::/\n": OriginUnshare,
		"0::/user.slice/user-1000.slice/session-2.scope\n":                                 OriginUnshare,
		// Kubernetes, and the CRI runtimes' scopes
		"0::/kubepods/besteffort/pod0b7e/e4f1\n":                        OriginKubernetes,
		"0::/kubepods.slice/kubepods-pod0b7e.slice/crio-e4f1.scope\n":   OriginKubernetes,
		"0::/kubepods.slice/kubepods-pod0b7e.slice/docker-e4f1.scope\n": OriginKubernetes,
		"0::/system.slice/cri-containerd-e4f1.scope\n":                  OriginKubernetes,
		"0::/system.slice/docker.service\n":                             OriginUnshare,
		"0::/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt\n":   OriginNspawn, // no PID namespace: never a container
		"0::/lxc.payload.c1/docker-fake.scope\n":                        OriginLXC,
		"0::/a/lxc/c1\n":                                                OriginUnshare,
		"0::/boxtui/web\n1:name=systemd:/boxtui\n":                      OriginUnshare,
		"":                   OriginUnshare,
		"garbage\n::\n":      OriginUnshare,
		"0::/docker-x.scope": OriginDocker, // no final newline
	}
	for in, want := range cases {
		if got := OriginFromCgroup(strings.NewReader(in)); got != want {
			t.Errorf("OriginFromCgroup(%q) = %s, want %s", in, got, want)
		}
		if got := orUnshare(originFromCgroupData([]byte(in))); got != want {
			t.Errorf("originFromCgroupData(%q) = %s, want %s", in, got, want)
		}
	}
}

func orUnshare(o Origin) Origin {
	if o == "" {
		return OriginUnshare
	}
	return o
}

// TestOriginFromCgroupSamples reads the samples of /proc/PID/cgroup in
// testdata/cgroup, one file per engine, setup and cgroup form (v1, hybrid,
// v2), each named ORIGIN-....txt after the origin its cgroup alone says.
// nspawn --register=no and bwrap sandboxes are unshare here: their cgroup
// names no engine, their creator process does (see OriginFromCreator).
func TestOriginFromCgroupSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/cgroup/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in testdata/cgroup: %v", err)
	}
	forms := map[Origin]map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		want := Origin(name[:strings.IndexByte(name, '-')])
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := OriginFromCgroup(bytes.NewReader(data)); got != want {
			t.Errorf("%s: OriginFromCgroup = %s, want %s", name, got, want)
		}
		if got := orUnshare(originFromCgroupData(data)); got != want {
			t.Errorf("%s: originFromCgroupData = %s, want %s", name, got, want)
		}
		if forms[want] == nil {
			forms[want] = map[string]bool{}
		}
		forms[want][name[strings.LastIndexByte(name, '-')+1:]] = true
	}
	for _, o := range []Origin{OriginDocker, OriginPodman, OriginLXC, OriginNspawn, OriginKubernetes} {
		for _, form := range []string{"v1", "hybrid", "v2"} {
			if !forms[o][form] {
				t.Errorf("no %s sample of %s in testdata/cgroup", form, o)
			}
		}
	}
}

func TestOriginFromCreator(t *testing.T) {
	cases := []struct {
		exe, comm string
		want      Origin
	}{
		{"/usr/bin/systemd-nspawn", "systemd-nspawn", OriginNspawn},
		{"/usr/bin/systemd-nspawn (deleted)", "systemd-nspawn", OriginNspawn},
		{"/usr/bin/bwrap", "bwrap", OriginBwrap},
		{"/usr/libexec/flatpak/bwrap", "bwrap", OriginBwrap},
		// comm and the executable disagree: a renamed process or a
		// different program that set its comm (prctl PR_SET_NAME)
		{"/usr/bin/bash", "bwrap", ""},
		{"/usr/bin/bwrap", "sh", ""},
		{"/usr/bin/unshare", "unshare", ""},
		{"/usr/bin/boxtui", "boxtui", ""},
		{"", "bwrap", ""},
		{"bwrap", "bwrap", ""},
	}
	for _, c := range cases {
		if got := OriginFromCreator(c.exe, c.comm); got != c.want {
			t.Errorf("OriginFromCreator(%q, %q) = %q, want %q", c.exe, c.comm, got, c.want)
		}
	}
}

// TestOriginOfFakeProc runs originOf on a fake /proc: the parent's stat and
// exe decide only when the cgroup names no engine, and only if the parent
// is no younger than the init (a reused PID is not the creator).
func TestOriginOfFakeProc(t *testing.T) {
	proc := t.TempDir()
	parent := func(pid, comm, exe string, start int) {
		dir := filepath.Join(proc, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := pid + " (" + comm + ") S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 " + strconv.Itoa(start) + " 1 1\n"
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
			t.Fatal(err)
		}
	}
	parent("100", "systemd-nspawn", "/usr/bin/systemd-nspawn", 500)
	parent("200", "bwrap", "/usr/bin/bwrap", 500)
	parent("300", "bwrap", "/usr/bin/bwrap", 900) // started after the init
	parent("400", "bwrap) S 1 (x", "/usr/bin/bwrap", 500)
	plain := []byte("0::/payload\n")
	cases := []struct {
		cgroup []byte
		ppid   int
		want   Origin
	}{
		{plain, 100, OriginNspawn},
		{plain, 200, OriginBwrap},
		{plain, 300, OriginUnshare},
		{plain, 400, OriginUnshare},
		{plain, 555, OriginUnshare}, // gone
		{plain, 0, OriginUnshare},
		{[]byte("0::/system.slice/docker-x.scope\n"), 200, OriginDocker},
	}
	for _, c := range cases {
		var buf []byte
		if got := originOf(proc, c.cgroup, c.ppid, 600, &buf); got != c.want {
			t.Errorf("originOf(%q, parent %d) = %s, want %s", c.cgroup, c.ppid, got, c.want)
		}
	}
}

// originFromCgroupData must not allocate: discovery calls it for every
// container of `ls`.
func TestOriginFromCgroupDataNoAlloc(t *testing.T) {
	data, err := os.ReadFile("testdata/cgroup/kubernetes-crio-systemd-hybrid.txt")
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { originFromCgroupData(data) }); n != 0 {
		t.Errorf("originFromCgroupData allocates %v times per call", n)
	}
}

func FuzzOriginFromCgroup(f *testing.F) {
	f.Add("0::/system.slice/docker-abc.scope\n")
	f.Add("4:memory:/lxc/c1\n")
	f.Add("0::/kubepods.slice/kubepods-pod1.slice/crio-1.scope\n")
	f.Add("0::/boxtui/web\n")
	f.Fuzz(func(t *testing.T, s string) {
		got := OriginFromCgroup(strings.NewReader(s))
		switch got {
		case OriginDocker, OriginPodman, OriginNspawn, OriginLXC, OriginKubernetes, OriginUnshare:
		default:
			t.Fatalf("OriginFromCgroup(%q) = %q: not an origin a cgroup can name", s, got)
		}
	})
}
