package stage0

// MountProc and MountDev give another stage's new root (rootfd, an O_PATH
// handle on it) what the init gives a container's: a fresh proc of the
// caller's PID namespace and a tmpfs /dev with the usual nodes and a devpts
// of its own, on directories resolved inside the root (created when
// missing). `boxtui debug` builds its toolbox root with them. The caller's
// umask applies to the device nodes: set it to 0 first.
func MountProc(rootfd int) error { return mountProc(rootfd) }

// MountDev: see MountProc.
func MountDev(rootfd int) error { return mountDev(rootfd) }
