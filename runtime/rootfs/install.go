// Putting a finished tree in place, for Create and Import alike: the checks
// on the destination and the rename that makes the tree appear whole.

package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/sys/mountinfo"
)

// checkDest refuses a non-empty destination without force, and any
// destination with mounts inside: removing it would descend into them.
func checkDest(dir string, force bool, hint string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check rootfs directory %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("rootfs directory %s already exists and is not empty: %s", dir, hint)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("check rootfs directory %s: %w", dir, err)
	}
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(real))
	if err != nil {
		return fmt.Errorf("check mounts under %s: %w", dir, err)
	}
	if len(mounts) > 0 {
		return fmt.Errorf("refuse to replace rootfs %s: %s is mounted inside it (is a container running from it?)", dir, mounts[0].Mountpoint)
	}
	return nil
}

// install renames the finished tree tmp onto dir. rename(2) replaces a
// missing or empty dir at once; an old non-empty one (force) is first
// renamed aside and removed only once the new tree is in place.
func install(tmp, dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		// os.Rename refuses any existing directory as the new name, even
		// an empty one; os.Remove takes only an empty one.
		if err == nil {
			if err := os.Remove(dir); err != nil {
				return fmt.Errorf("replace empty directory %s: %w", dir, err)
			}
		}
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("move rootfs into place at %s: %w", dir, err)
		}
		return nil
	}
	if !force {
		return fmt.Errorf("rootfs directory %s already exists and is not empty: remove it or pass --force to replace it", dir)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return fmt.Errorf("move old rootfs %s aside: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if rerr := os.Rename(old, dir); rerr != nil {
			return fmt.Errorf("move rootfs into place at %s: %w (old rootfs left at %s)", dir, err, old)
		}
		return fmt.Errorf("move rootfs into place at %s: %w", dir, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove old rootfs %s: %w", old, err)
	}
	return nil
}
