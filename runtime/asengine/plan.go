package asengine

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Keep in step with capply/asengine.h.
const (
	planMagic   = "BTASE\x00"
	planVersion = 1

	recCaps     = 1
	recNNP      = 2
	recUIDs     = 3
	recGIDs     = 4
	recGroups   = 5
	recFilter   = 6
	recLastCap  = 7
	recCgroupFD = 8
	recEnd      = 9
	recRlimit   = 10

	maxPlanFilters = 256
	maxPlanInsns   = 32768
	maxPlanCgroups = 64
)

// Plan is what the exec stage applies (capply/asengine.c): a profile in
// the terms of the target's user namespace, and the fds of the cgroups to
// join.
type Plan struct {
	Caps       Caps
	NoNewPrivs bool
	UID, GID   IDs
	Groups     []uint32
	Filters    []Filter
	// LastCap is the kernel's highest capability number.
	LastCap int
	// CgroupFDs are fds, open in the stage, of cgroup.procs files.
	CgroupFDs []int
	// Rlimits are set before the ids change.
	Rlimits []Rlimit
}

// Plan turns the profile into what the stage applies, refusing what it
// cannot reproduce: strict seccomp mode, filters that were not read,
// filters that hand calls to a supervisor, IDs with no mapping in the
// target's user namespace.
func (p *Profile) Plan() (*Plan, error) {
	switch {
	case p.SeccompMode == SeccompStrict:
		return nil, fmt.Errorf("process %d runs in strict seccomp mode, under which no shell can run: exec without --as-engine", p.PID)
	case p.SeccompMode == SeccompFilter && len(p.Filters) != p.FilterCount:
		return nil, fmt.Errorf("the seccomp filters of process %d were not read: exec without --as-engine", p.PID)
	}
	for i, f := range p.Filters {
		if f.UserNotif() {
			return nil, fmt.Errorf("seccomp filter %d of process %d hands system calls to a supervisor process (user notification), which an exec cannot join: exec without --as-engine", i+1, p.PID)
		}
	}
	uid, gid, groups, err := p.NSIDs()
	if err != nil {
		return nil, err
	}
	last, err := LastCap()
	if err != nil {
		return nil, err
	}
	return &Plan{
		Caps: p.Caps, NoNewPrivs: p.NoNewPrivs,
		UID: uid, GID: gid, Groups: groups,
		Filters: p.Filters, LastCap: last, Rlimits: p.Rlimits,
	}, nil
}

// LastCap reads the kernel's highest capability number.
func LastCap() (int, error) {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n < 0 || n > 63 {
		return 0, fmt.Errorf("parse cap_last_cap %q", data)
	}
	return n, nil
}

// Encode lays the plan out as asengine.c's bt_ase_parse reads it: an
// 8-byte header (magic, version), then records of a 4-byte tag, a 4-byte
// length and the payload padded to 8 bytes, all in the host's byte order;
// the last record counts those before it, so a plan cut short is refused.
func (pl *Plan) Encode() ([]byte, error) {
	if len(pl.Filters) > maxPlanFilters {
		return nil, fmt.Errorf("%d seccomp filters, more than the %d --as-engine takes over", len(pl.Filters), maxPlanFilters)
	}
	if len(pl.Groups) > MaxGroups {
		return nil, fmt.Errorf("%d supplementary groups, more than the %d --as-engine takes over", len(pl.Groups), MaxGroups)
	}
	if len(pl.CgroupFDs) > maxPlanCgroups {
		return nil, fmt.Errorf("%d cgroups, more than the %d --as-engine joins", len(pl.CgroupFDs), maxPlanCgroups)
	}
	if pl.LastCap < 0 || pl.LastCap > 63 {
		return nil, fmt.Errorf("bad last capability %d", pl.LastCap)
	}
	ne := binary.NativeEndian
	b := []byte(planMagic)
	b = ne.AppendUint16(b, planVersion)
	nrec := uint32(0)
	rec := func(tag uint32, payload []byte) {
		nrec++
		b = ne.AppendUint32(b, tag)
		b = ne.AppendUint32(b, uint32(len(payload)))
		b = append(b, payload...)
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
	}
	u32s := func(v ...uint32) []byte {
		var out []byte
		for _, x := range v {
			out = ne.AppendUint32(out, x)
		}
		return out
	}
	var caps []byte
	for _, v := range []uint64{pl.Caps.Inheritable, pl.Caps.Permitted, pl.Caps.Effective, pl.Caps.Bounding, pl.Caps.Ambient} {
		caps = ne.AppendUint64(caps, v)
	}
	rec(recLastCap, u32s(uint32(pl.LastCap)))
	rec(recCaps, caps)
	nnp := uint32(0)
	if pl.NoNewPrivs {
		nnp = 1
	}
	rec(recNNP, u32s(nnp))
	rec(recUIDs, u32s(pl.UID.Real, pl.UID.Effective, pl.UID.Saved, pl.UID.FS))
	rec(recGIDs, u32s(pl.GID.Real, pl.GID.Effective, pl.GID.Saved, pl.GID.FS))
	rec(recGroups, u32s(pl.Groups...))
	total := 0
	for i, f := range pl.Filters {
		if len(f.Insns) == 0 || len(f.Insns) > bpfMaxInsns {
			return nil, fmt.Errorf("seccomp filter %d has %d instructions", i+1, len(f.Insns))
		}
		if total += len(f.Insns); total > maxPlanInsns {
			return nil, fmt.Errorf("seccomp filters longer than the kernel allows (%d instructions)", total)
		}
		payload := ne.AppendUint64(nil, f.Flags)
		for _, in := range f.Insns {
			payload = ne.AppendUint16(payload, in.Code)
			payload = append(payload, in.Jt, in.Jf)
			payload = ne.AppendUint32(payload, in.K)
		}
		rec(recFilter, payload)
	}
	for _, r := range pl.Rlimits {
		if r.Resource < 0 || r.Resource >= 64 || r.Cur > r.Max {
			return nil, fmt.Errorf("bad resource limit %+v", r)
		}
		p := ne.AppendUint32(nil, uint32(r.Resource))
		p = ne.AppendUint32(p, 0)
		p = ne.AppendUint64(p, r.Cur)
		rec(recRlimit, ne.AppendUint64(p, r.Max))
	}
	for _, fd := range pl.CgroupFDs {
		if fd < 0 {
			return nil, fmt.Errorf("bad cgroup fd %d", fd)
		}
		rec(recCgroupFD, u32s(uint32(fd)))
	}
	rec(recEnd, u32s(nrec))
	return b, nil
}
