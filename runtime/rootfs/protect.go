package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// DataDir is boxtui's own directory; the default rootfs lives in
// DataDir/rootfs. Like docker's /var/lib/docker it is root-only: root
// filesystems hold setuid-root programs (and, imported with
// --allow-devices, device nodes), which a host user must not reach.
const DataDir = "/var/lib/boxtui"

// ownDirs are the directories boxtui owns, outermost first: created 0700,
// and tightened to root:root 0700 when found open. Tests point them
// elsewhere.
var ownDirs = []string{DataDir, filepath.Dir(DefaultDir)}

// PrepareParent makes the directory that will hold the rootfs dir (an
// absolute path) and checks that no host user but root can reach into it,
// and returns dir with its parent's symlinks resolved: the path to use from
// then on, so that the directory checked is the one written.
//
// As root, boxtui's own directories on the way (DataDir, DataDir/rootfs)
// are made root:root 0700, missing parents are created 0700, and a parent
// another user can still reach is refused: a setuid-root program in a tree
// a host user can walk into runs as root for that user. dir itself is not
// made 0700: it is the container's "/". Without root nothing can be made
// setuid-root or a device, and parents are made as before (0755).
func PrepareParent(dir string) (string, error) {
	real, _, err := prepareParent(dir)
	return real, err
}

// prepareParent is PrepareParent; undo removes the parents it created
// (boxtui's own directories excepted), for a build that then fails.
func prepareParent(dir string) (real string, undo func(), err error) {
	parent := filepath.Dir(dir)
	undo = func() {}
	mode := fs.FileMode(0o755)
	if os.Geteuid() == 0 {
		mode = 0o700
		for _, own := range ownDirs {
			if parent == own || strings.HasPrefix(parent, own+"/") {
				if err := tighten(own); err != nil {
					return dir, undo, err
				}
			}
		}
	}
	var created []string // deepest first
	for p := parent; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		created = append(created, p)
	}
	undo = func() {
		for _, p := range created {
			unix.Rmdir(p) // only ever empty: nothing else is made there
		}
	}
	if err := os.MkdirAll(parent, mode); err != nil {
		undo()
		return dir, func() {}, fmt.Errorf("create parent of %s: %w", dir, err)
	}
	if os.Geteuid() != 0 {
		return dir, undo, nil
	}
	realParent, err := filepath.EvalSymlinks(parent)
	if err == nil {
		err = checkRootOnly(dir, realParent)
	} else {
		err = fmt.Errorf("resolve parent of %s: %w", dir, err)
	}
	if err != nil {
		undo()
		return dir, func() {}, err
	}
	return filepath.Join(realParent, filepath.Base(dir)), undo, nil
}

// tighten creates dir root:root 0700, or makes an existing one so. It is
// boxtui's own: whatever opened it up (an older boxtui made it 0755) is
// undone.
func tighten(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := unix.Mkdir(dir, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if st.Uid != 0 || st.Gid != 0 {
		if err := unix.Fchown(fd, 0, 0); err != nil {
			return fmt.Errorf("make %s root's: %w", dir, err)
		}
	}
	if st.Mode&0o7777 != 0o700 {
		if err := unix.Fchmod(fd, 0o700); err != nil {
			return fmt.Errorf("make %s root-only: %w", dir, err)
		}
	}
	return nil
}

// checkRootOnly refuses a rootfs dir whose real parent directory real a
// user other than root can reach. Reachable means no directory from "/"
// down to real is closed (owned by root, no search bit for group or
// others; a group search bit counts as open, whatever the group, since
// ACL entries show there too), or that one above the closed one could be
// renamed by such a user (not root's, or writable by group or others
// without the sticky bit), swapping in a directory of their own.
func checkRootOnly(dir, real string) error {
	cur := "/"
	parts := strings.Split(strings.Trim(real, "/"), "/")
	if real == "/" {
		parts = nil
	}
	for i := -1; i < len(parts); i++ {
		if i >= 0 {
			cur = filepath.Join(cur, parts[i])
		}
		var st unix.Stat_t
		if err := unix.Lstat(cur, &st); err != nil {
			return fmt.Errorf("check who can reach %s: %w", dir, err)
		}
		mode := st.Mode & 0o7777
		if st.Uid == 0 && mode&0o011 == 0 {
			return nil // closed, and nobody could swap it or what is above
		}
		if st.Uid != 0 {
			return notRootOnly(dir, real, fmt.Sprintf("%s is owned by uid %d", cur, st.Uid), false)
		}
		if mode&0o022 != 0 && mode&unix.S_ISVTX == 0 {
			return notRootOnly(dir, real, fmt.Sprintf("%s is writable by users other than root", cur), false)
		}
	}
	return notRootOnly(dir, real, "every directory above it can be searched by users other than root", true)
}

// notRootOnly is the one-line refusal, with what to do instead. Closing a
// directory is suggested only when that alone would do (searchable is
// true: no user owns or can rename a directory on the way), and never for
// / or a shared one such as /tmp: a root-only directory made inside it is.
func notRootOnly(dir, parent, why string, searchable bool) error {
	fix := ""
	if searchable {
		var st unix.Stat_t
		if parent == "/" || (unix.Stat(parent, &st) == nil && st.Mode&0o002 != 0) {
			fix = fmt.Sprintf(", or one made with `mkdir -m 700 %s`", filepath.Join(parent, "boxtui"))
		} else {
			fix = fmt.Sprintf(", or run `chmod 700 %s` first", parent)
		}
	}
	return fmt.Errorf("refuse to put a rootfs at %s, where host users could reach its setuid-root programs and device nodes (%s): put it under a root-only directory, e.g. %s/NAME%s",
		dir, why, ownDirs[len(ownDirs)-1], fix)
}
