// Copying host paths into the new tree, each symlink on the way replicated,
// so the tree has the host's layout.

package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// builder copies host paths into a new tree, replicating every symlink met
// on the way so the new tree has the host's layout.
type builder struct {
	src, dst string
	libs     *LibResolver
	done     map[string]string // host path -> its real path, once replicated
	files    int
	bytes    int64
}

func newBuilder(src, dst string) *builder {
	if src == "" {
		src = "/"
	}
	return &builder{src: src, dst: dst, libs: NewLibResolver(src), done: map[string]string{}}
}

func (b *builder) mkdirFixed(name string, mode fs.FileMode) error {
	p := filepath.Join(b.dst, name)
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return os.Chmod(p, mode)
}

func (b *builder) symlinkIn(p, target string) error {
	err := os.Symlink(target, filepath.Join(b.dst, p))
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create symlink %s: %w", p, err)
	}
	return nil
}

// replicate makes the host path p exist in the new tree exactly as on the
// host: each directory on the way with its mode, each symlink on the way
// as the same symlink (and its target replicated too), and the final file
// copied. It returns p's real path on the host.
func (b *builder) replicate(p string, hops int) (string, error) {
	p = filepath.Clean(p)
	if real, ok := b.done[p]; ok {
		return real, nil
	}
	if hops > 40 {
		return "", fmt.Errorf("replicate %s: too many levels of symbolic links", p)
	}
	cur := "/"
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, name := range parts {
		if name == "" {
			continue
		}
		next := filepath.Join(cur, name)
		last := i == len(parts)-1
		if real, ok := b.done[next]; ok {
			cur = real
			continue
		}
		fi, err := os.Lstat(filepath.Join(b.src, next))
		if err != nil {
			return "", err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(b.src, next))
			if err != nil {
				return "", err
			}
			if err := b.symlinkIn(next, target); err != nil {
				return "", err
			}
			abs := target
			if !filepath.IsAbs(target) {
				abs = filepath.Join(cur, target)
			}
			real, err := b.replicate(abs, hops+1)
			if err != nil {
				return "", fmt.Errorf("follow %s -> %s: %w", next, target, err)
			}
			b.done[next] = real
			cur = real
		case fi.IsDir():
			dst := filepath.Join(b.dst, next)
			if err := os.Mkdir(dst, fi.Mode().Perm()); err != nil && !errors.Is(err, fs.ErrExist) {
				return "", fmt.Errorf("create directory %s: %w", next, err)
			}
			b.done[next] = next
			cur = next
		case fi.Mode().IsRegular():
			if !last {
				return "", fmt.Errorf("replicate %s: %s is not a directory", p, next)
			}
			if err := b.copyFile(next, fi); err != nil {
				return "", err
			}
			b.done[next] = next
			cur = next
		default:
			return "", fmt.Errorf("replicate %s: %s is neither file, directory nor symlink", p, next)
		}
	}
	b.done[p] = cur
	return cur, nil
}

// copyFile copies a regular file with its permission bits (setuid
// included: mount needs none as root, but a copied tree should not differ
// from the host in surprising ways).
func (b *builder) copyFile(p string, fi fs.FileInfo) error {
	in, err := os.Open(filepath.Join(b.src, p))
	if err != nil {
		return err
	}
	defer in.Close()
	dst := filepath.Join(b.dst, p)
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", p, err)
	}
	mode := fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	if err := os.Chmod(dst, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", p, err)
	}
	b.files++
	b.bytes += n
	return nil
}
