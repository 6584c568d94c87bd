// Package nsjoin enters another process's namespaces from Go: Open holds
// the process, opens the links of the namespaces to join (by default every
// one that differs from boxtui's own), its root and working directory;
// Entry.Do runs a function on a fresh thread that joined them, in the
// order the C stages use too (join.h): the user namespace last.
package nsjoin
