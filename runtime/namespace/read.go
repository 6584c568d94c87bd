package namespace

import (
	"boxtui/runtime/procfs"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Host returns the namespaces boxtui itself runs in.
func Host() Set {
	return ReadSet("/proc/self/ns", All())
}

// Read reads every namespace link of pid; unreadable ones are 0.
// It fails only when the process does not exist.
func Read(pid int) (Set, error) {
	dir := fmt.Sprintf("/proc/%d/ns", pid)
	if _, err := os.Lstat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return Set{}, fmt.Errorf("process %d: %w", pid, procfs.ErrNoProcess)
	}
	return ReadSet(dir, All()), nil
}

func ReadSet(dir string, types []Type) Set {
	var s Set
	for _, t := range types {
		s[t] = ReadLink(dir + "/" + t.String())
	}
	return s
}

func ReadLink(path string) uint64 {
	link, err := os.Readlink(path)
	if err != nil {
		return 0
	}
	base := path[strings.LastIndexByte(path, '/')+1:]
	ino, err := ParseLink(link, base)
	if err != nil {
		return 0
	}
	return ino
}

func Parent(path string) uint64 {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	pfd, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
	if err != nil {
		return 0
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return 0
	}
	return st.Ino
}

// atFDCWD is AT_FDCWD as a variable: a negative constant does not convert
// to a uintptr.
var atFDCWD = unix.AT_FDCWD

// SetOf reads every namespace link of /proc/PID (dir), as ReadSet
// does, without allocating for each link.
func SetOf(dir string) Set {
	var set Set
	var link [64]byte
	path := make([]byte, 0, len(dir)+32)
	for _, t := range All() {
		name := t.String()
		path = append(append(append(path[:0], dir...), "/ns/"...), name...)
		path = append(path, 0)
		set[t] = InodeAt(path, strings.TrimSuffix(name, "_for_children"), link[:])
	}
	return set
}

// PIDInodeAt returns the inode of the pid-namespace link at path; see
// InodeAt.
func PIDInodeAt(path []byte, link []byte) uint64 { return InodeAt(path, "pid", link) }

// InodeAt returns the inode of the namespace link at path (which ends in
// a NUL byte) of the given kind ("pid", "mnt", ...), or 0 when it cannot be
// read; link is scratch space, so nothing is allocated.
//
// It is a raw system call: readlink of a procfs link does not block, and a
// plain one lets the runtime's monitor thread hand the processor to a new
// thread whenever the call is slow (it is, thousands of times, on a loaded
// machine), which cost more context switches than the readlinks did.
func InodeAt(path []byte, kind string, link []byte) uint64 {
	r, _, errno := unix.RawSyscall6(unix.SYS_READLINKAT, uintptr(atFDCWD),
		uintptr(unsafe.Pointer(&path[0])), uintptr(unsafe.Pointer(&link[0])), uintptr(len(link)), 0, 0)
	n := int(r)
	if errno != 0 || n <= 0 || n >= len(link) {
		return 0
	}
	// "pid:[4026531836]"
	l := link[:n]
	if len(l) < len(kind)+4 || string(l[:len(kind)]) != kind || string(l[len(kind):len(kind)+2]) != ":[" || l[len(l)-1] != ']' {
		return 0
	}
	var ino uint64
	for _, c := range l[len(kind)+2 : len(l)-1] {
		if c < '0' || c > '9' {
			return 0
		}
		ino = ino*10 + uint64(c-'0')
	}
	return ino
}

func OwnerUser(path string) uint64 {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	ufd, err := unix.IoctlRetInt(fd, unix.NS_GET_USERNS)
	if err != nil {
		return 0
	}
	defer unix.Close(ufd)
	var st unix.Stat_t
	if err := unix.Fstat(ufd, &st); err != nil {
		return 0
	}
	return st.Ino
}
