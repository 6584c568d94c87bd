package runtime

import (
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
		"":              OriginUnshare,
		"garbage\n::\n": OriginUnshare,
	}
	for in, want := range cases {
		if got := OriginFromCgroup(strings.NewReader(in)); got != want {
			t.Errorf("OriginFromCgroup(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzOriginFromCgroup(f *testing.F) {
	f.Add("0::/system.slice/docker-abc.scope\n")
	f.Add("4:memory:/lxc/c1\n")
	f.Fuzz(func(t *testing.T, s string) {
		switch OriginFromCgroup(strings.NewReader(s)) {
		case OriginDocker, OriginPodman, OriginNspawn, OriginLXC, OriginUnshare:
		default:
			t.Fatal("unknown origin")
		}
	})
}
