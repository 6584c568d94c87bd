package namespace

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Type indexes a namespace kind in an Set.
type Type int

// The namespace links of /proc/PID/ns, in the order lsns and the views use.
const (
	Cgroup Type = iota
	IPC
	Mnt
	Net
	PID
	PIDForChildren
	Time
	TimeForChildren
	User
	UTS
	numNS
)

// Names are the link names under /proc/PID/ns, indexed by Type.
var Names = [numNS]string{
	"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
	"time", "time_for_children", "user", "uts",
}

// String returns the link name of t, e.g. "pid_for_children".
func (t Type) String() string {
	if t < 0 || t >= numNS {
		return fmt.Sprintf("NSType(%d)", int(t))
	}
	return Names[t]
}

// All lists every namespace type in display order.
func All() []Type {
	out := make([]Type, numNS)
	for i := range out {
		out[i] = Type(i)
	}
	return out
}

// ParseType turns a link name ("mnt", "pid", ...) into its Type.
func ParseType(name string) (Type, error) {
	for i, n := range Names {
		if n == name {
			return Type(i), nil
		}
	}
	return 0, fmt.Errorf("unknown namespace type %q (want one of %s)", name, strings.Join(Names[:], ", "))
}

// Set holds the inode of each namespace link of one process. A zero inode
// means the link could not be read (the process vanished, or the kernel
// refused, as it does for /proc/1/ns on some machines even for root).
// Set is comparable, so equal sets can be grouped with ==.
type Set [numNS]uint64

// Get returns the inode for t (0 when unknown).
func (s Set) Get(t Type) uint64 { return s[t] }

// MarshalJSON writes the set as an object of link name to inode number, with
// exactly the keys of Names. Unknown inodes are written as 0.
func (s Set) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range Names {
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
func (s *Set) UnmarshalJSON(data []byte) error {
	var m map[string]uint64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	var out Set
	for k, v := range m {
		t, err := ParseType(k)
		if err != nil {
			return err
		}
		out[t] = v
	}
	*s = out
	return nil
}

// ParseLink parses the target of a /proc/PID/ns link, such as
// "pid:[4026532152]", and checks that its kind is want (for
// pid_for_children, "pid").
func ParseLink(link, want string) (uint64, error) {
	kind, ino, ok := splitLink(link)
	if !ok {
		return 0, fmt.Errorf("parse namespace link %q: not of the form kind:[inode]", link)
	}
	if base := linkKind(want); kind != base {
		return 0, fmt.Errorf("parse namespace link %q: kind %q, want %q", link, kind, base)
	}
	return ino, nil
}
