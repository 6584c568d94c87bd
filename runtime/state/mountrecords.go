package state

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ForeignMountRecords is the file boxtui keeps, under
// MountRecordDir()/pidns-INODE.json, of the bind mounts it added to a
// container it did not launch (docker's, podman's, an unshare one...). A
// boxtui container keeps the same list in its state (State.Mounts).
// runtime/mounts writes these files; scans read them so that every
// container's Mounts says what boxtui added, whoever made it.
type ForeignMountRecords struct {
	PIDNS     uint64        `json:"pid_ns"`
	InitPID   int           `json:"init_pid"`
	InitStart uint64        `json:"init_start"`
	Mounts    []MountRecord `json:"mounts"`
}

// MountRecordDir is where the records of foreign containers' mounts live.
func MountRecordDir() string { return filepath.Join(RunDir(), "mounts") }

// MountRecordPath is the record file of the container whose PID namespace
// has inode pidNS.
func MountRecordPath(pidNS uint64) string {
	return filepath.Join(MountRecordDir(), fmt.Sprintf("pidns-%d.json", pidNS))
}

// maxMountRecordFile bounds a record file read.
const maxMountRecordFile = 1 << 20

// ReadMountRecords reads one record file, refusing truncated or
// nonsensical ones.
func ReadMountRecords(path string) (ForeignMountRecords, error) {
	f, err := os.Open(path)
	if err != nil {
		return ForeignMountRecords{}, err
	}
	defer f.Close()
	fr, err := DecodeMountRecords(f)
	if err != nil {
		return ForeignMountRecords{}, fmt.Errorf("read mount records %s: %w", path, err)
	}
	return fr, nil
}

// DecodeMountRecords parses a record file.
func DecodeMountRecords(r io.Reader) (ForeignMountRecords, error) {
	var fr ForeignMountRecords
	if err := json.NewDecoder(io.LimitReader(r, maxMountRecordFile)).Decode(&fr); err != nil {
		return ForeignMountRecords{}, fmt.Errorf("corrupt record file: %w", err)
	}
	if fr.InitPID <= 0 || fr.PIDNS == 0 {
		return ForeignMountRecords{}, fmt.Errorf("corrupt record file: no init pid or pid namespace")
	}
	for _, m := range fr.Mounts {
		if !strings.HasPrefix(m.Target, "/") {
			return ForeignMountRecords{}, fmt.Errorf("corrupt record file: target %q is not absolute", m.Target)
		}
	}
	return fr, nil
}
