package stage0

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// zygote is what zygote.c left in a preforked holder: the zygote's PID,
// the read end of its reply, the console's master and the read end of the
// init's ready pipe. pid is -1 when it did not run.
type zygote struct {
	pid, reply, master, ready int
}

// EncodePreforkConfig is the config as a client sends it to a preforked
// holder: a NUL-separated block that zygote.c reads before any Go runs,
// then the JSON Config that the holder's Go part reads.
func EncodePreforkConfig(cfg Config) ([]byte, error) {
	flags := ""
	if cfg.Net {
		flags += "n"
	}
	if cfg.Raw {
		flags += "r"
	}
	fields := []string{flags, strconv.Itoa(cfg.Rows), strconv.Itoa(cfg.Cols), cfg.Rootfs, cfg.Hostname, strconv.Itoa(len(cfg.Env))}
	fields = append(fields, cfg.Env...)
	fields = append(fields, cfg.Command...)
	if len(cfg.Command) == 0 {
		return nil, errors.New("encode launch config: no command")
	}
	var b bytes.Buffer
	b.WriteString(strconv.Itoa(len(fields)))
	b.WriteByte(0)
	for _, f := range fields {
		if strings.IndexByte(f, 0) >= 0 {
			return nil, fmt.Errorf("encode launch config: %q contains a NUL byte", f)
		}
		b.WriteString(f)
		b.WriteByte(0)
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode launch config: %w", err)
	}
	b.Write(js)
	return b.Bytes(), nil
}

// decodePreforkConfig reads EncodePreforkConfig's form: it skips the block
// and decodes the JSON.
func decodePreforkConfig(data []byte) (Config, error) {
	var cfg Config
	head, rest, ok := bytes.Cut(data, []byte{0})
	n, err := strconv.Atoi(string(head))
	if !ok || err != nil || n < 0 {
		return cfg, errors.New("holder stage: decode config: no field count")
	}
	for i := 0; i < n; i++ {
		if _, rest, ok = bytes.Cut(rest, []byte{0}); !ok {
			return cfg, errors.New("holder stage: decode config: the block ends early")
		}
	}
	if err := json.Unmarshal(rest, &cfg); err != nil {
		return cfg, fmt.Errorf("holder stage: decode config: %w", err)
	}
	return cfg, nil
}

// startFromZygote is a preforked holder's early part when zygote.c ran: it
// waits for the zygote's reply, by which time the init already runs (or
// the clone failed), and takes over the console and ready pipe.
//
// A separate holder process moves its stderr to the log; a client that is
// its own holder (dupLog false) keeps its caller's stderr.
func startFromZygote(z zygote, dupLog bool) *Holder {
	h := &Holder{PidFD: -1}
	unix.CloseOnExec(3)
	data, rerr := readConfig(z.reply)
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(z.pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	if len(data) == 0 {
		// The client closed the config pipe without a config: its run
		// failed before it had one, and there is nothing to do.
		os.Exit(0)
	}
	line, msg, _ := bytes.Cut(data, []byte{'\n'})
	initPID := 0
	if len(line) > 1 && line[0] == 'P' {
		initPID, _ = strconv.Atoi(string(line[1:]))
	}
	h.Master = os.NewFile(uintptr(z.master), "/dev/ptmx")
	readyR := os.NewFile(uintptr(z.ready), "ready")
	cfg, err := decodePreforkConfig(msg)
	h.Config = cfg
	if err == nil && rerr != nil {
		err = fmt.Errorf("holder stage: read config: %w", rerr)
	}
	if dupLog && cfg.Log != "" {
		if fd, err := unix.Open(cfg.Log, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600); err == nil {
			unix.Dup3(fd, 2, 0)
			unix.Close(fd)
		}
	}
	if err == nil && initPID > 0 {
		// The init is this process's child (CLONE_PARENT) and not yet
		// reaped, so its PID cannot have been reused.
		if h.PidFD, err = unix.PidfdOpen(initPID, 0); err != nil {
			err = fmt.Errorf("open pidfd of init %d: %w", initPID, err)
		}
	}
	switch {
	case err != nil:
		if initPID > 0 {
			// Not started properly: it waits for the go byte, which
			// will not come; do not leave it waiting.
			unix.Kill(initPID, unix.SIGKILL)
			unix.Wait4(initPID, &ws, 0, nil)
		}
		readyR.Close()
		h.Err = err
	case initPID > 0:
		h.InitPID, h.ReadyR = initPID, readyR
	case len(line) > 1 && line[0] == 'E':
		readyR.Close()
		errno, _ := strconv.Atoi(string(line[1:]))
		h.Err = fmt.Errorf("start the init of %s: %w", cfg.Name, syscall.Errno(errno))
	default:
		readyR.Close()
		h.Err = fmt.Errorf("start the init of %s: the zygote could not read its config (%q)", cfg.Name, line)
	}
	return h
}
