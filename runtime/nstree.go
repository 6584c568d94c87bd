package runtime

import (
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

// PIDNamespaceNode is one PID namespace in the nesting tree.
type PIDNamespaceNode struct {
	Inode uint64 `json:"inode"`
	// Parent is the inode of the parent PID namespace (0 for the root of
	// what boxtui can see: its own namespace).
	Parent uint64 `json:"parent,omitempty"`
	// Owner is the inode of the user namespace that owns this PID namespace.
	Owner uint64 `json:"owner_userns,omitempty"`
	// Container is the init PID of the container living in this namespace
	// (0 for boxtui's own).
	Container int                 `json:"container,omitempty"`
	Name      string              `json:"name,omitempty"`
	Command   string              `json:"command,omitempty"`
	Children  []*PIDNamespaceNode `json:"children,omitempty"`
}

// NamespaceTree arranges the snapshot's containers by PID namespace nesting:
// boxtui's own namespace at the root, each container under the namespace
// its own was created in (NS_GET_PARENT), each node with its owning user
// namespace (NS_GET_USERNS). It is the picture `lsns -T` prints.
func NamespaceTree(snap Snapshot) *PIDNamespaceNode {
	root := &PIDNamespaceNode{Inode: snap.Host[NSPID], Owner: snap.Host[NSUser]}
	nodes := map[uint64]*PIDNamespaceNode{root.Inode: root}
	for _, c := range snap.Containers {
		if c.Status != StatusRunning || c.Namespaces[NSPID] == 0 {
			continue
		}
		path := fmt.Sprintf("/proc/%d/ns/pid", c.PID)
		n := &PIDNamespaceNode{
			Inode:     c.Namespaces[NSPID],
			Parent:    parentPIDNS(path),
			Owner:     ownerUserNS(path),
			Container: c.PID,
			Name:      c.Name,
			Command:   c.Command,
		}
		nodes[n.Inode] = n
	}
	for _, n := range nodes {
		if n == root {
			continue
		}
		parent, ok := nodes[n.Parent]
		if !ok || parent == n {
			parent = root // its parent is out of our sight: hang it at the top
		}
		parent.Children = append(parent.Children, n)
	}
	var sortTree func(*PIDNamespaceNode)
	sortTree = func(n *PIDNamespaceNode) {
		sort.Slice(n.Children, func(i, j int) bool { return n.Children[i].Container < n.Children[j].Container })
		for _, c := range n.Children {
			sortTree(c)
		}
	}
	sortTree(root)
	return root
}

func ownerUserNS(path string) uint64 {
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

// NSDiff compares one namespace type of two processes.
type NSDiff struct {
	Type   string `json:"type"`
	A      uint64 `json:"a"`
	B      uint64 `json:"b"`
	Shared bool   `json:"shared"`
}

// DiffNamespaces compares two namespace sets type by type. Unknown inodes
// (0) are never reported as shared.
func DiffNamespaces(a, b NSSet) []NSDiff {
	out := make([]NSDiff, 0, numNS)
	for _, t := range AllNSTypes() {
		out = append(out, NSDiff{Type: t.String(), A: a[t], B: b[t], Shared: a[t] != 0 && a[t] == b[t]})
	}
	return out
}
