//go:build cgo

package launch

// cgoBuild says the boxtui these tests build has its C parts (prefork.c).
const cgoBuild = true
