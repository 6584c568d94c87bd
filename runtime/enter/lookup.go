package enter

import (
	"errors"

	"boxtui/runtime/containerenv"
)

// errNoShell is returned when the container has none of containerenv.Shells.
var errNoShell = errors.New("no shell in the container (neither /bin/bash nor /bin/sh): give a command after --")

// statInRoot stats name with the calling thread's root and working
// directory: inside Entry.Do that is the container's.
var statInRoot containerenv.StatFunc = containerenv.Stat

// lookCommand resolves argv[0] the way a shell would inside the container
// (containerenv.LookPath), or picks the default shell when argv is empty.
// It returns the path to exec and the argument vector.
func lookCommand(argv []string, pathEnv string, stat containerenv.StatFunc) (string, []string, error) {
	if len(argv) == 0 {
		sh, ok := containerenv.Shell(stat)
		if !ok {
			return "", nil, errNoShell
		}
		return sh, []string{sh}, nil
	}
	if argv[0] == "" {
		return "", nil, &CommandNotFoundError{Command: `""`}
	}
	p, ok := containerenv.LookPath(argv[0], pathEnv, stat)
	if !ok {
		return "", nil, &CommandNotFoundError{Command: argv[0]}
	}
	return p, argv, nil
}
