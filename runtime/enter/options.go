package enter

import (
	"fmt"
	"io"
	"strings"

	"boxtui/runtime/containerenv"
	"boxtui/runtime/namespace"
)

// Options says what to run in the container and how.
type Options struct {
	// Command and its arguments. Empty runs the container's /bin/bash, or
	// /bin/sh when it has no bash. A name without a slash is looked up in
	// the PATH of Env inside the container's root.
	Command []string
	// Namespaces to join. Empty joins every namespace of the process
	// entered (the container's init, or the process the TARGET named) that
	// differs from boxtui's own (cgroup, ipc, uts, net, pid, mnt; user and time
	// too through the C enter stage).
	Namespaces []namespace.Type
	// NewMountProc reproduces the seed's recipe (`nsenter --pid=... unshare
	// --fork --mount-proc=ROOT/proc chroot ROOT`): join only the PID
	// namespace, get a mount namespace of the process's own with a fresh
	// /proc for the container's PID namespace, and chroot into the
	// container's root. Namespaces must then be empty or just pid.
	NewMountProc bool
	// Dir is the working directory inside the container; empty keeps the
	// init's (with NewMountProc: "/").
	Dir string
	// Env entries (KEY=VALUE) override the defaults PATH=containerenv.Path,
	// HOME=/root and, with TTY, TERM=xterm.
	Env []string
	// TTY runs the command on a new PTY, as session leader with the PTY as
	// its controlling terminal; Process.Master is the master side.
	TTY bool
	// Rows and Cols are the PTY's first window size (0: the kernel's 0x0).
	Rows, Cols uint16
	// AsEngine execs as the container's engine would (docker exec, podman
	// exec), on top of the namespaces: the entered process's cgroups,
	// capability sets, no_new_privs, seccomp filters, uid/gid/groups and
	// environment (runtime/asengine), and with TTY a terminal from the
	// container's own devpts. It needs the C enter stage.
	AsEngine bool
	// Stdin, Stdout and Stderr are used without TTY; nil means /dev/null.
	// An *os.File is handed to the command as is; anything else is copied.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// buildEnv lays user entries over the defaults; a later entry wins.
func buildEnv(user []string, tty bool) ([]string, error) {
	// The container's own environment is not read (nsenter does not either).
	env := []string{"PATH=" + containerenv.Path, "HOME=/root"}
	if tty {
		env = append(env, "TERM=xterm")
	}
	for _, kv := range user {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsRune(kv, 0) {
			return nil, fmt.Errorf("invalid environment entry %q: want KEY=VALUE", kv)
		}
		env = setEnv(env, kv)
	}
	return env, nil
}

func setEnv(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

// ParseNamespaces reads a --ns list ("pid,mnt,uts"; "all" or "" means the
// default: every namespace that differs from boxtui's own).
func ParseNamespaces(list string) ([]namespace.Type, error) {
	list = strings.TrimSpace(list)
	if list == "" || list == "all" {
		return nil, nil
	}
	var out []namespace.Type
	seen := map[namespace.Type]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		t, err := parseNSName(name)
		if err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// joinable are the names --ns accepts; user and time are joined by the C
// enter stage (a binary without it refuses them with the reason).
var joinable = []namespace.Type{
	namespace.Cgroup, namespace.IPC, namespace.Mnt, namespace.Net,
	namespace.PID, namespace.UTS, namespace.User, namespace.Time,
}

func parseNSName(name string) (namespace.Type, error) {
	if name == "mount" {
		name = "mnt"
	}
	for _, t := range joinable {
		if t.String() == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown namespace %q in --ns: give a comma-separated list of cgroup, ipc, mnt, net, pid, time, user, uts", name)
}
