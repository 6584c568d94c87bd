// Package rootfs makes root filesystems for boxtui containers without a
// network: Create copies a small working userland (bash, coreutils, procps,
// mount, with every shared library they load) out of the host, and Import
// unpacks a `docker export` tarball.
//
// Both build into a temporary directory next to the destination and rename
// it into place at the end, so an interrupted run never leaves half a root
// filesystem behind. Import treats the archive as hostile: no entry may land
// outside the destination, whatever names, symlinks or hard links it plants;
// it refuses device nodes unless asked, and stops at a size and an entry
// limit checked before anything is written.
//
// Both keep setuid bits, so as root both put the tree only where no other
// host user can walk into it (PrepareParent): boxtui's own DataDir is
// root-only, like /var/lib/docker, and the temporary directory stays 0700
// until it is renamed into place.
//
// The package must never import boxtui/runtime (whose tests use it through
// internal/testutil) nor anything of the UI.
package rootfs
