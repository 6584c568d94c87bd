package testutil

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/runtime/rootfs"
)

// TrapTERM is a script in EngineRootfs for an init that handles its stop
// signal: `TrapTERM CODE` waits until SIGTERM, then exits CODE.
const TrapTERM = "/usr/local/bin/bt-trap-term"

const trapTERMScript = `#!/bin/bash
# bt-trap-term CODE: an init that catches SIGTERM and then exits CODE.
trap 'exit "$1"' TERM
while :; do
	sleep 100000 &
	wait $!
done
`

const osRelease = `ID=boxtui-engine-test
NAME="boxtui's engine test rootfs"
`

// EngineRootfs returns the root filesystem engine containers start from:
// rootfs.Create's default tools plus unshare (for a process with
// namespaces of its own inside a container), TrapTERM, an /etc/os-release
// (for systemd-nspawn -b with the host's /usr bound in) and an empty
// directory /bt-mnt to mount onto. Built once per test binary; treat it as
// read-only (CopyEngineRootfs gives a container its own).
func EngineRootfs(t testing.TB) string {
	t.Helper()
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.rootfs == "" && engine.rootfsErr == nil {
		engine.rootfsErr = func() error {
			dir, err := workDir()
			if err != nil {
				return err
			}
			root := filepath.Join(dir, "rootfs")
			tools := append(append([]string{}, rootfs.DefaultTools...), "unshare")
			if _, err := rootfs.Create(root, rootfs.Options{Tools: tools}); err != nil {
				return err
			}
			if err := os.Mkdir(filepath.Join(root, "bt-mnt"), 0o755); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(root, "usr/local/bin"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(root, TrapTERM), []byte(trapTERMScript), 0o755); err != nil {
				return err
			}
			// systemd-nspawn -b refuses a tree without one.
			if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte(osRelease), 0o644); err != nil {
				return err
			}
			engine.rootfs = root
			return nil
		}()
	}
	if engine.rootfsErr != nil {
		t.Fatalf("build the engines' rootfs: %v", engine.rootfsErr)
	}
	return engine.rootfs
}

// CopyEngineRootfs returns a copy of EngineRootfs of the test's own, for
// engines that write into the root they run (LXC, nspawn, bwrap --bind).
// Cleanup removes it, once nothing is mounted inside.
func CopyEngineRootfs(t testing.TB) string {
	t.Helper()
	return copyEngineRootfs(t, -1)
}

// copyEngineRootfs is CopyEngineRootfs; with owner >= 0 the copy goes in a
// directory of its own in os.TempDir() that only owner (and root) may
// enter: the host uid of an unprivileged container's root, which must
// reach its rootfs, where rootfs.Create's root-only directory would stop
// it.
func copyEngineRootfs(t testing.TB, owner int) string {
	t.Helper()
	src := EngineRootfs(t)
	var dir string
	var err error
	if owner < 0 {
		engine.mu.Lock()
		dir, err = os.MkdirTemp(engine.dir, "copy.")
		engine.mu.Unlock()
	} else if dir, err = os.MkdirTemp("", EnginePrefix+"rootfs."); err == nil {
		err = os.Chown(dir, owner, owner)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ms, err := MountsUnder(dir); err != nil || len(ms) > 0 {
			t.Errorf("not removing %s: still mounted inside: %v %v", dir, ms, err)
			return
		}
		os.RemoveAll(dir)
	})
	dst := filepath.Join(dir, "rootfs")
	if out, err := runEngine(nil, nil, "cp", "-a", src, dst); err != nil {
		t.Fatalf("copy the engines' rootfs: %v %s", err, out)
	}
	return dst
}

// engineTarball writes EngineRootfs as a tar once and returns its path and
// the hash of its contents. Entries are sorted and carry no times or
// owner names, so the same tree gives the same hash on every run and an
// image imported from it can be reused by tag.
func engineTarball(t testing.TB) (path, hash string) {
	t.Helper()
	root := EngineRootfs(t)
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.tarball == "" && engine.tarErr == nil {
		engine.tarErr = func() error {
			f, err := os.Create(filepath.Join(engine.dir, "rootfs.tar"))
			if err != nil {
				return err
			}
			defer f.Close()
			h := sha256.New()
			if err := writeTar(io.MultiWriter(f, h), root); err != nil {
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			engine.tarball, engine.tarHash = f.Name(), hex.EncodeToString(h.Sum(nil))
			return nil
		}()
	}
	if engine.tarErr != nil {
		t.Fatalf("tar the engines' rootfs: %v", engine.tarErr)
	}
	return engine.tarball, engine.tarHash
}

// writeTar writes the tree at root to w: directories, regular files and
// symlinks (rootfs.Create makes nothing else), in lexical order.
func writeTar(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = rel
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
		hdr.Uname, hdr.Gname = "", ""
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// EngineImage returns the tag of an image of EngineRootfs in docker or
// podman, imported from its tarball at most once per test binary: the tag
// carries the tarball's hash, so an image a previous run imported from
// the same tree is reused as it is, and images of older trees are removed
// when a new one is imported.
func EngineImage(t testing.TB, engineName string) string {
	t.Helper()
	var bin string
	switch engineName {
	case "docker":
		bin = Docker(t)
	case "podman":
		bin = NeedEngine(t, "podman", "podman")
	default:
		t.Fatalf("EngineImage: no images for engine %q", engineName)
	}
	tarball, hash := engineTarball(t)
	tag := EnginePrefix + "rootfs:" + hash[:16]
	engine.mu.Lock()
	defer engine.mu.Unlock()
	if engine.images == nil {
		engine.images, engine.imageErrs = map[string]string{}, map[string]error{}
	}
	if got, ok := engine.images[engineName]; ok {
		return got
	}
	if err, ok := engine.imageErrs[engineName]; ok {
		t.Fatal(err)
	}
	err := func() error {
		if engineName == "podman" {
			tag = "localhost/" + tag
		}
		if _, err := runEngine(nil, nil, bin, "image", "inspect", "--format", "{{.Id}}", tag); err == nil {
			return nil
		}
		if _, err := runEngine(nil, nil, bin, "import", tarball, tag); err != nil {
			return err
		}
		// Images of trees that changed since (other hashes) are of no
		// more use: remove them, unless a container still uses one.
		repo, _, _ := strings.Cut(tag, ":")
		out, _ := runEngine(nil, nil, bin, "images", "--format", "{{.Repository}}:{{.Tag}}", repo)
		for _, old := range strings.Fields(out) {
			if old != tag && strings.HasPrefix(old, repo+":") {
				runEngine(nil, nil, bin, "rmi", old)
			}
		}
		return nil
	}()
	if err != nil {
		engine.imageErrs[engineName] = fmt.Errorf("import the engines' rootfs into %s: %w", engineName, err)
		t.Fatal(engine.imageErrs[engineName])
	}
	engine.images[engineName] = tag
	return tag
}
