package engines

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/discovery"
	"boxtui/runtime/namespace"
	"boxtui/runtime/state"
)

// Each engine's plain container (its init: sleep, which neither catches
// nor blocks SIGTERM) goes through everything boxtui does to a container
// it did not make: ls, exec, mount/mounts/umount, kill.

func TestDocker(t *testing.T) {
	t.Parallel()
	c := testutil.StartDocker(t, testutil.EngineName("docker"), nil, "/bin/sleep", "1000")
	lifecycle(t, c, discovery.OriginDocker)
}

func TestPodman(t *testing.T) {
	t.Parallel()
	c := testutil.StartPodman(t, testutil.EngineName("podman"), nil, "/bin/sleep", "1000")
	lifecycle(t, c, discovery.OriginPodman)
}

func TestLXC(t *testing.T) {
	t.Parallel()
	c := testutil.StartLXC(t, testutil.EngineName("lxc"), nil, "/bin/sleep", "1000")
	lifecycle(t, c, discovery.OriginLXC)
}

func TestLXCUnprivileged(t *testing.T) {
	t.Parallel()
	c := testutil.StartLXC(t, testutil.EngineName("lxcu"), testutil.LXCUnprivileged, "/bin/sleep", "1000")
	if !c.UserNS {
		t.Fatalf("%s has the host's user namespace: the idmap did not take", c)
	}
	lifecycle(t, c, discovery.OriginLXC)
}

func TestNspawn(t *testing.T) {
	t.Parallel()
	c := testutil.StartNspawn(t, testutil.EngineName("nspawn"), nil, "/bin/sleep", "1000")
	lifecycle(t, c, discovery.OriginNspawn)
}

// bwrap's own PID 1 is the init (it runs the command as PID 2).
func TestBwrap(t *testing.T) {
	t.Parallel()
	c := testutil.StartBwrap(t, testutil.EngineName("bwrap"), nil, "/bin/sleep", "1000")
	lifecycle(t, c, discovery.OriginBwrap)
}

func TestBwrapAsPID1(t *testing.T) {
	t.Parallel()
	c := testutil.StartBwrap(t, testutil.EngineName("bwrap1"), []string{"--as-pid-1"}, "/bin/sleep", "1000")
	lifecycle(t, c, discovery.OriginBwrap)
}

// lifecycle checks, in order: the container is listed with its origin,
// init and namespaces; exec by the init's PID runs where nsenter -a does;
// a bind mount appears inside and only there, and goes with umount; kill
// stops it and the engine sees it end.
func lifecycle(t *testing.T, c *testutil.EngineContainer, origin discovery.Origin) {
	t.Helper()
	b := newCLI(t)
	pid := strconv.Itoa(c.PID)
	listed(t, b, c, origin)
	t.Run("exec", func(t *testing.T) {
		b := newCLI(t)
		execHostname(t, b, c, c.PID, c.Hostname)
		// By the engine's name, and as ORIGIN:NAME: user-namespaced
		// containers (unprivileged LXC) included.
		if c.Name != "" {
			for _, target := range []string{c.Name, string(origin) + ":" + c.Name} {
				out, errOut, code := b.run("exec", target, "--", "hostname")
				if got := strings.TrimSpace(out); code != 0 || got != c.Hostname {
					t.Errorf("boxtui exec %s -- hostname: exit %d, %q, %s; want %q", target, code, got, strings.TrimSpace(errOut), c.Hostname)
				}
			}
		}
	})
	t.Run("mount", func(t *testing.T) {
		b := newCLI(t)
		mountRoundTrip(t, b, c, c.PID, 0)
	})
	before := time.Now()
	out := b.mustRun("kill", "--time", "20", pid)
	took := time.Since(before)
	if want := "pid:" + pid + ": sent "; !strings.HasPrefix(out, want) {
		t.Errorf("boxtui kill %s printed %q, want %q...", pid, out, want)
	}
	if took > 15*time.Second {
		t.Errorf("boxtui kill took %v: the init waited out its grace time", took)
	}
	t.Logf("%s: boxtui kill: %s (%v)", c, strings.TrimSpace(out), took.Round(time.Millisecond))
	code := awaitExited(t, c)
	t.Logf("%s: the engine says it exited (code %d)", c, code)
	for _, ct := range b.ls() {
		if ct.PID == c.PID {
			t.Errorf("%s is still listed after kill", c)
		}
	}
}

// listed checks that `ls --json` lists c by its init's PID, with origin
// and the init's namespace inodes as /proc/PID/ns has them.
func listed(t *testing.T, b *cli, c *testutil.EngineContainer, origin discovery.Origin) {
	t.Helper()
	var found *discovery.Container
	for _, ct := range b.ls() {
		if ct.PID == c.PID {
			found = &ct
			break
		}
	}
	if found == nil {
		t.Fatalf("%s is not in boxtui ls --json", c)
	}
	if found.Origin != origin {
		t.Errorf("%s: ls gives origin %q, want %q", c, found.Origin, origin)
	}
	if want := nsInodes(t, c.PID); found.Namespaces != want {
		got, _ := json.Marshal(found.Namespaces)
		exp, _ := json.Marshal(want)
		t.Errorf("%s: ls gives namespaces %s, /proc/%d/ns has %s", c, got, c.PID, exp)
	}
	// The engine's name and ID (bwrap keeps neither).
	if found.EngineName != c.Name || found.EngineID != c.ID {
		t.Errorf("%s: ls gives engine name %q and ID %q, want %q and %q", c, found.EngineName, found.EngineID, c.Name, c.ID)
	}
	if found.Processes < 1 {
		t.Errorf("%s: ls counts %d processes", c, found.Processes)
	}
	// TARGET resolution by PID reads the origin its own way.
	if ct, err := discovery.FindInit(strconv.Itoa(c.PID)); err != nil {
		t.Errorf("FindInit(%d) for %s: %v", c.PID, c, err)
	} else if ct.Origin != origin {
		t.Errorf("FindInit(%d) for %s: origin %q, want %q", c.PID, c, ct.Origin, origin)
	}
}

// execHostname checks that `boxtui exec PID -- hostname` prints what
// `nsenter -t PID -a hostname` does, and that this is want.
func execHostname(t *testing.T, b *cli, c *testutil.EngineContainer, pid int, want string) {
	t.Helper()
	p := strconv.Itoa(pid)
	ref := strings.TrimSpace(nsenter(t, "-t", p, "-a", "hostname"))
	if ref != want {
		t.Fatalf("nsenter -t %s -a hostname printed %q, want %q: the test's premise is wrong", p, ref, want)
	}
	out, errOut, code := b.run("exec", p, "--", "hostname")
	if code != 0 {
		t.Fatalf("boxtui exec %s -- hostname: exit %d: %s%s", p, code, out, errOut)
	}
	if got := strings.TrimSpace(out); got != ref {
		t.Errorf("boxtui exec %s -- hostname printed %q, nsenter -t %s -a printed %q", p, got, p, ref)
	}
}

// mountRoundTrip mounts a host directory at /bt-mnt through the process
// pid of c and checks it: visible in pid's mount namespace (nsenter -t pid
// -m), listed by `mounts` as boxtui's, not visible in the mount namespace
// of other (when not 0), never on the host; and gone everywhere after
// umount.
func mountRoundTrip(t *testing.T, b *cli, c *testutil.EngineContainer, pid, other int) {
	t.Helper()
	p := strconv.Itoa(pid)
	src := t.TempDir()
	marker := fmt.Sprintf("%s %d %d", c.Engine, pid, time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(src, "marker"), []byte(marker), 0o644); err != nil {
		t.Fatal(err)
	}
	catMarker := func(in int) (string, int) {
		out, _, code := runCmd(t, nil, "nsenter", "-t", strconv.Itoa(in), "-m", "-r", "cat", "/bt-mnt/marker")
		return out, code
	}
	if out, code := catMarker(pid); code == 0 {
		t.Fatalf("/bt-mnt/marker exists in %s before the mount: %q", c, out)
	}
	b.mustRun("mount", p, src, "/bt-mnt")
	mounted := true
	t.Cleanup(func() {
		if mounted {
			b.run("umount", p, "/bt-mnt")
		}
	})
	if out, code := catMarker(pid); code != 0 || out != marker {
		t.Errorf("after boxtui mount %s %s /bt-mnt, nsenter -t %s -m cat /bt-mnt/marker gives %q (exit %d), want %q", p, src, p, out, code, marker)
	}
	if other != 0 {
		if out, code := catMarker(other); code == 0 {
			t.Errorf("the mount into process %d shows in process %d's mount namespace too: %q", pid, other, out)
		}
	}
	if leaks := hostMountLeaks(t, src); len(leaks) > 0 {
		t.Errorf("the mount into %s shows on the host: %v", c, leaks)
	}
	// The list counts the mounts boxtui added to any container, whoever
	// made it (the MOUNTS column, "mounts" in ls --json): the container
	// is the one of pid's PID namespace, whichever process of it pid is.
	pidNS := nsInodes(t, pid)[namespace.PID]
	var found *discovery.Container
	for _, ct := range b.ls() {
		if ct.Namespaces[namespace.PID] == pidNS {
			found = &ct
		}
	}
	if found == nil || !slices.ContainsFunc(found.Mounts, func(m state.MountRecord) bool { return m.Target == "/bt-mnt" }) {
		t.Errorf("ls --json does not list boxtui's /bt-mnt among the mounts of the container of process %d (%s): %+v", pid, c, found)
	}
	if m, ok := mountsEntry(t, b, p, "/bt-mnt"); !ok {
		t.Errorf("boxtui mounts %s does not list /bt-mnt", p)
	} else if !m.Managed {
		t.Errorf("boxtui mounts %s does not mark /bt-mnt as boxtui's: %+v", p, m)
	}

	b.mustRun("umount", p, "/bt-mnt")
	mounted = false
	if out, code := catMarker(pid); code == 0 {
		t.Errorf("after boxtui umount, /bt-mnt/marker is still there in %s: %q", c, out)
	}
	if _, ok := mountsEntry(t, b, p, "/bt-mnt"); ok {
		t.Errorf("boxtui mounts %s still lists /bt-mnt after umount", p)
	}
	if leaks := hostMountLeaks(t, src); len(leaks) > 0 {
		t.Errorf("after umount the host has mounts of %s: %v", c, leaks)
	}
}

// mountEntry is one line of `mounts --json`.
type mountEntry struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	FSType   string `json:"fstype"`
	ReadOnly bool   `json:"readonly"`
	Managed  bool   `json:"managed"`
}

// mountsEntry returns the entry of `boxtui mounts --json TARGET` at path.
func mountsEntry(t *testing.T, b *cli, target, path string) (mountEntry, bool) {
	t.Helper()
	out := b.mustRun("mounts", "--json", target)
	var ms []mountEntry
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("boxtui mounts --json %s printed no JSON array: %v\n%s", target, err, out)
	}
	for _, m := range ms {
		if m.Target == path {
			return m, true
		}
	}
	return mountEntry{}, false
}
