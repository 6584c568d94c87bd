package discovery

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
)

// ScanOptions tunes how much a scan reads.
type ScanOptions struct {
	// ProcessNamespaces reads every namespace link of every container
	// process, not only the init's. The namespace view needs it; `ls` does
	// not.
	ProcessNamespaces bool
	// Exited adds boxtui containers that have exited (from their state).
	Exited bool
}

// Scanner discovers containers from /proc. It remembers what does not change
// during a process's life (its NSpid, uid and command line, keyed by PID,
// start time and name) so a repeated scan reads little more than one
// namespace link and one stat line per process. While no process has been
// created since its last full pass (see quiet), it does not even list /proc:
// it rereads the stat lines of the container processes it already knows. A
// Scanner is safe for use by one goroutine at a time.
type Scanner struct {
	proc  string // "/proc", or a test's fake
	cache map[int]procCache
	pidNS map[int]pidNSCache
	// oneShot marks a scanner used once (Scan): it keeps no cache.
	oneShot bool

	// gen marks the pidNS entries seen by the current full pass; the others
	// belong to processes that are gone.
	gen uint32
	// host is boxtui's own namespace set, read on the first scan: the main
	// thread, whose links /proc/self shows, never changes namespaces.
	host namespace.Set
	// listed is set once a full pass has filled members.
	listed bool
	// members are the processes outside boxtui's PID namespace found by the
	// last pass, and unreadable how many processes the last full pass
	// could not inspect.
	members    []pidNSEntry
	unreadable int
	// lastPID is the newest PID of boxtui's PID namespace (/proc/loadavg)
	// when the last full pass began, -1 when unknown; calm counts the full
	// passes in a row that began with it, quiet the passes since the last
	// full one.
	lastPID int
	calm    int
	quiet   int
	// ownProc is 1 when s.proc is the procfs of boxtui's own PID namespace
	// (so its last PID counts every process the listing can show), -1 when
	// not, 0 before the first check.
	ownProc int
	// parents remembers the parent PID namespace of each init, by PID.
	parents map[int]parentCache
	// Buffers reused by every full pass.
	dirBuf  []byte
	entries []procfs.DirEntry
	ns      []uint64
}

// parentCache is the parent PID namespace of the init that started at
// start.
type parentCache struct {
	start  uint64
	parent uint64
}

// pidNSCache remembers the pid-namespace link of the process whose
// /proc/PID directory had inode dirIno.
type pidNSCache struct {
	dirIno uint64
	pidNS  uint64
	gen    uint32
}

type pidNSEntry struct {
	pid   int
	pidNS uint64
}

type procCache struct {
	start   uint64
	comm    string
	status  procfs.Status
	command string
	// ns is the process's namespace set, read once: a process changes its
	// namespaces in practice only on the way to an exec (unshare, nsenter),
	// and exec changes comm, which drops this entry.
	ns namespace.Set
}

// NewScanner returns a scanner of /proc.
func NewScanner() *Scanner {
	return &Scanner{proc: "/proc", cache: map[int]procCache{}, pidNS: map[int]pidNSCache{}, lastPID: -1}
}

// newOneShotScanner returns a scanner of proc used once: it keeps nothing
// for a next pass.
func newOneShotScanner(proc string) *Scanner {
	return &Scanner{proc: proc, cache: map[int]procCache{}, pidNS: map[int]pidNSCache{}, lastPID: -1, oneShot: true}
}

// Scan does one pass over /proc.
func Scan(opts ScanOptions) (Snapshot, error) {
	return newOneShotScanner("/proc").Scan(opts)
}

type rawProc struct {
	pid     int
	pidNS   uint64
	hasStat bool
	stat    procfs.Stat
	cache   procCache
}

// Scan does one pass over /proc and groups processes by PID namespace.
func (s *Scanner) Scan(opts ScanOptions) (Snapshot, error) {
	began := time.Now()
	snap := Snapshot{Host: s.host}
	if snap.Host[namespace.PID] == 0 {
		snap.Host = namespace.ReadSet(s.proc + "/self")
		if !s.oneShot {
			s.host = snap.Host
		}
	}
	hostPID := snap.Host[namespace.PID]
	if hostPID == 0 {
		return snap, fmt.Errorf("read boxtui's own pid namespace from %s/self/ns/pid: is /proc mounted?", s.proc)
	}
	var procs []rawProc
	if s.quietSinceLastPass() {
		procs = s.rereadMembers()
	} else {
		var err error
		if procs, err = s.listAll(opts, hostPID); err != nil {
			s.calm = 0
			return snap, err
		}
	}
	if !s.oneShot {
		s.members = s.members[:0]
		for _, rp := range procs {
			s.members = append(s.members, pidNSEntry{pid: rp.pid, pidNS: rp.pidNS})
		}
		s.listed = true
	}

	groups := map[uint64][]rawProc{}
	seen := map[int]bool{}
	for _, rp := range procs {
		if !s.oneShot {
			seen[rp.pid] = true
		}
		groups[rp.pidNS] = append(groups[rp.pidNS], rp)
	}
	for pid := range s.cache {
		if !seen[pid] {
			delete(s.cache, pid)
		}
	}
	for pid := range s.parents {
		if !seen[pid] {
			delete(s.parents, pid)
		}
	}
	if s.unreadable > 0 && os.Geteuid() != 0 {
		snap.Warnings = append(snap.Warnings, fmt.Errorf("%d processes could not be inspected: run as root (sudo) to see every container", s.unreadable))
	}

	buf := make([]byte, 0, 4096)
	boot := procfs.BootTime()
	byNS := map[uint64]int{} // pid ns inode -> index into snap.Containers
	for ino, procs := range groups {
		c, ok := s.buildContainer(procs, opts, boot, &buf)
		if !ok {
			continue
		}
		byNS[ino] = len(snap.Containers)
		snap.Containers = append(snap.Containers, c)
	}
	// Nesting: ask the kernel for each PID namespace's parent. A process
	// never leaves its PID namespace, nor a namespace its parent, so the
	// answer is remembered for the init (its PID and start time).
	for _, i := range byNS {
		c := &snap.Containers[i]
		pc, ok := s.parents[c.PID]
		if !ok || pc.start != c.StartTime {
			pc = parentCache{start: c.StartTime, parent: namespace.Parent(fmt.Sprintf("%s/%d/ns/pid", s.proc, c.PID))}
			if !s.oneShot && pc.parent != 0 && c.StartTime != 0 {
				if s.parents == nil {
					s.parents = map[int]parentCache{}
				}
				s.parents[c.PID] = pc
			}
		}
		parent := pc.parent
		if parent == 0 || parent == hostPID {
			continue
		}
		if j, ok := byNS[parent]; ok && j != i {
			snap.Containers[i].Parent = snap.Containers[j].PID
		}
	}

	finishSnapshot(&snap, opts.Exited, began)
	return snap, nil
}

// rereadMembers rereads the stat line of every process the last pass found
// outside boxtui's PID namespace, dropping those that are gone.
func (s *Scanner) rereadMembers() []rawProc {
	procs := make([]rawProc, 0, len(s.members))
	buf := make([]byte, 0, 1024)
	for _, m := range s.members {
		rp := rawProc{pid: m.pid, pidNS: m.pidNS}
		if s.readStat(&rp, s.proc+"/"+strconv.Itoa(m.pid), &buf) {
			procs = append(procs, rp)
		}
	}
	return procs
}

// listAll lists /proc and returns the processes outside boxtui's PID
// namespace (hostPID).
func (s *Scanner) listAll(opts ScanOptions, hostPID uint64) ([]rawProc, error) {
	var entries []procfs.DirEntry
	var err error
	if s.oneShot {
		entries, err = procfs.ReadPIDs(s.proc)
	} else {
		if s.dirBuf == nil {
			s.dirBuf = make([]byte, 32<<10)
		}
		entries, err = procfs.ReadPIDsInto(s.proc, s.dirBuf, s.entries[:0])
		s.entries = entries
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", s.proc, err)
	}

	// A process never changes its PID namespace, and procfs gives every
	// /proc/PID directory a fresh inode number, so (PID, inode) names one
	// process and its pid-namespace link can be remembered. For the UI's
	// once-a-second scan that turns thousands of readlinks of host processes
	// into map lookups. ns[i] is entries[i]'s link, 0 when not known.
	s.gen++
	ns := s.ns[:0]
	cached := 0
	for _, e := range entries {
		var ino uint64
		if c, ok := s.pidNS[e.PID]; ok && c.dirIno == e.Ino {
			ino = c.pidNS
			c.gen = s.gen
			s.pidNS[e.PID] = c
			cached++
		}
		ns = append(ns, ino)
	}
	if !s.oneShot {
		s.ns = ns
	}
	workers := runtime.GOMAXPROCS(0)
	if workers > 4 {
		workers = 4
	}
	if len(entries)-cached < 256 {
		workers = 1 // mostly cached: waking a second thread costs more
	}
	type learned struct {
		i     int // index into entries
		pidNS uint64
	}
	type part struct {
		procs      []rawProc
		unreadable int
		learned    []learned
	}
	parts := make([]part, workers)
	work := func(w int) {
		buf := make([]byte, 0, 1024)
		for i := w; i < len(entries); i += workers {
			pid := entries[i].PID
			base := s.proc + "/" + strconv.Itoa(pid)
			ino := ns[i]
			if ino == 0 {
				ino = namespace.ReadLink(base + "/ns/pid")
				if ino != 0 && !s.oneShot {
					parts[w].learned = append(parts[w].learned, learned{i: i, pidNS: ino})
				}
			}
			if ino == 0 {
				parts[w].unreadable++
				continue // vanished, or not ours to read
			}
			if ino == hostPID {
				continue
			}
			rp := rawProc{pid: pid}
			// A plain scan (`ls`) needs only the namespace link of most
			// processes; the stat line is read for the init alone.
			if opts.ProcessNamespaces {
				if !s.readStat(&rp, base, &buf) {
					continue // vanished mid-scan: never an error
				}
			}
			rp.pidNS = ino
			parts[w].procs = append(parts[w].procs, rp)
		}
	}
	if workers == 1 {
		work(0)
	} else {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				work(w)
			}(w)
		}
		wg.Wait()
	}

	// Remember every process's pid-namespace link for the next scan and
	// forget the processes that are gone; a one-shot scan (`boxtui ls`)
	// has no next scan and skips the work.
	s.unreadable = 0
	var procs []rawProc
	for _, p := range parts {
		s.unreadable += p.unreadable
		procs = append(procs, p.procs...)
		if s.oneShot {
			continue
		}
		for _, l := range p.learned {
			e := entries[l.i]
			s.pidNS[e.PID] = pidNSCache{dirIno: e.Ino, pidNS: l.pidNS, gen: s.gen}
		}
	}
	for pid, c := range s.pidNS {
		if c.gen != s.gen {
			delete(s.pidNS, pid)
		}
	}
	return procs, nil
}

// readStat reads the stat line of pid: the one file read for every process
// in a container, on every scan.
func (s *Scanner) readStat(p *rawProc, base string, buf *[]byte) bool {
	data, err := procfs.ReadFileInto(base+"/stat", buf)
	if err != nil {
		return false
	}
	st, err := procfs.ParseStat(data)
	if err != nil {
		return false
	}
	p.stat, p.hasStat = st, true
	return true
}
