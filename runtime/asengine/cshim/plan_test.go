//go:build cgo

package cshim

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"boxtui/runtime/asengine"

	"golang.org/x/sys/unix"
)

// dumpPlan prints a plan as shim.c's bt_ase_shim_dump prints what it
// parsed.
func dumpPlan(pl *asengine.Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "lastcap %d\n", pl.LastCap)
	c := pl.Caps
	fmt.Fprintf(&b, "caps %x %x %x %x %x\n", c.Inheritable, c.Permitted, c.Effective, c.Bounding, c.Ambient)
	nnp := 0
	if pl.NoNewPrivs {
		nnp = 1
	}
	fmt.Fprintf(&b, "nnp %d\n", nnp)
	fmt.Fprintf(&b, "uids %d %d %d %d\n", pl.UID.Real, pl.UID.Effective, pl.UID.Saved, pl.UID.FS)
	fmt.Fprintf(&b, "gids %d %d %d %d\n", pl.GID.Real, pl.GID.Effective, pl.GID.Saved, pl.GID.FS)
	b.WriteString("groups")
	for _, g := range pl.Groups {
		fmt.Fprintf(&b, " %d", g)
	}
	b.WriteString("\n")
	for _, f := range pl.Filters {
		fmt.Fprintf(&b, "filter %x", f.Flags)
		for _, in := range f.Insns {
			fmt.Fprintf(&b, " %x:%x:%x:%x", in.Code, in.Jt, in.Jf, in.K)
		}
		b.WriteString("\n")
	}
	for _, r := range pl.Rlimits {
		fmt.Fprintf(&b, "rlimit %d %x %x\n", r.Resource, r.Cur, r.Max)
	}
	for _, fd := range pl.CgroupFDs {
		fmt.Fprintf(&b, "cgroupfd %d\n", fd)
	}
	return b.String()
}

func randomPlan(r *rand.Rand) *asengine.Plan {
	pl := &asengine.Plan{
		Caps: asengine.Caps{
			Inheritable: r.Uint64(), Permitted: r.Uint64(), Effective: r.Uint64(),
			Bounding: r.Uint64(), Ambient: r.Uint64(),
		},
		NoNewPrivs: r.Intn(2) == 1,
		UID:        asengine.IDs{Real: r.Uint32(), Effective: r.Uint32(), Saved: r.Uint32(), FS: r.Uint32()},
		GID:        asengine.IDs{Real: r.Uint32(), Effective: r.Uint32(), Saved: r.Uint32(), FS: r.Uint32()},
		LastCap:    r.Intn(64),
	}
	for i := r.Intn(40); i > 0; i-- {
		pl.Groups = append(pl.Groups, r.Uint32())
	}
	for i := r.Intn(5); i > 0; i-- {
		f := asengine.Filter{Flags: uint64(r.Intn(2)) * unix.SECCOMP_FILTER_FLAG_LOG}
		for j := 1 + r.Intn(300); j > 0; j-- {
			f.Insns = append(f.Insns, unix.SockFilter{Code: uint16(r.Uint32()), Jt: uint8(r.Uint32()), Jf: uint8(r.Uint32()), K: r.Uint32()})
		}
		pl.Filters = append(pl.Filters, f)
	}
	for i := r.Intn(12); i > 0; i-- {
		pl.CgroupFDs = append(pl.CgroupFDs, r.Intn(1<<20))
	}
	for _, res := range r.Perm(16)[:r.Intn(16)] {
		max := r.Uint64()
		if r.Intn(3) == 0 {
			max = asengine.RlimInfinity
		}
		cur := max
		if r.Intn(2) == 0 {
			cur = r.Uint64() % (max/2 + 1)
		}
		pl.Rlimits = append(pl.Rlimits, asengine.Rlimit{Resource: res, Cur: cur, Max: max})
	}
	return pl
}

// TestCParsesWhatGoEncodes checks asengine.c's parser against Go's
// encoder on random plans: the C reads back every field.
func TestCParsesWhatGoEncodes(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	for i := 0; i < 300; i++ {
		pl := randomPlan(r)
		enc, err := pl.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Dump(enc)
		if err != nil {
			t.Fatalf("plan %d: C refused: %v", i, err)
		}
		if want := dumpPlan(pl); got != want {
			t.Fatalf("plan %d:\nC read  %q\nGo wrote %q", i, got, want)
		}
	}
}

// TestCRefusesADamagedPlan: a plan cut anywhere (even between records:
// dropping the filters must not pass for a plan without filters), or with
// a record's length, tag or the end count changed, is refused.
func TestCRefusesADamagedPlan(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	pl := randomPlan(r)
	pl.Filters = pl.Filters[:0]
	pl.Filters = append(pl.Filters, asengine.Filter{Insns: []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}})
	enc, err := pl.Encode()
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(enc); n++ {
		if _, err := Dump(enc[:n]); err == nil {
			t.Fatalf("a plan cut at %d of %d bytes was accepted", n, len(enc))
		}
	}
	// Records after the end, and a second end.
	if _, err := Dump(append(append([]byte(nil), enc...), enc[8:24]...)); err == nil {
		t.Error("a record after the end was accepted")
	}
	// Every single-byte change either is refused or parses to something
	// (never a crash, never a read past the buffer: the race detector and
	// the fixed bounds in the C see to that).
	for i := 0; i < len(enc); i++ {
		for _, v := range []byte{0, 0xff, enc[i] ^ 1} {
			d := append([]byte(nil), enc...)
			d[i] = v
			Dump(d)
		}
	}
	for name, mutate := range map[string]func(pl *asengine.Plan){
		"lastcap over 63": func(pl *asengine.Plan) { pl.LastCap = 64 },
		"too many groups": func(pl *asengine.Plan) { pl.Groups = make([]uint32, asengine.MaxGroups+1) },
		"empty filter":    func(pl *asengine.Plan) { pl.Filters = []asengine.Filter{{}} },
		"soft over hard":  func(pl *asengine.Plan) { pl.Rlimits = []asengine.Rlimit{{Resource: 7, Cur: 2, Max: 1}} },
	} {
		bad := *pl
		mutate(&bad)
		if _, err := bad.Encode(); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func FuzzCParse(f *testing.F) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 4; i++ {
		enc, _ := randomPlan(r).Encode()
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Dump(data)
	})
}
