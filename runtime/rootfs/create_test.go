package rootfs

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/sys/mountinfo"
)

// hostBash is the real host bash and what it loads, to stock fake hosts.
type hostBash struct {
	bash, interp string
	libs         []string // real files of the DT_NEEDED closure, loader excluded
}

func findHostBash(t *testing.T) hostBash {
	t.Helper()
	bash, err := filepath.EvalSymlinks("/bin/bash")
	if err != nil {
		t.Skipf("host has no bash: %v", err)
	}
	f, err := os.Open(bash)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ReadELF(f)
	f.Close()
	if err != nil || info.Interp == "" {
		t.Skipf("host bash is not a dynamic ELF program (%v)", err)
	}
	deps, err := Dependencies(bash)
	if err != nil {
		t.Fatal(err)
	}
	hb := hostBash{bash: bash, interp: info.Interp}
	interpReal, _ := filepath.EvalSymlinks(info.Interp)
	for _, d := range deps {
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			t.Fatal(err)
		}
		if real != interpReal {
			hb.libs = append(hb.libs, d)
		}
	}
	return hb
}

// layout describes a distribution's file system shape.
type layout struct {
	name     string
	links    map[string]string // top-level symlinks
	binDir   string            // real directory holding bash
	libDir   string            // real directory holding the libraries
	ldConf   string            // /etc/ld.so.conf content, if any
	withSoLn bool              // libc.so.6 a symlink to a versioned file (old glibc)
}

var layouts = []layout{
	{name: "debian-merged", links: map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"},
		binDir: "/usr/bin", libDir: "/usr/lib/x86_64-linux-gnu"},
	{name: "debian-unmerged", binDir: "/bin", libDir: "/lib/x86_64-linux-gnu", withSoLn: true},
	{name: "fedora", links: map[string]string{"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"},
		binDir: "/usr/bin", libDir: "/usr/lib64"},
	{name: "arch", links: map[string]string{"bin": "usr/bin", "sbin": "usr/bin", "lib": "usr/lib", "lib64": "usr/lib", "usr/lib64": "lib", "usr/sbin": "bin"},
		binDir: "/usr/bin", libDir: "/usr/lib"},
	{name: "ldsoconf-dir", binDir: "/bin", libDir: "/opt/vendor/lib",
		ldConf: "include /etc/ld.so.conf.d/*.conf\n"},
	{name: "absolute-links", links: map[string]string{"bin": "/usr/bin", "lib64": "/usr/lib64"},
		binDir: "/usr/bin", libDir: "/usr/lib64"},
}

// makeFakeHost builds a tree shaped like l and stocked with the host's
// bash and libraries, with sh -> bash.
func makeFakeHost(t *testing.T, hb hostBash, l layout) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "host")
	for name, target := range l.links {
		if filepath.IsAbs(target) {
			mustMkdir(t, filepath.Join(root, target))
		} else {
			mustMkdir(t, filepath.Join(root, filepath.Dir(name), target))
		}
	}
	for name, target := range l.links {
		os.Remove(filepath.Join(root, name)) // a link's target made above
		mustSymlink(t, target, filepath.Join(root, name))
	}
	inRoot := func(p string) string {
		real, err := realPathUnder(root, p)
		if err != nil {
			// The path does not exist yet: resolve its parent.
			parent, perr := realPathUnder(root, filepath.Dir(p))
			if perr != nil {
				mustMkdir(t, filepath.Join(root, filepath.Dir(p)))
				parent = filepath.Dir(p)
			}
			real = filepath.Join(parent, filepath.Base(p))
		}
		return filepath.Join(root, real)
	}
	real := func(p string) string {
		r, err := filepath.EvalSymlinks(p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	copyTo := func(src, dst string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		mustMkdir(t, filepath.Dir(dst))
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyTo(hb.bash, inRoot(filepath.Join(l.binDir, "bash")))
	mustSymlink(t, "bash", inRoot(filepath.Join(l.binDir, "sh")))
	for _, lib := range hb.libs {
		name := filepath.Base(lib)
		if l.withSoLn {
			copyTo(real(lib), inRoot(filepath.Join(l.libDir, name+".real")))
			mustSymlink(t, name+".real", inRoot(filepath.Join(l.libDir, name)))
		} else {
			copyTo(real(lib), inRoot(filepath.Join(l.libDir, name)))
		}
	}
	// The loader lives in libDir; PT_INTERP reaches it through a symlink
	// wherever the layout does not put it there itself.
	ldReal := filepath.Join(l.libDir, filepath.Base(hb.interp))
	ldSrc, _ := filepath.EvalSymlinks(hb.interp)
	copyTo(ldSrc, inRoot(ldReal))
	if _, err := realPathUnder(root, hb.interp); err != nil {
		mustSymlink(t, ldReal, inRoot(hb.interp))
	}
	// Like a real host, the fake one has a loader cache listing its library
	// directory: the host's loader (Debian's, here) would not look in a
	// Fedora or vendor directory by itself.
	conf := l.ldConf
	if conf == "" {
		conf = "include /etc/ld.so.conf.d/*.conf\n"
	}
	mustWrite(t, filepath.Join(root, "etc/ld.so.conf"), conf)
	mustWrite(t, filepath.Join(root, "etc/ld.so.conf.d/vendor.conf"), l.libDir+"\n")
	if ldconfig, err := exec.LookPath("ldconfig"); err == nil {
		if out, err := exec.Command(ldconfig, "-r", root).CombinedOutput(); err != nil {
			t.Logf("ldconfig -r %s: %v %s", root, err, out)
		}
	}
	mustWrite(t, filepath.Join(root, "usr/share/terminfo/x/xterm"), "xterm entry")
	mustSymlink(t, "../x/xterm", filepath.Join(root, "usr/share/terminfo/v/vt100"))
	return root
}

func TestCreateKeepsHostLayout(t *testing.T) {
	hb := findHostBash(t)
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			host := makeFakeHost(t, hb, l)
			dst := filepath.Join(t.TempDir(), "rootfs")
			rep, err := Create(dst, Options{HostRoot: host, Tools: []string{"bash", "sh", "nosuch"}})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if len(rep.Skipped) == 0 || rep.Skipped[0] != "nosuch" {
				t.Errorf("Skipped = %v, want [nosuch]", rep.Skipped)
			}
			for name, target := range l.links {
				got, err := os.Readlink(filepath.Join(dst, name))
				if err != nil || got != target {
					t.Errorf("%s in rootfs -> %q (%v), want -> %q as on the host", name, got, err, target)
				}
			}
			for _, p := range []string{"/bin/sh", "/bin/bash", hb.interp, "/usr/share/terminfo/v/vt100"} {
				real, err := realPathUnder(dst, p)
				if err != nil {
					t.Errorf("%s does not resolve inside the rootfs: %v", p, err)
					continue
				}
				if fi, err := os.Stat(filepath.Join(dst, real)); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("%s -> %s is not a regular file in the rootfs (%v)", p, real, err)
				}
			}
			// Every library resolves inside the rootfs the way it did on
			// the host.
			inside := &LibResolver{Root: dst, Dirs: NewLibResolver(host).Dirs}
			if _, err := dependencies(inside, "/bin/bash"); err != nil {
				t.Errorf("bash's libraries do not resolve inside the rootfs: %v", err)
			}
			if _, err := os.Stat(filepath.Join(host, "etc/ld.so.cache")); err == nil {
				if _, err := os.Stat(filepath.Join(dst, "etc/ld.so.cache")); err != nil {
					t.Errorf("ld.so.cache not copied: %v", err)
				}
			}
			if os.Geteuid() == 0 {
				out, err := exec.Command("chroot", dst, "/bin/sh", "-c", "echo ok").CombinedOutput()
				if err != nil || strings.TrimSpace(string(out)) != "ok" {
					t.Errorf("chroot %s /bin/sh -c 'echo ok' = %q, %v", dst, out, err)
				}
			}
		})
	}
}

func TestCreateNoShellLeavesNothing(t *testing.T) {
	host := t.TempDir()
	mustWrite(t, filepath.Join(host, "usr/bin/ls"), "#!/bin/sh\n")
	parent := t.TempDir()
	_, err := Create(filepath.Join(parent, "rootfs"), Options{HostRoot: host})
	if err == nil || !strings.Contains(err.Error(), "neither bash nor sh") {
		t.Fatalf("Create without a shell: err = %v, want 'neither bash nor sh'", err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("failed Create left %v behind", entries)
	}
}

func TestCreateRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "keep"), "mine")
	_, err := Create(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Create into a non-empty dir: err = %v, want a hint about --force", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "keep")); string(data) != "mine" {
		t.Fatal("refused Create touched the existing dir")
	}
	if _, err := Create(dir, Options{Force: true}); err != nil {
		t.Fatalf("Create --force: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep")); !os.IsNotExist(err) {
		t.Fatalf("Create --force kept the old content (%v)", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Fatalf("Create --force left temporary dirs: %v", entries)
	}
}

func TestCreateIntoEmptyDir(t *testing.T) {
	dir := t.TempDir()
	rep, err := Create(dir, Options{})
	if err != nil {
		t.Fatalf("Create into an empty dir: %v", err)
	}
	if rep.Files == 0 || rep.Bytes == 0 || len(rep.Libraries) == 0 || len(rep.Binaries) == 0 {
		t.Fatalf("report says nothing was copied: %+v", rep)
	}
	t.Logf("Create: %d files, %d bytes, %d binaries, %d libraries, %d terminfo, skipped %v, in %v",
		rep.Files, rep.Bytes, len(rep.Binaries), len(rep.Libraries), len(rep.Terminfo), rep.Skipped, rep.Duration)
	for _, d := range []string{"proc", "dev", "sys", "tmp", "etc", "root", "var", "run", "home"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("rootfs has no /%s directory (%v)", d, err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "tmp")); fi == nil || fi.Mode()&os.ModeSticky == 0 || fi.Mode().Perm() != 0o777 {
		t.Errorf("/tmp mode = %v, want drwxrwxrwt", fi.Mode())
	}
	passwd, _ := os.ReadFile(filepath.Join(dir, "etc/passwd"))
	if !bytes.HasPrefix(passwd, []byte("root:x:0:0:")) {
		t.Errorf("/etc/passwd = %q, want a root entry", passwd)
	}
}

// TestCreateRunsInChroot is the acceptance test: the tools of the seed
// walkthrough work inside the new rootfs, in a PID namespace with its own
// proc as the blog post runs it.
func TestCreateRunsInChroot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: chroots and mounts proc in a PID namespace")
	}
	dir := filepath.Join(t.TempDir(), "rootfs")
	if _, err := Create(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ cmd, want string }{
		{"sh -c 'echo ok'", "ok"},
		{"ps ax", "PID"},
		{"top -b -n1", "Tasks:"},
		{"bash -c 'echo $BASH_VERSION'", "."},
		{"hostname", ""},
		{"mount --version", "util-linux"},
		{"id", "uid=0(root)"},
		{"ls -l /etc/passwd", "root root"},
		{"echo a b | wc -w", "2"},
		{"sleep 0 & wait; echo bg", "bg"}, // dash opens /dev/null for background jobs
	}
	for _, c := range cases {
		cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc="+filepath.Join(dir, "proc"),
			"chroot", dir, "/bin/sh", "-c", c.cmd)
		cmd.Env = []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "TERM=xterm"}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Stdin = io.LimitReader(nil, 0)
		if err := cmd.Run(); err != nil {
			t.Errorf("%s in chroot: %v\n%s", c.cmd, err, out.String())
			continue
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("%s in chroot printed %q, want it to contain %q", c.cmd, out.String(), c.want)
		}
	}
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil || len(ms) != 0 {
		t.Fatalf("mounts left under %s: %v (%v)", dir, ms, err)
	}
}

func TestCreateRefusesForceOverMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a tmpfs inside the target")
	}
	dir := t.TempDir()
	mustMkdir(t, filepath.Join(dir, "proc"))
	if out, err := exec.Command("mount", "-t", "tmpfs", "none", filepath.Join(dir, "proc")).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", filepath.Join(dir, "proc")).Run() })
	_, err := Create(dir, Options{Force: true})
	if err == nil || !strings.Contains(err.Error(), "mounted inside") {
		t.Fatalf("Create --force over a mount: err = %v, want a refusal", err)
	}
}
