package faults

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"boxtui/internal/testutil"

	"golang.org/x/sys/unix"
)

// binarySpy plays the container process of runc's CVE-2019-5736: it
// watches the processes of every PID namespace but the host's and keeps a
// handle on the /proc/PID/exe of every one that runs boxtui's binary
// (recognised by its size), to try writing through them once no boxtui
// runs.
type binarySpy struct {
	hostNS  string
	size    int64
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	handles []int
	seen    map[int]bool
}

func startBinarySpy(t *testing.T, size int64) *binarySpy {
	hostNS, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	s := &binarySpy{hostNS: hostNS, size: size, stop: make(chan struct{}), done: make(chan struct{}), seen: map[int]bool{}}
	go s.loop()
	t.Cleanup(func() {
		s.halt()
		for _, fd := range s.handles {
			unix.Close(fd)
		}
	})
	return s
}

func (s *binarySpy) halt() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

func (s *binarySpy) loop() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		ents, err := os.ReadDir("/proc")
		if err != nil {
			continue
		}
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || s.seen[pid] {
				continue
			}
			if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err != nil || ns == s.hostNS {
				continue
			}
			fd, err := unix.Open(fmt.Sprintf("/proc/%d/exe", pid), unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				continue
			}
			var st unix.Stat_t
			if unix.Fstat(fd, &st) != nil || st.Size != s.size {
				unix.Close(fd)
				continue
			}
			s.seen[pid] = true
			s.mu.Lock()
			s.handles = append(s.handles, fd)
			s.mu.Unlock()
		}
	}
}

func (s *binarySpy) caught() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.handles)
}

// writable returns how many of the handles can be reopened for writing.
// A handle on a binary some process still runs gives ETXTBSY: that is
// retried until the deadline, since the attack waits for that moment.
func (s *binarySpy) writable(t *testing.T) int {
	n := 0
	for _, fd := range s.handles {
		deadline := time.Now().Add(10 * time.Second)
		for {
			w, err := unix.Open(fmt.Sprintf("/proc/self/fd/%d", fd), unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(w)
				n++
				break
			}
			if errors.Is(err, unix.ETXTBSY) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if errors.Is(err, unix.ETXTBSY) {
				t.Errorf("a handle stayed busy for 10 s: some boxtui process is still running")
			}
			break
		}
	}
	return n
}

// TestContainerCannotWriteBoxtuiBinary is runc's CVE-2019-5736 against
// boxtui: processes in a container keep handles on /proc/PID/exe of the
// boxtui processes they see — the `exec` child before its execve, the
// `--new-mount-proc` stage, and boxtui's own binary run inside through a
// `#!/proc/self/exe` script given as the command to exec and to run — and
// try to reopen them for writing once boxtui has finished. With
// BOXTUI_EXESEAL=0 (the control) they can, which proves the spy sees what
// it should; by default none can, and the binary is unchanged.
func TestContainerCannotWriteBoxtuiBinary(t *testing.T) {
	c := newCLI(t)
	// A copy, so that a failing defence cannot damage the binary every
	// other test runs.
	orig, err := os.ReadFile(c.bin)
	if err != nil {
		t.Fatal(err)
	}
	c.bin = filepath.Join(t.TempDir(), "boxtui")
	if err := os.WriteFile(c.bin, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	rootfs := testutil.FreshRootfs(t)
	if err := os.WriteFile(filepath.Join(rootfs, "hold"), []byte("#!/proc/self/exe\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pid := testutil.StartUnshare(t, rootfs, "/bin/sleep", "100000")
	target := strconv.Itoa(pid)

	attack := func(t *testing.T, env ...string) *binarySpy {
		saved := c.env
		c.env = append(append([]string{}, c.env...), env...)
		defer func() { c.env = saved }()
		spy := startBinarySpy(t, int64(len(orig)))
		for round := 0; round < 40 && (round < 5 || spy.caught() < 3); round++ {
			// boxtui's own binary runs inside as the script's interpreter
			// and fails on its argument: exit 1 is expected.
			if _, stderr, code := c.run("exec", target, "--", "/hold"); code != 1 {
				t.Fatalf("exec -- /hold: exit %d, %s", code, stderr)
			}
			if _, stderr, code := c.run("exec", "--new-mount-proc", target, "--", "/bin/true"); code != 0 {
				t.Fatalf("exec --new-mount-proc: exit %d, %s", code, stderr)
			}
			if _, stderr, code := c.run("exec", target, "--", "/bin/true"); code != 0 {
				t.Fatalf("exec: exit %d, %s", code, stderr)
			}
			// A container launched by run: its init is boxtui until it
			// execs, and then boxtui again through the script.
			if _, stderr, code := c.run("run", "--rm", "--rootfs", rootfs, "--", "/hold"); code != 1 {
				t.Fatalf("run -- /hold: exit %d, %s", code, stderr)
			}
		}
		spy.halt()
		return spy
	}

	t.Run("control without the seal", func(t *testing.T) {
		spy := attack(t, "BOXTUI_EXESEAL=0")
		if spy.caught() == 0 {
			t.Skip("the spy caught no boxtui process in the container: the machine was too slow to show the attack")
		}
		if n := spy.writable(t); n == 0 {
			t.Fatalf("with BOXTUI_EXESEAL=0 none of the %d handles on boxtui's binary could be reopened for writing: the spy does not see the attack", spy.caught())
		}
	})
	t.Run("sealed", func(t *testing.T) {
		spy := attack(t)
		if spy.caught() == 0 {
			t.Fatal("the spy caught no boxtui process in the container: the test proves nothing")
		}
		if n := spy.writable(t); n != 0 {
			t.Fatalf("%d of %d handles a container process took on /proc/PID/exe of boxtui could be reopened for writing", n, spy.caught())
		}
		t.Logf("%d handles on boxtui's binary taken from inside the container, none writable", spy.caught())
	})
	now, err := os.ReadFile(c.bin)
	if err != nil || !bytes.Equal(now, orig) {
		t.Fatalf("boxtui's binary changed (err %v)", err)
	}
}
