package engines

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"boxtui/internal/openat2"

	"golang.org/x/sys/unix"
)

// errNotRegular is returned for a state file that is not a regular file
// (a FIFO, a device, a directory).
var errNotRegular = errors.New("not a regular file")

// errTooBig is returned for a state file over its size limit.
var errTooBig = errors.New("too big")

// fileKey tells one version of a file from another: a rewrite (docker and
// c/storage write a temporary file and rename it) changes the inode, an
// edit in place the size or the modification time.
type fileKey struct {
	dev, ino uint64
	size     int64
	mtim     unix.Timespec
}

type fileEntry struct {
	key   fileKey
	value any
	used  bool // read or confirmed by the current Resolve
}

// stateFile returns the value parse made of the file rel below root, from
// the cache when the file is unchanged. rel is opened without following
// any symlink and without leaving root (RESOLVE_BENEATH|
// RESOLVE_NO_SYMLINKS): the engine's directory may be configured anywhere,
// but nothing below it sends boxtui elsewhere. Only a regular file of at
// most limit bytes is read; opening does not block (O_NONBLOCK), should it
// be a FIFO.
func (r *Resolver) stateFile(root, rel string, limit int64, parse func([]byte) (any, error)) (any, error) {
	dirfd, err := r.dir(root)
	if err != nil {
		return nil, err
	}
	return r.stateFileAt(dirfd, root, rel, limit, parse)
}

// dir returns an O_PATH descriptor of an engine's directory, opened once
// per Resolve (closeDirs closes them): naming 50 docker containers opens
// docker's directory once, not 50 times.
func (r *Resolver) dir(root string) (int, error) {
	if fd, ok := r.dirs[root]; ok {
		return fd, nil
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if r.dirs == nil {
		r.dirs = map[string]int{}
	}
	r.dirs[root] = fd
	return fd, nil
}

func (r *Resolver) closeDirs() {
	for root, fd := range r.dirs {
		unix.Close(fd)
		delete(r.dirs, root)
	}
}

func (r *Resolver) stateFileAt(dirfd int, root, rel string, limit int64, parse func([]byte) (any, error)) (any, error) {
	fd, err := openat2.Open(dirfd, rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errNotRegular
	}
	if st.Size > limit {
		return nil, errTooBig
	}
	key := fileKey{dev: st.Dev, ino: st.Ino, size: st.Size, mtim: st.Mtim}
	path := root + "/" + rel
	if e, ok := r.files[path]; ok && e.key == key {
		e.used = true
		r.files[path] = e
		return e.value, nil
	}
	data, err := readAllSized(fd, st.Size, limit)
	if err != nil {
		return nil, err
	}
	v, err := parse(data)
	if err != nil {
		return nil, err
	}
	if r.files == nil {
		r.files = map[string]fileEntry{}
	}
	r.files[path] = fileEntry{key: key, value: v, used: true}
	return v, nil
}

// prune forgets the files the last Resolve did not use: their containers
// are gone.
func (r *Resolver) prune() {
	for p, e := range r.files {
		if !e.used {
			delete(r.files, p)
			continue
		}
		e.used = false
		r.files[p] = e
	}
}

// readAll reads fd to its end, at most limit bytes.
func readAll(fd int, limit int64) ([]byte, error) {
	return readAllSized(fd, -1, limit)
}

// readAllSized is readAll for a regular file of about size bytes (as
// fstat says): a buffer of size+1 bytes that one read does not fill holds
// the whole file, with no second read to see the end. A size below 0 reads
// to the end of file whatever each read returns (procfs files).
func readAllSized(fd int, size, limit int64) ([]byte, error) {
	buf := make([]byte, 0, max(size+1, 4096))
	for {
		if int64(len(buf)) > limit {
			return nil, errTooBig
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if size >= 0 && len(buf) < cap(buf) && int64(len(buf)) <= size {
			// A regular file reads whole unless it ends: this is all of
			// it (as it was when fstat measured it).
			return buf, nil
		}
	}
}

// readSmall reads a configuration file of at most 1 MiB; nil when it
// cannot be read.
func readSmall(path string) []byte {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	data, err := readAll(fd, 1<<20)
	if err != nil {
		return nil
	}
	return data
}

// configure fills in the paths not set, from each engine's documented
// configuration file, else its default. It runs once per Resolver.
func (r *Resolver) configure() {
	if r.configured {
		return
	}
	r.configured = true
	if r.DockerRoot == "" {
		r.DockerRoot = dockerDataRoot(readSmall("/etc/docker/daemon.json"))
	}
	if r.DockerSocket == "" {
		r.DockerSocket = dockerSocket(os.Getenv("DOCKER_HOST"))
	}
	if r.StorageRoot == "" || r.StorageRun == "" {
		conf := os.Getenv("CONTAINERS_STORAGE_CONF")
		if conf == "" {
			conf = "/etc/containers/storage.conf"
		}
		data := readSmall(conf)
		if data == nil {
			data = readSmall("/usr/share/containers/storage.conf")
		}
		graph, run := storageRoots(data)
		if r.StorageRoot == "" {
			r.StorageRoot = graph
		}
		if r.StorageRun == "" {
			r.StorageRun = run
		}
	}
	if r.LXCPath == "" {
		r.LXCPath = lxcPath(readSmall("/etc/lxc/lxc.conf"))
	}
	if r.MachinesDir == "" {
		r.MachinesDir = "/run/systemd/machines"
	}
	if r.PropagateDir == "" {
		r.PropagateDir = "/run/systemd/nspawn/propagate"
	}
	if r.ContainerdRun == nil {
		r.ContainerdRun = []string{"/run/containerd/io.containerd.runtime.v2.task"}
	}
	if r.Proc == "" {
		r.Proc = "/proc"
	}
	if r.DaemonTimeout == 0 {
		r.DaemonTimeout = DefaultDaemonTimeout
	}
}

// dockerDataRoot reads daemon.json's data-root (or its old name, graph);
// /var/lib/docker when neither is set.
func dockerDataRoot(daemonJSON []byte) string {
	var conf struct {
		DataRoot string `json:"data-root"`
		Graph    string `json:"graph"`
	}
	if len(daemonJSON) > 0 && json.Unmarshal(daemonJSON, &conf) == nil {
		for _, p := range []string{conf.DataRoot, conf.Graph} {
			if strings.HasPrefix(p, "/") {
				return strings.TrimRight(p, "/")
			}
		}
	}
	return "/var/lib/docker"
}

// dockerSocket is the unix socket a DOCKER_HOST value names, else the
// default one.
func dockerSocket(host string) string {
	if p, ok := strings.CutPrefix(host, "unix://"); ok && strings.HasPrefix(p, "/") {
		return p
	}
	return "/var/run/docker.sock"
}

// storageRoots reads graphroot and runroot from the [storage] table of
// containers-storage.conf(5); the defaults of a rootful setup otherwise.
// Only the two plain string keys are read, not the whole TOML.
func storageRoots(conf []byte) (graph, run string) {
	graph, run = "/var/lib/containers/storage", "/run/containers/storage"
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			table = strings.Trim(line, "[] \t")
			continue
		}
		if table != "storage" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if i := strings.Index(v, "#"); i >= 0 && !strings.HasPrefix(v, `"`) {
			v = strings.TrimSpace(v[:i])
		}
		s, err := strconv.Unquote(v)
		if err != nil {
			// A TOML literal string: 'path'.
			if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
				s, err = v[1:len(v)-1], nil
			} else if q := strings.LastIndex(v, `"`); strings.HasPrefix(v, `"`) && q > 0 {
				s, err = strconv.Unquote(v[:q+1]) // a comment after the value
			}
		}
		if err != nil || !strings.HasPrefix(s, "/") {
			continue
		}
		switch k {
		case "graphroot":
			graph = strings.TrimRight(s, "/")
		case "runroot":
			run = strings.TrimRight(s, "/")
		}
	}
	return graph, run
}

// lxcPath reads lxc.lxcpath from lxc.conf(5); /var/lib/lxc otherwise.
func lxcPath(conf []byte) string {
	p := "/var/lib/lxc"
	sc := bufio.NewScanner(bytes.NewReader(conf))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(k) != "lxc.lxcpath" {
			continue
		}
		if v = strings.TrimSpace(v); strings.HasPrefix(v, "/") {
			p = strings.TrimRight(v, "/")
		}
	}
	return p
}

// now is time.Now, replaceable by tests.
var now = time.Now
