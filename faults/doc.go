// Package faults is boxtui's fault-injection and hostile-input suite: it
// kills boxtui's own processes at awkward moments, races it against itself
// and against exiting or recycled processes, runs containers that attack
// the paths boxtui touches inside them, and feeds every parser broken
// input. Each test is named after the attack or fault it proves out;
// docs/security.md lists them next to the defence each one checks.
//
// The package has no code of its own: everything is in its tests, which
// drive the real binary ($BOXTUI_BIN, or one built from this tree) and the
// runtime packages against the real kernel. Tests that need root skip
// without it; nothing here may leave a mount, a process or state behind.
package faults
