package runtime

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// NSType indexes a namespace kind in an NSSet.
type NSType int

// The namespace links of /proc/PID/ns, in the order lsns and the views use.
const (
	NSCgroup NSType = iota
	NSIPC
	NSMnt
	NSNet
	NSPID
	NSPIDForChildren
	NSTime
	NSTimeForChildren
	NSUser
	NSUTS
	numNS
)

// NamespaceNames are the link names under /proc/PID/ns, indexed by NSType.
var NamespaceNames = [numNS]string{
	"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
	"time", "time_for_children", "user", "uts",
}

// String returns the link name of t, e.g. "pid_for_children".
func (t NSType) String() string {
	if t < 0 || t >= numNS {
		return fmt.Sprintf("NSType(%d)", int(t))
	}
	return NamespaceNames[t]
}

// AllNSTypes lists every namespace type in display order.
func AllNSTypes() []NSType {
	out := make([]NSType, numNS)
	for i := range out {
		out[i] = NSType(i)
	}
	return out
}

// ParseNSType turns a link name ("mnt", "pid", ...) into its NSType.
func ParseNSType(name string) (NSType, error) {
	for i, n := range NamespaceNames {
		if n == name {
			return NSType(i), nil
		}
	}
	return 0, fmt.Errorf("unknown namespace type %q (want one of %s)", name, strings.Join(NamespaceNames[:], ", "))
}

// NSSet holds the inode of each namespace link of one process. A zero inode
// means the link could not be read (the process vanished, or the kernel
// refused, as it does for /proc/1/ns on some machines even for root).
// NSSet is comparable, so equal sets can be grouped with ==.
type NSSet [numNS]uint64

// Get returns the inode for t (0 when unknown).
func (s NSSet) Get(t NSType) uint64 { return s[t] }

// MarshalJSON writes the set as an object of link name to inode number, with
// exactly the keys of NamespaceNames. Unknown inodes are written as 0.
func (s NSSet) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range NamespaceNames {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(name))
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(s[i], 10))
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// UnmarshalJSON reads the object MarshalJSON writes; unknown keys are an error.
func (s *NSSet) UnmarshalJSON(data []byte) error {
	var m map[string]uint64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	var out NSSet
	for k, v := range m {
		t, err := ParseNSType(k)
		if err != nil {
			return err
		}
		out[t] = v
	}
	*s = out
	return nil
}

// ParseNSLink parses the target of a /proc/PID/ns link, such as
// "pid:[4026532152]", and checks that its kind is want.
func ParseNSLink(link, want string) (uint64, error) {
	kind, rest, ok := strings.Cut(link, ":[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, fmt.Errorf("parse namespace link %q: not of the form kind:[inode]", link)
	}
	// pid_for_children points at a "pid:[...]" link, time_for_children at "time:[...]".
	base := strings.TrimSuffix(want, "_for_children")
	if kind != base {
		return 0, fmt.Errorf("parse namespace link %q: kind %q, want %q", link, kind, base)
	}
	ino, err := strconv.ParseUint(rest[:len(rest)-1], 10, 64)
	if err != nil || ino == 0 {
		return 0, fmt.Errorf("parse namespace link %q: bad inode", link)
	}
	return ino, nil
}
