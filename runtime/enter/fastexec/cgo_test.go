//go:build cgo

package fastexec_test

// cgoBuild says this test binary, and so the boxtui it builds, has cgo:
// then the fast path must be in the binary.
const cgoBuild = true
