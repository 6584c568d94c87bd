package mounts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/events"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"

	"github.com/moby/sys/mountinfo"
)

// Mount is one entry of a container's mount table, as the container sees
// it.
type Mount struct {
	// Source is the host path for a mount boxtui added; otherwise the
	// filesystem's source as mountinfo gives it, followed by the path within
	// that filesystem in brackets when it is not its root (findmnt's style:
	// /dev/vda[/srv/data] for a bind mount of /srv/data).
	Source string `json:"source"`
	// Target is the mount point inside the container.
	Target   string `json:"target"`
	FSType   string `json:"fstype"`
	ReadOnly bool   `json:"readonly"`
	// Managed is true for mounts boxtui added (and recorded).
	Managed bool `json:"managed"`
}

// Add bind-mounts hostPath at ctrPath inside the running container c (see
// AddToProcess) and records it as managed. If the record cannot be written
// the mount is removed again, so the two never disagree.
func Add(c discovery.Container, hostPath, ctrPath string, opts AddOptions) error {
	target, err := CleanTarget("mount over", ctrPath)
	if err != nil {
		return err
	}
	src := hostPath
	if abs, err := filepath.Abs(hostPath); err == nil {
		src = abs
	}
	// The mount goes where the TARGET named: the process's own mount
	// namespace and root (nsenter -t PID), else the init's. Its record
	// is the container's, keyed by that namespace.
	ep := c.EntryProcess()
	ns, err := recordNS(c)
	if err != nil {
		return err
	}
	// Record where the mount landed, not the path as typed: through a
	// symlink in the container that differs, and mountinfo shows the former.
	landed, err := addToProcess(ep.PID, ep.StartTime, src, target, opts)
	if err != nil {
		return err
	}
	err = updateRecords(c, func(recs []state.MountRecord) []state.MountRecord {
		return pushRecord(recs, state.MountRecord{Source: src, Target: landed, ReadOnly: opts.ReadOnly, MntNS: ns})
	})
	if err != nil {
		if uerr := RemoveFromProcess(ep.PID, ep.StartTime, landed); uerr != nil {
			return fmt.Errorf("record mount of %s at %s: %w (and removing it again failed: %v)", src, target, err, uerr)
		}
		return fmt.Errorf("record mount of %s at %s: %w (the mount was removed again)", src, target, err)
	}
	recordEvent(c, events.MountAdded, fmt.Sprintf("%s at %s (%s)", src, landed, modeWord(opts.ReadOnly)))
	return nil
}

// recordEvent adds to c's history. History is informative: failing to
// write it never fails the mount operation itself.
func recordEvent(c discovery.Container, kind, detail string) {
	_ = events.Record(c, kind, detail, "boxtui")
}

func modeWord(readOnly bool) string {
	if readOnly {
		return "ro"
	}
	return "rw"
}

// Remount flips the mount at ctrPath inside c between read-only and
// read-write (see RemountInProcess) and updates its record, if boxtui added
// it. Any mount may be flipped except those CleanTarget protects; a mount
// boxtui added may be flipped wherever it is.
func Remount(c discovery.Container, ctrPath string, readOnly bool) error {
	target, managed, ns, err := cleanManagedTarget(c, "remount", ctrPath)
	if err != nil {
		return err
	}
	ep := c.EntryProcess()
	resolved, err := remountInProcess(ep.PID, ep.StartTime, target, readOnly, managed)
	if err != nil {
		return err
	}
	err = updateRecords(c, func(recs []state.MountRecord) []state.MountRecord {
		return setRecordModeIn(recs, resolved, readOnly, ns)
	})
	if err != nil {
		if uerr := RemountInProcess(ep.PID, ep.StartTime, resolved, !readOnly); uerr != nil {
			return fmt.Errorf("record remount of %s: %w (and flipping it back failed: %v)", target, err, uerr)
		}
		return fmt.Errorf("record remount of %s: %w (it was flipped back)", target, err)
	}
	recordEvent(c, events.MountFlipped, fmt.Sprintf("%s now %s", resolved, modeWord(readOnly)))
	return nil
}

// Remove detaches the mount at ctrPath inside c (see RemoveFromProcess) and
// drops its record. A record whose mount is already gone (unmounted from
// inside the container) is dropped too, and the error says it was not a
// mount.
//
// A mount boxtui added is removed wherever it is and whatever its type (a
// proc or a mount at /dev/shm that an older boxtui let through): the
// protected paths of CleanTarget and the kernel filesystems are refused only
// for mounts that are not boxtui's. A mount counts as boxtui's when a record
// names the path it is at and its root is the recorded source (same device
// and inode): after a record's mount was unmounted from inside, the
// container's own mount that its path may reveal stays protected.
func Remove(c discovery.Container, ctrPath string) error {
	target, managed, ns, err := cleanManagedTarget(c, "unmount", ctrPath)
	if err != nil {
		return err
	}
	ep := c.EntryProcess()
	resolved, rmErr := removeFromProcess(ep.PID, ep.StartTime, target, managed)
	if rmErr != nil && !errors.Is(rmErr, ErrNotMount) && !errors.Is(rmErr, ErrTargetMissing) {
		return rmErr
	}
	if resolved == "" {
		resolved = target
	}
	err = updateRecords(c, func(recs []state.MountRecord) []state.MountRecord {
		return popRecordIn(recs, resolved, ns)
	})
	if rmErr != nil {
		return rmErr
	}
	recordEvent(c, events.MountRemoved, resolved)
	if err != nil {
		return fmt.Errorf("unmounted %s, but dropping its record failed: %w", target, err)
	}
	return nil
}

// cleanManagedTarget is CleanTarget for a mount that may be boxtui's: a
// protected path passes when a record names it (the engine then checks the
// mount really is the recorded one). It also returns c's managed mounts in
// the mount namespace acted in, and that namespace's record key (recordNS).
func cleanManagedTarget(c discovery.Container, action, ctrPath string) (string, []managedMount, uint64, error) {
	target, err := cleanPath(ctrPath)
	if err != nil {
		return "", nil, 0, err
	}
	ns, err := recordNS(c)
	if err != nil {
		return "", nil, 0, err
	}
	managed := managedMounts(c, ns)
	if isProtected(target) && !hasManagedTarget(managed, target) {
		return "", nil, 0, protectedError(action, target)
	}
	return target, managed, ns, nil
}

// List returns c's mount table from /proc/PID/mountinfo of its init, or of
// the process the TARGET named (c.Named): the table that process sees. The
// kernel already writes that file from the process's point of view: mount
// points are relative to its root, and mounts outside its root (a chroot
// container's host mounts) are left out. Only the records of mounts made in
// that process's mount namespace mark entries managed.
func List(c discovery.Container) ([]Mount, error) {
	ep := c.EntryProcess()
	ns, err := recordNS(c)
	if err != nil {
		return nil, fmt.Errorf("list mounts of container %d: %w", c.PID, err)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", ep.PID))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("list mounts of container %d: %w (it exited)", c.PID, procfs.ErrNoProcess)
		}
		return nil, fmt.Errorf("list mounts of container %d: %w", c.PID, err)
	}
	infos, err := mountinfo.GetMountsFromReader(f, nil)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("list mounts of container %d: %w", c.PID, err)
	}
	if ep.StartTime != 0 {
		if st, err := procfs.StartTime(ep.PID); err != nil || st != ep.StartTime {
			if ep.PID != c.PID {
				return nil, fmt.Errorf("list mounts of process %d: %w (it exited)", ep.PID, procfs.ErrNoProcess)
			}
			return nil, fmt.Errorf("list mounts of container %d: %w (it exited)", c.PID, procfs.ErrNoProcess)
		}
	}
	recs, err := loadRecords(c)
	if err != nil {
		return nil, fmt.Errorf("list mounts of container %d: %w", c.PID, err)
	}
	return buildList(infos, recordsIn(recs, ns)), nil
}

// buildList turns a mount table and boxtui's records into Mounts. A target
// recorded k times marks the last k mounts at that mount point managed
// (later lines of mountinfo sit on top of earlier ones), and pairs them with
// the records from the top down.
func buildList(infos []*mountinfo.Info, recs []state.MountRecord) []Mount {
	byTarget := map[string][]state.MountRecord{}
	for _, r := range recs {
		byTarget[r.Target] = append(byTarget[r.Target], r)
	}
	out := make([]Mount, len(infos))
	for i, in := range infos {
		out[i] = Mount{
			Source:   describeSource(in),
			Target:   in.Mountpoint,
			FSType:   in.FSType,
			ReadOnly: hasOption(in.Options, "ro") || hasOption(in.VFSOptions, "ro"),
		}
	}
	for i := len(out) - 1; i >= 0; i-- {
		rs := byTarget[out[i].Target]
		if len(rs) == 0 {
			continue
		}
		r := rs[len(rs)-1]
		byTarget[out[i].Target] = rs[:len(rs)-1]
		out[i].Managed = true
		out[i].Source = r.Source
	}
	return out
}

func describeSource(in *mountinfo.Info) string {
	src := in.Source
	if src == "" {
		src = "none"
	}
	if in.Root != "" && in.Root != "/" {
		return src + "[" + in.Root + "]"
	}
	return src
}

func hasOption(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
