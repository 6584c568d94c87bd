// Mounts that must fail: planted symlinks, bad input, a gone container; each
// fails cleanly and leaves nothing behind.

package mounts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/signals"
)

// Symlinks planted in the container cannot steer a mkdir or a mount out of
// its root, whether or not it has its own mount namespace.
func TestSymlinkEscapesAreContained(t *testing.T) {
	for _, ownNS := range []bool{true, false} {
		t.Run(fmt.Sprintf("ownNS=%v", ownNS), func(t *testing.T) {
			b := newBox(t, ownNS)
			src := srcDir(t)
			name := fmt.Sprintf("boxtui-escape-%d", os.Getpid())
			for link, to := range map[string]string{
				"var/evil":  "/etc",
				"var/evil2": "../../..",
				"var/evil3": "/etc/" + name + "-dangling",
				"var/evil4": "/" + name + "-nowhere",
				"var/proc":  "/proc",
			} {
				if err := os.Symlink(to, filepath.Join(b.rootfs, link)); err != nil {
					t.Fatal(err)
				}
			}
			hostMustNotExist := []string{"/etc/" + name, "/" + name, "/etc/" + name + "-dangling", "/" + name + "-nowhere"}
			for _, p := range hostMustNotExist {
				if _, err := os.Lstat(p); err == nil {
					t.Fatalf("%s exists on the host before the test", p)
				}
			}

			// Through a symlink in the middle: resolved in the container's
			// root, so the mount lands in the container's /etc and /.
			for _, c := range []struct{ via, lands string }{
				{"/var/evil/" + name, "/etc/" + name},
				{"/var/evil2/" + name, "/" + name},
			} {
				if err := Add(b.c, src, c.via, AddOptions{ReadOnly: true, Mkdir: true}); err != nil {
					t.Fatalf("Add at %s: %v", c.via, err)
				}
				if m := b.mountAt(c.lands); m == nil || !isRO(m) {
					t.Fatalf("Add at %s: no read-only mount at %s inside: %+v", c.via, c.lands, m)
				}
				// Recorded where it landed, so List marks it managed.
				b.checkRecords(c.lands + ":read-only")
				list, err := List(b.c)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range list {
					if m.Target == c.lands && !m.Managed {
						t.Errorf("List: %s not managed: %+v", c.lands, m)
					}
				}
				if _, err := os.Stat(filepath.Join(b.rootfs, c.lands, "hello")); ownNS && err == nil {
					t.Errorf("own namespace: the mount is visible on the host at %s", filepath.Join(b.rootfs, c.lands))
				} else if !ownNS && err != nil {
					t.Errorf("shared namespace: the mount is not at %s on the host: %v", filepath.Join(b.rootfs, c.lands), err)
				}
				if err := Remove(b.c, c.via); err != nil {
					t.Fatalf("Remove %s: %v", c.via, err)
				}
				if m := b.mountAt(c.lands); m != nil {
					t.Fatalf("mount left at %s: %+v", c.lands, m)
				}
			}

			// A symlink as the last component is refused, dangling or not.
			for _, via := range []string{"/var/evil", "/var/evil3"} {
				err := Add(b.c, src, via, AddOptions{ReadOnly: true, Mkdir: true})
				wantErr(t, err, ErrSymlink, "Add onto symlink "+via)
			}
			// A dangling symlink in the middle is not followed out.
			err := Add(b.c, src, "/var/evil4/sub", AddOptions{Mkdir: true})
			wantErr(t, err, nil, "Add through a dangling symlink")
			// A symlink into /proc does not get around the refusal. (Only the
			// own-namespace box has a proc mounted in its root.)
			err = Add(b.c, src, "/var/proc/sys", AddOptions{})
			if ownNS {
				wantErr(t, err, ErrProtectedTarget, "Add through a symlink to /proc")
			} else {
				wantErr(t, err, nil, "Add through a symlink to an empty /proc")
			}
			err = Add(b.c, src, "/var/proc/newdir", AddOptions{Mkdir: true})
			wantErr(t, err, nil, "Add with mkdir through a symlink to /proc")

			for _, p := range hostMustNotExist {
				if _, err := os.Lstat(p); err == nil {
					os.Remove(p)
					t.Errorf("%s was created on the host", p)
				}
			}
			for _, p := range []string{"etc/" + name + "-dangling", name + "-nowhere"} {
				if _, err := os.Lstat(filepath.Join(b.rootfs, p)); err == nil {
					t.Errorf("%s was created in the rootfs by a refused Add", p)
				}
			}
			b.checkRecords()
			b.checkHostUnchanged(src)
		})
	}
}

// Every bad input gets a clear one-line error and leaves the container's
// and the host's mount tables, the rootfs and the records as they were.
func TestBadInputLeavesNothing(t *testing.T) {
	b := newBox(t, true)
	src := srcDir(t)
	file := filepath.Join(src, "hello")
	if err := os.WriteFile(filepath.Join(b.rootfs, "etc/afile"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := testutil.MountPoints(b.table())

	for _, target := range []string{"/", "/proc", "/sys", "/dev", "/proc/sys", "/sys/fs", "/dev/../proc", "//proc/"} {
		wantErr(t, Add(b.c, src, target, AddOptions{Mkdir: true}), ErrProtectedTarget, "Add at "+target)
		wantErr(t, Remount(b.c, target, true), ErrProtectedTarget, "Remount "+target)
		wantErr(t, Remove(b.c, target), ErrProtectedTarget, "Remove "+target)
	}
	wantErr(t, Add(b.c, src, "var/x", AddOptions{}), nil, "Add at a relative path")
	wantErr(t, Add(b.c, src, "", AddOptions{}), nil, "Add at an empty path")
	wantErr(t, Add(b.c, filepath.Join(src, "missing"), "/var/x", AddOptions{}), ErrSourceMissing, "Add a missing host path")
	wantErr(t, Add(b.c, file, "/var/x", AddOptions{}), ErrKindMismatch, "Add a file onto a directory")
	wantErr(t, Add(b.c, src, "/etc/afile", AddOptions{}), ErrKindMismatch, "Add a directory onto a file")
	wantErr(t, Add(b.c, src, "/var/missing/deeper", AddOptions{}), ErrTargetMissing, "Add at a missing path without mkdir")
	wantErr(t, Add(b.c, src, "/etc/afile/sub", AddOptions{Mkdir: true}), nil, "Add below a file")
	wantErr(t, Remount(b.c, "/var/x", true), ErrNotMount, "Remount a plain directory")
	wantErr(t, Remove(b.c, "/var/x"), ErrNotMount, "Remove a plain directory")
	wantErr(t, Remove(b.c, "/var/nothing"), ErrTargetMissing, "Remove a missing path")

	if _, err := os.Lstat(filepath.Join(b.rootfs, "var/missing")); err == nil {
		t.Errorf("a failed Add created var/missing")
	}
	if after := testutil.MountPoints(b.table()); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("container mount table changed:\nbefore %v\nafter  %v", before, after)
	}
	b.checkRecords()
	b.checkHostUnchanged(src)
}

// With --mkdir a failed mount removes the directories it created: the
// creation is undone last first.
func TestCreateUndo(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	rootFD, err := openPathDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFD(rootFD)
	in := inside{root: rootFD, proc: -1}
	for _, srcIsDir := range []bool{true, false} {
		fd, done, err := create(in, "/var/a/b/c", srcIsDir)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		st, err := fstatx(fd)
		if err != nil || st.isDir() != srcIsDir {
			t.Fatalf("created handle: %+v, %v; want dir=%v", st, err, srcIsDir)
		}
		closeFD(fd)
		done(true)
		if _, err := os.Lstat(filepath.Join(root, "var/a")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("undo left var/a: %v", err)
		}
	}
	// A successful creation stays.
	fd, done, err := create(in, "/var/a/b", true)
	if err != nil {
		t.Fatal(err)
	}
	closeFD(fd)
	done(false)
	if st, err := os.Stat(filepath.Join(root, "var/a/b")); err != nil || !st.IsDir() {
		t.Fatalf("var/a/b after a kept creation: %v", err)
	}
}

// A container whose init has exited: a clear error wrapping
// procfs.ErrNoProcess, and no clone of the host path left anywhere.
func TestContainerGone(t *testing.T) {
	b := newBox(t, true)
	src := srcDir(t)
	if err := signals.Send(b.pid, b.c.StartTime, 9); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, func() bool {
		_, err := procfs.StartTime(b.pid)
		return err != nil
	}, "the container to exit")
	wantErr(t, Add(b.c, src, "/var/x", AddOptions{ReadOnly: true}), procfs.ErrNoProcess, "Add to a gone container")
	wantErr(t, Remount(b.c, "/var/x", true), procfs.ErrNoProcess, "Remount in a gone container")
	wantErr(t, Remove(b.c, "/var/x"), procfs.ErrNoProcess, "Remove from a gone container")
	_, err := List(b.c)
	wantErr(t, err, procfs.ErrNoProcess, "List of a gone container")
	if _, err := os.Stat(recordPath(b.c.Namespaces[namespace.PID])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a record was written for a gone container")
	}
	b.checkHostUnchanged(src)
}
