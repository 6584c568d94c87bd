package engines

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// maxDockerConfig bounds a container's config.v2.json (a few kB; big
// environments and labels make it larger).
const maxDockerConfig = 8 << 20

// ParseDockerConfig reads docker's config.v2.json of a container: its ID
// and its name, without the leading "/".
func ParseDockerConfig(data []byte) (Identity, error) {
	v, err := topLevelStrings(data, "ID", "Name")
	if err != nil {
		return Identity{}, fmt.Errorf("config.v2.json: %w", err)
	}
	if !isID(v[0]) {
		return Identity{}, fmt.Errorf("config.v2.json: no container ID")
	}
	return Identity{Name: strings.TrimPrefix(v[1], "/"), ID: v[0]}, nil
}

// dockerFromDisk reads the container's config.v2.json under docker's data
// root; ok is false when it cannot be read (the daemon may still know).
func (r *Resolver) dockerFromDisk(id string) (Identity, bool) {
	if !isID(id) {
		return Identity{}, true // nothing to look up, nothing to ask
	}
	v, err := r.stateFile(r.DockerRoot, "containers/"+id+"/config.v2.json", maxDockerConfig, func(b []byte) (any, error) {
		return ParseDockerConfig(b)
	})
	if err != nil {
		return Identity{ID: id}, false
	}
	ident := v.(Identity)
	if ident.ID != id {
		// A file of another container under this one's directory: trust
		// neither.
		return Identity{ID: id}, true
	}
	return ident, true
}

// maxAPIResponse bounds the answer of the docker API's container list.
const maxAPIResponse = 16 << 20

// dockerFromAPI asks docker's Engine API for every container's name, once,
// within r.DaemonTimeout; nil when the daemon is absent, down, slow or
// answers anything odd. After a failure the API is left alone for a while,
// so a UI rescanning every second never waits on a dead daemon again and
// again.
func (r *Resolver) dockerFromAPI() map[string]string {
	if now().Before(r.daemonDown) {
		return nil
	}
	body, err := unixGet(r.DockerSocket, "/containers/json?all=1", r.DaemonTimeout, maxAPIResponse)
	if err == nil {
		var names map[string]string
		if names, err = ParseDockerList(body); err == nil {
			return names
		}
	}
	r.daemonDown = now().Add(daemonRetry)
	return nil
}

// ParseDockerList reads the answer of the Engine API's GET /containers/json:
// container ID to name (its first name, without the leading "/").
func ParseDockerList(body []byte) (map[string]string, error) {
	var list []struct {
		ID    string   `json:"Id"`
		Names []string `json:"Names"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, err
	}
	names := make(map[string]string, len(list))
	for _, c := range list {
		if !isID(c.ID) || len(c.Names) == 0 {
			continue
		}
		names[c.ID] = strings.TrimPrefix(c.Names[0], "/")
	}
	return names, nil
}

// errTimeout is returned when the daemon did not answer in time.
var errTimeout = errors.New("timed out")

// unixGet sends one HTTP/1.0 GET to the server on the unix socket at path
// and returns the body of a 200 answer, all within timeout. It is a few
// system calls rather than net/http, whose package initialisation alone
// would make `boxtui ls` start late (see lscmd).
func unixGet(path, target string, timeout time.Duration, limit int) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		// EAGAIN: the daemon's backlog is full, it is not keeping up.
		if err != unix.EINPROGRESS {
			return nil, err
		}
		if err := waitFD(fd, unix.POLLOUT, deadline); err != nil {
			return nil, err
		}
		if soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || soerr != 0 {
			if err == nil {
				err = unix.Errno(soerr)
			}
			return nil, err
		}
	}
	req := []byte("GET " + target + " HTTP/1.0\r\nHost: docker\r\nUser-Agent: boxtui\r\nConnection: close\r\n\r\n")
	for len(req) > 0 {
		n, err := unix.Write(fd, req)
		switch {
		case err == unix.EAGAIN:
			if err := waitFD(fd, unix.POLLOUT, deadline); err != nil {
				return nil, err
			}
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, err
		}
		req = req[n:]
	}
	resp := make([]byte, 0, 16<<10)
	for {
		if len(resp) == cap(resp) {
			resp = append(resp, 0)[:len(resp)]
		}
		n, err := unix.Read(fd, resp[len(resp):cap(resp)])
		switch {
		case err == unix.EAGAIN:
			if err := waitFD(fd, unix.POLLIN, deadline); err != nil {
				return nil, err
			}
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, err
		}
		if n == 0 {
			return ParseHTTPResponse(resp)
		}
		resp = resp[:len(resp)+n]
		if len(resp) > limit {
			return nil, errTooBig
		}
	}
}

// waitFD polls fd for events until deadline.
func waitFD(fd int, events int16, deadline time.Time) error {
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return errTimeout
		}
		ms := int(left / time.Millisecond)
		if ms == 0 {
			ms = 1
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
}

// ParseHTTPResponse returns the body of a whole HTTP/1.x response whose
// status is 200, undoing a chunked transfer encoding.
func ParseHTTPResponse(resp []byte) ([]byte, error) {
	head, body, ok := bytes.Cut(resp, []byte("\r\n\r\n"))
	if !ok {
		return nil, errors.New("truncated HTTP response")
	}
	lines := strings.Split(string(head), "\r\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return nil, errors.New("not an HTTP response")
	}
	if f[1] != "200" {
		return nil, fmt.Errorf("HTTP status %s", f[1])
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		if strings.EqualFold(strings.TrimSpace(k), "Transfer-Encoding") && strings.EqualFold(strings.TrimSpace(v), "chunked") {
			return dechunk(body)
		}
	}
	return body, nil
}

// dechunk undoes HTTP/1.1's chunked encoding.
func dechunk(b []byte) ([]byte, error) {
	var out []byte
	for {
		line, rest, ok := bytes.Cut(b, []byte("\r\n"))
		if !ok {
			return nil, errors.New("truncated chunk")
		}
		size := string(line)
		if i := strings.IndexByte(size, ';'); i >= 0 {
			size = size[:i]
		}
		n, err := strconv.ParseUint(strings.TrimSpace(size), 16, 31)
		if err != nil {
			return nil, errors.New("bad chunk size")
		}
		if n == 0 {
			return out, nil
		}
		if uint64(len(rest)) < n+2 {
			return nil, errors.New("truncated chunk")
		}
		out = append(out, rest[:n]...)
		b = rest[n+2:]
	}
}
