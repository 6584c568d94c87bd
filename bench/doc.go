// Package bench holds boxtui's side-by-side benchmarks: each measures boxtui
// and the peer tool it replaces (lsns, unshare, nsenter, mount, tmux) in the
// same run on the same machine, and prints the ratio. Run them with
// `make bench`; they need root and build their own fixtures.
package bench
