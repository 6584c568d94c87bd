package enter

import (
	"errors"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// defaultShells are tried in order when no command is given.
var defaultShells = []string{"/bin/bash", "/bin/sh"}

// errNoShell is returned when the container has none of defaultShells.
var errNoShell = errors.New("no shell in the container (neither /bin/bash nor /bin/sh): give a command after --")

// statFunc reports the mode of a file as the command will see it; callers
// pass one that resolves inside the container's root.
type statFunc func(name string) (mode uint32, err error)

// statInRoot stats name with the calling thread's root and working
// directory: inside Entry.Do that is the container's.
func statInRoot(name string) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		return 0, err
	}
	return st.Mode, nil
}

// lookCommand resolves argv[0] the way a shell would inside the container,
// or picks the default shell when argv is empty. It returns the path to
// exec and the argument vector.
func lookCommand(argv []string, pathEnv string, stat statFunc) (string, []string, error) {
	if len(argv) == 0 {
		for _, sh := range defaultShells {
			if isExecutable(stat, sh) {
				return sh, []string{sh}, nil
			}
		}
		return "", nil, errNoShell
	}
	name := argv[0]
	if name == "" {
		return "", nil, &CommandNotFoundError{Command: `""`}
	}
	if strings.Contains(name, "/") {
		if !isExecutable(stat, name) {
			return "", nil, &CommandNotFoundError{Command: name}
		}
		return name, argv, nil
	}
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		if isExecutable(stat, p) {
			return p, argv, nil
		}
	}
	return "", nil, &CommandNotFoundError{Command: name}
}

func isExecutable(stat statFunc, name string) bool {
	mode, err := stat(name)
	return err == nil && mode&unix.S_IFMT == unix.S_IFREG && mode&0o111 != 0
}
