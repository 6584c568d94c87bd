// Package containerenv is the environment a command in a container starts
// with: the PATH it gets unless its environment sets one, the shells tried
// when no command is given, and the lookup of a command inside the
// container's root as a shell would do it.
//
// It is the one Go copy of these; containerenv.h is the one C copy, which
// fastexec.c, enterstage.c and initstage.c include (cshim's tests hold the
// two equal). It imports only the standard library and x/sys: the early
// stages (stage0, the debug stage) use it.
package containerenv

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Path is the PATH a command in a container is given (and looked up in)
// unless its environment sets one, as in most distributions' root shells.
// containerenv.h's BX_CONTAINER_PATH is the same string.
const Path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Shells are tried in order when no command is given.
var Shells = []string{"/bin/bash", "/bin/sh"}

// StatFunc reports the mode of a file as the command will see it; callers
// pass one that resolves inside the container's root.
type StatFunc func(name string) (mode uint32, err error)

// Stat stats name with the calling thread's root and working directory:
// inside the container once the caller has entered its root.
func Stat(name string) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		return 0, err
	}
	return st.Mode, nil
}

// Executable reports whether name is a regular file with an execute bit.
func Executable(stat StatFunc, name string) bool {
	mode, err := stat(name)
	return err == nil && mode&unix.S_IFMT == unix.S_IFREG && mode&0o111 != 0
}

// LookPath finds the command name as a shell (execvp) would: a name with
// a slash is taken as it is, if executable; any other is tried in each
// directory of pathList in turn, an empty one meaning the working
// directory. Directory and name are joined as they are, never cleaned:
// "/nope/../bin" must fail where the kernel fails it. ok is false when
// nothing executable was found (and for an empty name).
func LookPath(name, pathList string, stat StatFunc) (exe string, ok bool) {
	if name == "" {
		return "", false
	}
	if strings.Contains(name, "/") {
		if !Executable(stat, name) {
			return "", false
		}
		return name, true
	}
	for _, dir := range strings.Split(pathList, ":") {
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		if Executable(stat, p) {
			return p, true
		}
	}
	return "", false
}

// Shell is the first of Shells that is executable; ok false if none is.
func Shell(stat StatFunc) (string, bool) {
	for _, sh := range Shells {
		if Executable(stat, sh) {
			return sh, true
		}
	}
	return "", false
}

// EnvPath is the PATH of env (its first PATH= entry), else Path.
func EnvPath(env []string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			return v
		}
	}
	return Path
}
