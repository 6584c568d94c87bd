package runtime

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
