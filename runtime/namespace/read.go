package namespace

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	"boxtui/runtime/procfs"

	"golang.org/x/sys/unix"
)

// Host returns the namespaces boxtui itself runs in.
func Host() Set {
	return ReadSet("/proc/self")
}

// Read reads every namespace link of pid; unreadable ones are 0.
// It fails only when the process does not exist.
func Read(pid int) (Set, error) {
	dir := fmt.Sprintf("/proc/%d", pid)
	if _, err := os.Lstat(dir); err != nil {
		return Set{}, fmt.Errorf("process %d: %w", pid, procfs.ErrNoProcess)
	}
	return ReadSet(dir), nil
}

// ReadSet reads every namespace link of the process whose /proc directory
// is procDir ("/proc/PID", or a test's fake); unreadable links are 0. It
// allocates once, however many links it reads.
func ReadSet(procDir string) Set {
	var set Set
	var scratch [64]byte
	path := make([]byte, 0, len(procDir)+32)
	for _, t := range All() {
		name := t.String()
		path = append(append(append(path[:0], procDir...), "/ns/"...), name...)
		path = append(path, 0)
		set[t] = inodeAt(path, linkKind(name), scratch[:])
	}
	return set
}

// ReadLink returns the inode of the namespace link at path (a
// /proc/PID/ns/NAME), or 0 when it cannot be read or is not a link of the
// kind NAME says.
func ReadLink(path string) uint64 {
	var scratch [64]byte
	p := append([]byte(path), 0)
	return inodeAt(p, linkKind(path[strings.LastIndexByte(path, '/')+1:]), scratch[:])
}

// PIDInodeAt is ReadLink of a pid link for hot loops: path ends in a NUL
// byte and scratch is the caller's, so nothing is allocated.
func PIDInodeAt(path []byte, scratch []byte) uint64 { return inodeAt(path, "pid", scratch) }

// atFDCWD is AT_FDCWD as a variable: a negative constant does not convert
// to a uintptr.
var atFDCWD = unix.AT_FDCWD

// inodeAt is how boxtui reads every namespace link: the inode of the link
// at path (which ends in a NUL byte) of the given kind ("pid", "mnt", ...),
// or 0 when it cannot be read; scratch holds the link's text.
//
// It is a raw system call: readlink of a procfs link does not block, and a
// plain one lets the runtime's monitor thread hand the processor to a new
// thread whenever the call is slow (it is, thousands of times, on a loaded
// machine), which cost more context switches than the readlinks did.
func inodeAt(path []byte, kind string, scratch []byte) uint64 {
	r, _, errno := unix.RawSyscall6(unix.SYS_READLINKAT, uintptr(atFDCWD),
		uintptr(unsafe.Pointer(&path[0])), uintptr(unsafe.Pointer(&scratch[0])), uintptr(len(scratch)), 0, 0)
	n := int(r)
	if errno != 0 || n <= 0 || n >= len(scratch) {
		return 0
	}
	k, ino, ok := splitLink(scratch[:n])
	if !ok || string(k) != kind {
		return 0
	}
	return ino
}

// linkKind is the kind of namespace a link named name points at:
// pid_for_children points at a "pid:[...]" link, time_for_children at
// "time:[...]".
func linkKind(name string) string { return strings.TrimSuffix(name, "_for_children") }

// splitLink splits a namespace link's text, "pid:[4026532152]", into its
// kind and inode; ok is false for anything else, and for inode 0. It is
// the one parser of link text (ParseLink and inodeAt use it), generic so
// that the hot path parses bytes without making a string.
func splitLink[T ~string | ~[]byte](l T) (kind T, ino uint64, ok bool) {
	i := 0
	for i < len(l) && l[i] != ':' {
		i++
	}
	if i == 0 || i+3 > len(l) || l[i+1] != '[' || l[len(l)-1] != ']' {
		return kind, 0, false
	}
	digits := l[i+2 : len(l)-1]
	if len(digits) == 0 || len(digits) > 20 {
		return kind, 0, false
	}
	for j := 0; j < len(digits); j++ {
		c := digits[j]
		if c < '0' || c > '9' {
			return kind, 0, false
		}
		next := ino*10 + uint64(c-'0')
		if next/10 != ino {
			return kind, 0, false // overflows a uint64
		}
		ino = next
	}
	return l[:i], ino, ino != 0
}

// Parent returns the inode of the namespace the namespace at path (a
// /proc/PID/ns link) was created in (NS_GET_PARENT: PID and user
// namespaces only), or 0 when it has none boxtui can see.
func Parent(path string) uint64 { return related(path, unix.NS_GET_PARENT) }

// OwnerUser returns the inode of the user namespace that owns the
// namespace at path (NS_GET_USERNS), or 0 when it cannot be read.
func OwnerUser(path string) uint64 { return related(path, unix.NS_GET_USERNS) }

// related asks the kernel, with one of the NS_GET_* ioctls, for a
// namespace related to the one at path, and returns its inode.
func related(path string, op uint) uint64 {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	rfd, err := unix.IoctlRetInt(fd, op)
	if err != nil {
		return 0
	}
	defer unix.Close(rfd)
	var st unix.Stat_t
	if err := unix.Fstat(rfd, &st); err != nil {
		return 0
	}
	return st.Ino
}
