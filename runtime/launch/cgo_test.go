//go:build cgo

package launch

// cgoBuild says this test binary has the C parts (initstage.c), which the
// stages it starts in-process run; the boxtui binary under test may be
// built otherwise: ask it with testutil.BinaryHasCgo.
const cgoBuild = true
