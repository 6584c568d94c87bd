package engines

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	dockerID = "3f1c0c6b6a1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f"
	podmanID = "9b2e6d1f0c4a8e7b3d5f1a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b"
	k8sID    = "e4f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f"
)

// TestRefFromCgroupSamples reads every sample of /proc/PID/cgroup that the
// origin tests use (runtime/testdata/cgroup) and checks the engine and key
// each gives: the key comes from the outermost engine component, so the
// hostile samples (a container relabelling itself below its own cgroup)
// keep their real engine's key.
func TestRefFromCgroupSamples(t *testing.T) {
	want := map[string]Ref{
		"docker-cgroupfs-hybrid":            {Engine: Docker, Key: dockerID},
		"docker-cgroupfs-v1":                {Engine: Docker, Key: dockerID},
		"docker-cgroupfs-v2":                {Engine: Docker, Key: dockerID},
		"docker-dind-v2":                    {Engine: Docker, Key: dockerID}, // the outer container's
		"docker-hostile-relabel-lxc-v1":     {Engine: Docker, Key: dockerID},
		"docker-kind-pod-from-host-v2":      {Engine: Docker, Key: dockerID}, // the kind node
		"docker-systemd-hybrid":             {Engine: Docker, Key: dockerID},
		"docker-systemd-v1":                 {Engine: Docker, Key: dockerID},
		"docker-systemd-v2":                 {Engine: Docker, Key: dockerID},
		"kubernetes-cgroupfs-v2":            {Engine: Kubernetes, Key: k8sID},
		"kubernetes-containerd-systemd-v1":  {Engine: Containerd, Key: k8sID},
		"kubernetes-containerd-systemd-v2":  {Engine: Containerd, Key: k8sID},
		"kubernetes-crio-conmon-v2":         {Engine: Kubernetes}, // conmon, not a container
		"kubernetes-crio-systemd-hybrid":    {Engine: CRIO, Key: k8sID},
		"kubernetes-crio-systemd-v2":        {Engine: CRIO, Key: k8sID},
		"kubernetes-docker-systemd-hybrid":  {Engine: Docker, Key: k8sID},
		"kubernetes-dockershim-cgroupfs-v1": {Engine: Kubernetes, Key: k8sID},
		"kubernetes-guaranteed-cgroupfs-v1": {Engine: Kubernetes, Key: k8sID},
		"kubernetes-kind-node-v2":           {Engine: Containerd, Key: k8sID},
		"lxc-3-v1":                          {Engine: LXC, Key: "c1"},
		"lxc-5-hybrid":                      {Engine: LXC, Key: "c1"},
		"lxc-5-v2":                          {Engine: LXC, Key: "c1"},
		"lxc-hostile-relabel-docker-v2":     {Engine: LXC, Key: "c1"},
		"lxc-monitor-v2":                    {Engine: LXC, Key: "c1"},
		"lxc-unprivileged-v2":               {Engine: LXC, Key: "c1"},
		"nspawn-hostile-relabel-k8s-v2":     {Engine: Nspawn, Key: "web"},
		"nspawn-scope-v1":                   {Engine: Nspawn, Key: "web"},
		"nspawn-scope-v2":                   {Engine: Nspawn, Key: "web"},
		"nspawn-service-hybrid":             {Engine: Nspawn, Key: "web"},
		"nspawn-service-v2":                 {Engine: Nspawn, Key: "web"},
		"podman-cgroupfs-v1":                {Engine: Podman, Key: podmanID},
		"podman-pod-v2":                     {Engine: Podman, Key: podmanID},
		"podman-rootless-v2":                {Engine: Podman, Key: podmanID},
		"podman-systemd-hybrid":             {Engine: Podman, Key: podmanID},
		"podman-systemd-v2":                 {Engine: Podman, Key: podmanID},
	}
	files, err := filepath.Glob("../discovery/testdata/cgroup/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in ../discovery/testdata/cgroup: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[name]
		if !ok && !strings.HasPrefix(name, "unshare-") {
			t.Errorf("%s: no expected engine and key in this test: add it", name)
			continue
		}
		if got := RefFromCgroup(data); got != w {
			t.Errorf("%s: RefFromCgroup = %+v, want %+v", name, got, w)
		}
	}
}

func TestRefFromCgroupPath(t *testing.T) {
	for _, c := range []struct {
		path string
		want Ref
	}{
		// systemd escapes '-' in a machine name as \x2d
		{`/machine.slice/machine-bt\x2dweb.scope`, Ref{Engine: Nspawn, Key: "bt-web"}},
		{`/machine.slice/systemd-nspawn@my\x2dbox.service/payload`, Ref{Engine: Nspawn, Key: "my-box"}},
		{`/machine.slice/machine-bad\x2.scope`, Ref{Engine: Nspawn, Key: `bad\x2`}},
		// a docker component that is not an ID gives no key
		{"/docker/notanid", Ref{Engine: Docker}},
		{"/docker", Ref{Engine: Docker}},
		{"/system.slice/docker-" + strings.ToUpper(dockerID) + ".scope", Ref{Engine: Docker}},
		{"/libpod_parent/libpod-conmon-" + podmanID, Ref{Engine: Podman}},
		{"/lxc.payload.a.b-1", Ref{Engine: LXC, Key: "a.b-1"}},
		{"/lxc.payload/c2", Ref{Engine: LXC, Key: "c2"}},
		{"/user.slice/session-1.scope", Ref{}},
		{"", Ref{}},
	} {
		if got := RefFromCgroupPath(c.path); got != c.want {
			t.Errorf("RefFromCgroupPath(%q) = %+v, want %+v", c.path, got, c.want)
		}
	}
}

func FuzzRefFromCgroup(f *testing.F) {
	files, _ := filepath.Glob("../discovery/testdata/cgroup/*.txt")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("0::/lxc.payload.\x1b]0;x\a/../..\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ref := RefFromCgroup(data)
		if ref.Engine == "" && ref.Key != "" {
			t.Fatalf("key %q without an engine", ref.Key)
		}
		if strings.Contains(ref.Key, "/") {
			t.Fatalf("key %q holds a '/'", ref.Key)
		}
	})
}

func sample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestParsersOnSamples runs each engine's parser on a file captured from
// the engine on a test machine (docker 20.10, podman 4.3), or, for engines
// not installed there (containerd's CRI plugin, systemd-machined), written
// after their documented format.
func TestParsersOnSamples(t *testing.T) {
	id, err := ParseDockerConfig(sample(t, "docker-config.v2.json"))
	if err != nil || id.Name != "bt-names-probe" || id.ID != "0e09800b41829cdf91a39a3e0c435c9a06688d0821a44c290c029629a6af44a7" {
		t.Errorf("ParseDockerConfig = %+v, %v", id, err)
	}
	if _, err := ParseDockerConfig([]byte(`{"ID":"../../etc","Name":"/x"}`)); err == nil {
		t.Error("ParseDockerConfig took a config whose ID is not one")
	}

	list, err := ParseDockerList(sample(t, "docker-api-containers.json"))
	if err != nil || list["0e09800b41829cdf91a39a3e0c435c9a06688d0821a44c290c029629a6af44a7"] != "bt-names-probe" || len(list) != 3 {
		t.Errorf("ParseDockerList = %v, %v", list, err)
	}
	for _, f := range []string{"docker-api-containers.http", "docker-api-containers-chunked.http"} {
		body, err := ParseHTTPResponse(sample(t, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !bytes.Equal(body, sample(t, "docker-api-containers.json")) {
			t.Errorf("%s: body differs from the plain list:\n%q", f, body)
		}
	}
	for _, bad := range []string{
		"HTTP/1.0 404 Not Found\r\n\r\n{}",
		"HTTP/1.0 200 OK\r\nContent-Type: x",
		"SSH-2.0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort\r\n",
	} {
		if _, err := ParseHTTPResponse([]byte(bad)); err == nil {
			t.Errorf("ParseHTTPResponse(%q): no error", bad)
		}
	}

	names, err := ParseStorageContainers(sample(t, "storage-containers.json"))
	if err != nil || names["fd6c05b595a9416f9d590436bf3f4af8b3e44bcf9e48c7deb4b321edb3ecc17b"] != "bt-names-pprobe2" {
		t.Errorf("ParseStorageContainers = %v, %v (podman rename must show: names, not metadata)", names, err)
	}

	if n, err := ParseCRIBundleConfig(sample(t, "containerd-cri-container-config.json")); err != nil || n != "web-7d4b9c-x2kqp/nginx" {
		t.Errorf("ParseCRIBundleConfig(container) = %q, %v", n, err)
	}
	if n, err := ParseCRIBundleConfig(sample(t, "containerd-cri-sandbox-config.json")); err != nil || n != "web-7d4b9c-x2kqp" {
		t.Errorf("ParseCRIBundleConfig(sandbox) = %q, %v", n, err)
	}

	if m := ParseMachineFile(sample(t, "machine-web")); m != (Machine{Name: "web", ID: "8a5b2c1d9e7f40a6b3c2d1e0f9a8b7c6", Leader: 4242}) {
		t.Errorf("ParseMachineFile = %+v", m)
	}

	if got := dockerDataRoot(sample(t, "daemon.json")); got != "/srv/docker" {
		t.Errorf("dockerDataRoot = %q", got)
	}
	if got := dockerDataRoot([]byte(`{"graph":"/old"}`)); got != "/old" {
		t.Errorf("dockerDataRoot(graph) = %q", got)
	}
	if got := dockerDataRoot(nil); got != "/var/lib/docker" {
		t.Errorf("dockerDataRoot(nil) = %q", got)
	}
	if g, r := storageRoots(sample(t, "storage.conf")); g != "/srv/containers/storage" || r != "/srv/run/containers" {
		t.Errorf("storageRoots = %q, %q", g, r)
	}
	if g, r := storageRoots(nil); g != "/var/lib/containers/storage" || r != "/run/containers/storage" {
		t.Errorf("storageRoots(nil) = %q, %q", g, r)
	}
	if got := lxcPath(sample(t, "lxc.conf")); got != "/srv/lxc" {
		t.Errorf("lxcPath = %q", got)
	}
	for in, want := range map[string]string{"": "/var/run/docker.sock", "unix:///x/d.sock": "/x/d.sock", "tcp://h:2375": "/var/run/docker.sock"} {
		if got := dockerSocket(in); got != want {
			t.Errorf("dockerSocket(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzTopLevelStrings: on any JSON object encoding/json accepts, the
// scanner finds the same top-level strings (map decoding: exact keys, the
// last duplicate wins) and never one from a nested object.
func FuzzTopLevelStrings(f *testing.F) {
	f.Add(sample(f, "docker-config.v2.json"))
	f.Add([]byte(`{"Name":"/a","ID":"x","Config":{"Name":"nested"},"Name":"/b"}`))
	f.Add([]byte(`{"N\u0061me":"esc","ID":["Name","x"],"x":{"ID":"no"}, "ID" : "y\"z" }`))
	f.Add([]byte(`{"name":"lower","Name":1}`))
	f.Add([]byte(`{"Name":"first","Name":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := topLevelStrings(data, "ID", "Name")
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil {
			return // not a JSON object: only no panic matters
		}
		if err != nil {
			t.Fatalf("valid object %q: %v", data, err)
		}
		for i, k := range []string{"ID", "Name"} {
			var want string
			if raw, ok := m[k]; ok {
				json.Unmarshal(raw, &want) // not a string: stays ""
			}
			if got[i] != want {
				t.Fatalf("%q: %s = %q, want %q", data, k, got[i], want)
			}
		}
	})
}

// TestNspawnMachineFromMountinfo: an unregistered nspawn container's
// machine name is the host's propagate/NAME directory mounted on its
// /run/host/incoming: read from a captured pair of mount tables (nspawn
// 252, /run on the root filesystem) and from made-up ones for a /run
// tmpfs and for containers that try to pass their own directory off as
// another machine's.
func TestNspawnMachineFromMountinfo(t *testing.T) {
	const prop = "/run/systemd/nspawn/propagate"
	if got := NspawnMachineFromMountinfo(sample(t, "nspawn-init-mountinfo.txt"), sample(t, "host-mountinfo.txt"), prop); got != "bt-names-nprobe" {
		t.Errorf("captured: %q, want bt-names-nprobe", got)
	}
	host := []byte("26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
		"30 26 0:25 / /run rw,nosuid - tmpfs tmpfs rw\n")
	line := func(dev, root string) []byte {
		return []byte("1 0 254:0 /var/lib/machines/c / rw - ext4 /dev/vda rw\n" +
			"260 258 " + dev + " " + root + " /run/host/incoming ro,relatime master:33 - tmpfs tmpfs rw\n")
	}
	for _, c := range []struct {
		what, dev, root, want string
	}{
		{"on a /run tmpfs", "0:25", "/systemd/nspawn/propagate/web", "web"},
		{"escaped", "0:25", `/systemd/nspawn/propagate/my\040box`, "my box"},
		{"another filesystem", "0:99", "/systemd/nspawn/propagate/web", ""},
		{"its own directory on the root filesystem", "254:0", "/var/lib/machines/c/run/systemd/nspawn/propagate/web", ""},
		{"the propagate directory itself", "0:25", "/systemd/nspawn/propagate", ""},
		{"below a machine's directory", "0:25", "/systemd/nspawn/propagate/web/x", ""},
		{"dot-dot", "0:25", "/systemd/nspawn/propagate/..", ""},
	} {
		if got := NspawnMachineFromMountinfo(line(c.dev, c.root), host, prop); got != c.want {
			t.Errorf("%s: %q, want %q", c.what, got, c.want)
		}
	}
	// Mounted elsewhere in the container: not nspawn's mount.
	other := []byte("260 258 0:25 /systemd/nspawn/propagate/web /mnt ro - tmpfs tmpfs rw\n")
	if got := NspawnMachineFromMountinfo(other, host, prop); got != "" {
		t.Errorf("mounted on /mnt: %q", got)
	}
}
