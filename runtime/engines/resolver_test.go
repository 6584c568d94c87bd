package engines

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// fakeHost lays out each engine's state the way the engine does, under a
// temporary directory, and returns a Resolver reading it.
func fakeHost(t *testing.T) (*Resolver, string) {
	t.Helper()
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := bytes.ReplaceAll(sample(t, "docker-config.v2.json"), []byte("0e09800b41829cdf91a39a3e0c435c9a06688d0821a44c290c029629a6af44a7"), []byte(dockerID))
	write("docker/containers/"+dockerID+"/config.v2.json", cfg)
	write("storage/overlay-containers/containers.json", []byte(`[{"id":"`+podmanID+`","names":["web"]},{"id":"`+k8sID+`","names":["k8s_nginx_web_default_0b7e_0"]}]`))
	write("lxc/c1/config", []byte("lxc.uts.name = c1\n"))
	write("lxc/dup/config", []byte("lxc.uts.name = dup\n"))
	write("machines/web", sample(t, "machine-web"))
	r := &Resolver{
		DockerRoot:    filepath.Join(dir, "docker"),
		DockerSocket:  filepath.Join(dir, "docker.sock"), // nothing listens
		StorageRoot:   filepath.Join(dir, "storage"),
		StorageRun:    filepath.Join(dir, "run-storage"),
		LXCPath:       filepath.Join(dir, "lxc"),
		MachinesDir:   filepath.Join(dir, "machines"),
		PropagateDir:  filepath.Join(dir, "propagate"),
		ContainerdRun: []string{filepath.Join(dir, "containerd")},
	}
	return r, dir
}

func TestResolverReadsEachEnginesState(t *testing.T) {
	r, dir := fakeHost(t)
	if err := os.MkdirAll(filepath.Join(dir, "containerd/k8s.io/"+dockerID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "containerd/k8s.io/"+dockerID+"/config.json"), sample(t, "containerd-cri-container-config.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	refs := []Ref{
		{Engine: Docker, Key: dockerID},
		{Engine: Podman, Key: podmanID},
		{Engine: CRIO, Key: k8sID},
		{Engine: Containerd, Key: dockerID},
		{Engine: Kubernetes, Key: k8sID},
		{Engine: LXC, Key: "c1"},
		{Engine: LXC, Key: "dup-1"}, // LXC found the cgroup taken
		{Engine: LXC, Key: "elsewhere"},
		{Engine: LXC, Key: ".."},
		{Engine: Nspawn, Key: "web", PID: 4242},
		{Engine: Nspawn, Key: "web", PID: 1}, // not machined's leader: no ID
		{Engine: Nspawn, Key: "gone"},
		{Engine: Podman, Key: dockerID}, // not in the store
		{Engine: Docker, Key: "nothex"},
		{},
	}
	want := []Identity{
		{Name: "bt-names-probe", ID: dockerID},
		{Name: "web", ID: podmanID},
		{Name: "k8s_nginx_web_default_0b7e_0", ID: k8sID},
		{Name: "web-7d4b9c-x2kqp/nginx", ID: dockerID},
		{Name: "k8s_nginx_web_default_0b7e_0", ID: k8sID},
		{Name: "c1"},
		{Name: "dup"},
		{Name: "elsewhere"},
		{},
		{Name: "web", ID: "8a5b2c1d9e7f40a6b3c2d1e0f9a8b7c6"},
		{Name: "web"},
		{Name: "gone"},
		{ID: dockerID},
		{},
		{},
	}
	got := r.Resolve(refs)
	for i := range refs {
		if got[i] != want[i] {
			t.Errorf("Resolve(%+v) = %+v, want %+v", refs[i], got[i], want[i])
		}
	}
}

// TestStateIsReadOnlyBelowTheEnginesDirectory: a symlink anywhere below
// the engine's directory (to a file, or a directory on the way) is not
// followed, and a FIFO in place of a state file neither blocks nor is read.
func TestStateIsReadOnlyBelowTheEnginesDirectory(t *testing.T) {
	r, dir := fakeHost(t)
	outside := t.TempDir()
	cfg := bytes.ReplaceAll(sample(t, "docker-config.v2.json"), []byte("0e09800b41829cdf91a39a3e0c435c9a06688d0821a44c290c029629a6af44a7"), []byte(podmanID))
	if err := os.MkdirAll(filepath.Join(outside, podmanID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, podmanID, "config.v2.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	// The container directory is a symlink out of docker's root.
	if err := os.Symlink(filepath.Join(outside, podmanID), filepath.Join(dir, "docker/containers", podmanID)); err != nil {
		t.Fatal(err)
	}
	// config.v2.json itself is a symlink (to a valid file, even).
	link := filepath.Join(dir, "docker/containers", dockerID, "config.v2.json")
	if err := os.Rename(link, link+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("config.v2.json.real", link); err != nil {
		t.Fatal(err)
	}
	// containers.json is a FIFO nobody writes to.
	sj := filepath.Join(dir, "storage/overlay-containers/containers.json")
	if err := os.Remove(sj); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(sj, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan []Identity, 1)
	go func() {
		done <- r.Resolve([]Ref{{Engine: Docker, Key: podmanID}, {Engine: Docker, Key: dockerID}, {Engine: Podman, Key: podmanID}})
	}()
	select {
	case got := <-done:
		for i, id := range got {
			if id.Name != "" {
				t.Errorf("ref %d named %q through a symlink or a FIFO", i, id.Name)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Resolve blocked on a FIFO")
	}
}

// TestResolverRereadsOnlyChangedFiles: an unchanged file is not parsed
// again; a rename in docker (a rewritten file) shows at once.
func TestResolverRereadsOnlyChangedFiles(t *testing.T) {
	r, dir := fakeHost(t)
	ref := []Ref{{Engine: Docker, Key: dockerID}}
	if got := r.Resolve(ref)[0].Name; got != "bt-names-probe" {
		t.Fatalf("first Resolve: %q", got)
	}
	p := filepath.Join(dir, "docker/containers", dockerID, "config.v2.json")
	// Poison the cached value: if the file is not reread, the poison shows.
	e := r.files[p]
	e.value = Identity{Name: "cached", ID: dockerID}
	r.files[p] = e
	if got := r.Resolve(ref)[0].Name; got != "cached" {
		t.Errorf("unchanged file reread: %q", got)
	}
	data, _ := os.ReadFile(p)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, bytes.Replace(data, []byte(`"/bt-names-probe"`), []byte(`"/renamed"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	if got := r.Resolve(ref)[0].Name; got != "renamed" {
		t.Errorf("after docker rename: %q, want renamed", got)
	}
	// A container that is gone is forgotten.
	r.Resolve(nil)
	r.Resolve([]Ref{{Engine: LXC, Key: "c1"}})
	if _, ok := r.files[p]; ok {
		t.Error("the file of a container no Resolve asked for is still cached")
	}
}

// serve answers each connection on a unix socket at path with handle.
func serve(t *testing.T, path string, handle func(net.Conn)) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
}

// TestDockerAPIIsAFallbackAndTimeBoxed: when docker's state on disk cannot
// be read, one GET to its API names the containers; a daemon that does not
// answer costs at most the time box, once, and is then left alone for a
// while; an absent one costs nothing.
func TestDockerAPIIsAFallbackAndTimeBoxed(t *testing.T) {
	const id = "0e09800b41829cdf91a39a3e0c435c9a06688d0821a44c290c029629a6af44a7" // in the captured list
	ref := []Ref{{Engine: Docker, Key: id}}

	r, _ := fakeHost(t)
	start := time.Now()
	if got := r.Resolve(ref)[0]; got != (Identity{ID: id}) {
		t.Errorf("no daemon: %+v", got)
	}
	if d := time.Since(start); d > r.DaemonTimeout {
		t.Errorf("no daemon took %v", d)
	}

	r, _ = fakeHost(t)
	// An answering daemon: how fast it answers is not what is tested, and
	// under -race on a loaded machine the fake can take longer than the
	// 50 ms an interactive ls allows.
	r.DaemonTimeout = 30 * time.Second
	requests := make(chan string, 4)
	serve(t, r.DockerSocket, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		requests <- string(buf[:n])
		c.Write(sample(t, "docker-api-containers-chunked.http"))
	})
	if got := r.Resolve(ref)[0]; got != (Identity{Name: "bt-names-probe", ID: id}) {
		t.Errorf("from the API: %+v", got)
	}
	req := <-requests
	if !strings.HasPrefix(req, "GET /containers/json?all=1 HTTP/1.0\r\n") {
		t.Errorf("request %q", req)
	}
	// Found on disk: the API is not asked.
	r.Resolve([]Ref{{Engine: Docker, Key: dockerID}})
	select {
	case req := <-requests:
		t.Errorf("API asked although the state on disk was read: %q", req)
	default:
	}

	r, _ = fakeHost(t)
	r.DaemonTimeout = 100 * time.Millisecond
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	var conns atomic.Int32
	serve(t, r.DockerSocket, func(c net.Conn) {
		defer c.Close()
		conns.Add(1)
		<-hold // a hung daemon: accepts, never answers
	})
	start = time.Now()
	if got := r.Resolve(ref)[0]; got.Name != "" {
		t.Errorf("hung daemon: %+v", got)
	}
	if d := time.Since(start); d < r.DaemonTimeout || d > r.DaemonTimeout+10*time.Second {
		t.Errorf("hung daemon: Resolve took %v, want about %v", d, r.DaemonTimeout)
	}
	// Asked once; the next Resolve leaves the hung daemon alone (no new
	// connection), whatever the machine's speed.
	testutil.WaitFor(t, 10*time.Second, func() bool { return conns.Load() == 1 }, "the hung daemon was never asked")
	r.Resolve(ref)
	if n := conns.Load(); n != 1 {
		t.Errorf("hung daemon asked again at once: %d connections", n)
	}
}
