// Package discovery finds the containers on the host: every group of
// processes in a PID namespace other than boxtui's own, whoever made it.
//
// A container is found, its init picked and described by one piece of
// code (describe.go), reached three ways, each for a caller's budget:
//   - Scanner.Scan (scanner.go): the UI's once-a-second scan, with caches
//     and the quiet-pass shortcut (quiet.go) and every process listed;
//   - ListContainers (oneshot.go): `boxtui ls`, once, no process lists;
//   - FindInit (findinit.go): one TARGET, by walking a PID's parents or
//     reading a name's state, before falling back to a scan.
//
// (The fourth, fastexec.c, finds the init in C before Go starts; its tests
// compare it with FindInit.) Scans only read: boxtui's state is matched
// to what was found (match.go) but never written; a holder found gone is
// recorded by runtime/launch where the console is needed.
package discovery
