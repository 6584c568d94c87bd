package discovery

import (
	"fmt"
	"sort"

	"boxtui/runtime/namespace"
	"boxtui/runtime/state"
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
	root := &PIDNamespaceNode{Inode: snap.Host[namespace.PID], Owner: snap.Host[namespace.User]}
	nodes := map[uint64]*PIDNamespaceNode{root.Inode: root}
	for _, c := range snap.Containers {
		if c.Status != state.StatusRunning || c.Namespaces[namespace.PID] == 0 {
			continue
		}
		path := fmt.Sprintf("/proc/%d/ns/pid", c.PID)
		n := &PIDNamespaceNode{
			Inode:     c.Namespaces[namespace.PID],
			Parent:    namespace.Parent(path),
			Owner:     namespace.OwnerUser(path),
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
