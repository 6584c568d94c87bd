package faults

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostileRootfsTarball is what the bug report imported: a setuid-root
// program (a copy of id, which prints euid=0 when it runs as root for
// someone else), a 0666 node of the host's disk and a 0666 /dev/mem.
func hostileRootfsTarball(t *testing.T) string {
	t.Helper()
	id, err := os.ReadFile("/usr/bin/id")
	if err != nil {
		t.Skipf("host has no /usr/bin/id: %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "bin/euid", Typeflag: tar.TypeReg, Mode: 0o4755, Size: int64(len(id))},
		{Name: "dev/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "dev/disk", Typeflag: tar.TypeBlock, Mode: 0o666, Devmajor: 254, Devminor: 0},
		{Name: "dev/mem", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 1},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(id)
		}
	}
	tw.Close()
	p := filepath.Join(t.TempDir(), "hostile.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runAsNobody execs prog from a shell running as uid 65534 (setpriv alone
// would look prog up while it still has root's capabilities).
func runAsNobody(t *testing.T, prog string) (string, error) {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	out, err := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c", `exec "$0"`, prog).CombinedOutput()
	return string(out), err
}

// `rootfs import` of a hostile tarball: refused in one line, leaving
// nothing, for each of a reachable DIR, device nodes, too many entries
// and too many bytes; accepted with --allow-devices (with a warning) into
// a root-only place, where uid 65534 cannot run the setuid program.
func TestRootfsImportKeepsSetuidAndDevicesFromHostUsers(t *testing.T) {
	c := newCLI(t)
	tarball := hostileRootfsTarball(t)

	open, err := os.MkdirTemp("", "boxtui-faults-open-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(open) })
	os.Chmod(open, 0o755)
	closed := t.TempDir() // 0700, root's

	refused := func(dir string, want []string, args ...string) {
		t.Helper()
		args = append([]string{"rootfs", "import", tarball, dir}, args...)
		out, errOut, code := c.run(args...)
		line := strings.TrimSpace(errOut)
		ok := code == 1 && strings.Count(line, "\n") == 0 && strings.HasPrefix(line, "boxtui: ")
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if !ok {
			t.Errorf("boxtui %s: exit %d, stdout %q, stderr %q; want one line saying %q", strings.Join(args, " "), code, out, errOut, want)
		}
		if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 0 {
			t.Errorf("boxtui %s left %v next to %s", strings.Join(args, " "), entries, dir)
		}
	}
	refused(filepath.Join(open, "rootfs"), []string{"host users could reach", "chmod 700 " + open})
	refused(filepath.Join(open, "rootfs"), []string{"host users could reach"}, "--allow-devices")
	refused(filepath.Join(closed, "rootfs"), []string{"dev/disk", "block device", "--allow-devices"})
	refused(filepath.Join(closed, "rootfs"), []string{"more than 3 entries", "--max-entries"}, "--allow-devices", "--max-entries", "3")
	refused(filepath.Join(closed, "rootfs"), []string{"more than 1KiB", "--max-size"}, "--allow-devices", "--max-size", "1KiB")
	refused(filepath.Join(closed, "rootfs"), []string{"invalid --max-size"}, "--max-size", "lots")

	dir := filepath.Join(closed, "rootfs")
	out, errOut, code := c.run("rootfs", "import", tarball, dir, "--allow-devices")
	if code != 0 || !strings.Contains(out, "imported "+dir) || !strings.Contains(errOut, "warning: 2 device nodes") ||
		!strings.Contains(errOut, "dev/disk (block 254:0)") || !strings.Contains(errOut, "dev/mem (char 1:1)") {
		t.Fatalf("import --allow-devices: exit %d, stdout %q, stderr %q; want success and a warning naming both nodes", code, out, errOut)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "dev/mem")); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("dev/mem = %v %v, want the char device asked for", fi, err)
	}
	prog := filepath.Join(dir, "bin/euid")
	if fi, err := os.Stat(prog); err != nil || fi.Mode()&fs.ModeSetuid == 0 {
		t.Errorf("bin/euid = %v %v, want its setuid bit kept", fi, err)
	}
	if out, err := runAsNobody(t, prog); err == nil || strings.Contains(out, "euid=0") {
		t.Errorf("uid 65534 ran the imported setuid-root program: %s", out)
	}
}

// The README's set-up on a fresh machine (`rootfs create`, then a
// container from the default rootfs), in a mount namespace of its own whose
// /var/lib is an empty tmpfs: /var/lib/boxtui and its rootfs directory come
// out root-only, a second `rootfs create` closes them again after they
// were opened (as an older boxtui left them), and the container still runs.
func TestDefaultRootfsIsRootOnlyOnAFreshMachine(t *testing.T) {
	c := newCLI(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare (util-linux)")
	}
	script := `set -e
mount -t tmpfs boxtui-fresh /var/lib
"$0" rootfs create >/dev/null
stat -c '%a %u %n' /var/lib/boxtui /var/lib/boxtui/rootfs /var/lib/boxtui/rootfs/default
chmod 755 /var/lib/boxtui /var/lib/boxtui/rootfs
"$0" rootfs create
stat -c '%a %u %n' /var/lib/boxtui /var/lib/boxtui/rootfs
"$0" run --rm -- /bin/sh -c 'echo inside-$((6*7))' </dev/null
`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, c.bin)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	want := []string{
		"700 0 /var/lib/boxtui\n700 0 /var/lib/boxtui/rootfs\n755 0 /var/lib/boxtui/rootfs/default\n",
		"the default rootfs is already at /var/lib/boxtui/rootfs/default",
		"700 0 /var/lib/boxtui\n700 0 /var/lib/boxtui/rootfs\n",
		"inside-42",
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if err != nil || t.Failed() {
		t.Fatalf("fresh-machine set-up: %v\n%s", err, out)
	}
}
