package faults

// Fuzz targets for the parsers that read input boxtui does not control and
// that have no fuzz target in their own package. The others are:
// runtime (FuzzParseStatus, FuzzParseStat, FuzzParseNSLink,
// FuzzOriginFromCgroup, FuzzDecodeState, FuzzDecodeEvents), runtime/rootfs
// (FuzzImportNames), runtime/launch (FuzzReadFrame), runtime/mounts
// (FuzzCleanTarget, FuzzDecodeForeign, FuzzParseVolume), pty (FuzzVT: the
// escape decoder fed by container output) and internal/config (FuzzParse).
// Run one with: go test -fuzz=FuzzMountinfoNames -fuzztime=30s ./faults/

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"boxtui/runtime/enter"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/rootfs"
	"boxtui/runtime/signals"
	"boxtui/runtime/state"

	"github.com/moby/sys/mountinfo"
)

// escapeMountinfo escapes a path as the kernel's show_mountinfo does
// (mangle: space, tab, newline and backslash as \ooo octal).
func escapeMountinfo(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// A container names its own mount points, so part of every mountinfo boxtui
// reads (mounts, leak checks) is the container's to choose. Whatever the
// name, the library boxtui reads mountinfo with must give it back exactly,
// with the other fields intact, and never panic on broken lines.
func FuzzMountinfoNames(f *testing.F) {
	for _, s := range []string{
		"/data", "/a b", "/x\ny - ext4 /dev/sda rw", "/tab\there", `/back\slash`,
		"/ - ", "/optional shared:1 master:2", "/\\040", "/中文/ü",
	} {
		f.Add(s, []byte("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"))
	}
	f.Fuzz(func(t *testing.T, name string, raw []byte) {
		// Broken input: no panic, whatever it is.
		mountinfo.GetMountsFromReader(bytes.NewReader(raw), nil)

		if name == "" || strings.ContainsRune(name, 0) || !strings.HasPrefix(name, "/") {
			return
		}
		line := fmt.Sprintf("36 35 98:0 /src %s rw,nosuid shared:7 - tmpfs none rw,size=8k\n"+
			"37 36 0:5 / /after ro - proc proc rw\n", escapeMountinfo(name))
		infos, err := mountinfo.GetMountsFromReader(strings.NewReader(line), nil)
		if err != nil {
			t.Fatalf("mount point %q: %v", name, err)
		}
		if len(infos) != 2 {
			t.Fatalf("mount point %q: %d entries, want 2", name, len(infos))
		}
		if infos[0].Mountpoint != name || infos[0].FSType != "tmpfs" || infos[0].Optional != "shared:7" {
			t.Fatalf("mount point %q read back as %+v", name, infos[0])
		}
		if infos[1].Mountpoint != "/after" || infos[1].FSType != "proc" {
			t.Fatalf("a mount point %q spilled into the next entry: %+v", name, infos[1])
		}
	})
}

// /proc/PID/cmdline is whatever the process put there.
func FuzzParseCmdline(f *testing.F) {
	for _, s := range []string{"/bin/sleep\x001000\x00", "", "\x00\x00", "no-nul", "a\x00\x00b\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, a := range procfs.ParseCmdline(data) {
			if strings.ContainsRune(a, 0) {
				t.Fatalf("argument %q keeps a NUL", a)
			}
		}
	})
}

// A container name becomes a path under the state directory; no name that
// ValidateName lets through may point anywhere else.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"web", "..", ".", "a/../b", "-x", "a.b", strings.Repeat("a", 65), "\x00", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if state.ValidateName(name) != nil {
			return
		}
		dir := state.Dir(name)
		if filepath.Dir(dir) != filepath.Clean(state.RunDir()) || filepath.Base(dir) != name {
			t.Fatalf("valid name %q gives state directory %s, outside %s", name, dir, state.RunDir())
		}
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "-") {
			t.Fatalf("valid name %q could hide or read as a flag", name)
		}
	})
}

// `boxtui kill -s` takes a person's text.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"TERM", "sigkill", "9", "0", "65", "-1", " hup ", "SIGRTMIN+3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := signals.Parse(s)
		if err != nil {
			return
		}
		if sig < 1 || sig > 64 {
			t.Fatalf("%q parsed to signal %d", s, sig)
		}
		if back, err := signals.Parse(signals.Name(sig)); err != nil || back != sig {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, sig, signals.Name(sig), back, err)
		}
	})
}

// `boxtui exec --ns` takes a person's list.
func FuzzParseNamespaces(f *testing.F) {
	for _, s := range []string{"pid,mnt", "all", "", " uts , ipc ", "pid,,mnt", "user", "bogus"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		types, err := enter.ParseNamespaces(s)
		if err != nil {
			return
		}
		seen := map[namespace.Type]bool{}
		for _, ty := range types {
			if seen[ty] {
				t.Fatalf("%q lists %v twice", s, ty)
			}
			seen[ty] = true
		}
	})
}

// rootfs create reads ELF headers of host programs and libraries; a
// malformed file must give an error, not a crash.
func FuzzReadELF(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rootfs.ReadELF(bytes.NewReader(data))
	})
}

// ld.so.conf files are read from the host while building a rootfs.
func FuzzParseLDSOConf(f *testing.F) {
	for _, s := range []string{"include /etc/ld.so.conf.d/*.conf\n/usr/local/lib\n", "# c\n\n  /lib64  \n", "include\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rootfs.ParseLDSOConf(strings.NewReader(s))
	})
}
