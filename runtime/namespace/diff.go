package namespace

// Diff compares one namespace type of two processes.
type Diff struct {
	Type   string `json:"type"`
	A      uint64 `json:"a"`
	B      uint64 `json:"b"`
	Shared bool   `json:"shared"`
}

// Compare compares two namespace sets type by type. Unknown inodes
// (0) are never reported as shared.
func Compare(a, b Set) []Diff {
	out := make([]Diff, 0, numNS)
	for _, t := range All() {
		out = append(out, Diff{Type: t.String(), A: a[t], B: b[t], Shared: a[t] != 0 && a[t] == b[t]})
	}
	return out
}
