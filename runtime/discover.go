package runtime

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"boxtui/runtime/engines"

	"golang.org/x/sys/unix"
)

// Process is one process of a container, seen from the host.
type Process struct {
	PID       int    `json:"pid"`       // host PID
	InnerPID  int    `json:"inner_pid"` // PID inside the container's PID namespace
	PPID      int    `json:"ppid"`      // host PID of the parent
	UID       int    `json:"uid"`
	Comm      string `json:"comm"`
	Command   string `json:"command"`
	StartTime uint64 `json:"start_time"` // clock ticks after boot
	// CPUTicks is user+system time so far, in clock ticks.
	CPUTicks uint64 `json:"cpu_ticks"`
	RSSBytes int64  `json:"rss_bytes"`
	// Namespaces are the process's own links: a process that entered the
	// container with its own mount namespace (the seed's second shell) shows
	// a different mnt here than the init.
	Namespaces NSSet `json:"namespaces"`
}

// Container is a group of processes that share a PID namespace other than
// the one boxtui runs in.
type Container struct {
	// Name is the boxtui name; empty when boxtui did not make it. In JSON,
	// "name" is the name a user knows the container by: this one, else
	// EngineName (see MarshalJSON).
	Name string `json:"name"`
	// EngineID is the ID the container's engine gives it (docker, podman,
	// CRI-O, containerd: 64 hex digits; a registered nspawn machine: its
	// 128-bit ID), "" when it has none or it could not be read.
	EngineID string `json:"engine_id"`
	// EngineName is the name the container's engine gives it (docker's
	// and podman's --name, the LXC container, the nspawn machine, a
	// Kubernetes POD/CONTAINER), read from the engine's own state (see
	// runtime/engines); "" for boxtui's own containers and when unknown.
	// It is text a user chose: print it escaped.
	EngineName string `json:"-"`
	PID        int    `json:"pid"` // host PID of the init (PID 1 inside)
	Origin     Origin `json:"origin"`
	Command    string `json:"command"`
	Comm       string `json:"comm"`
	Root       string `json:"root"`
	Processes  int    `json:"processes"`
	// Namespaces are the init's links.
	Namespaces NSSet     `json:"namespaces"`
	StartTime  uint64    `json:"start_time"` // clock ticks after boot, of the init
	Started    time.Time `json:"started"`
	// Parent is the init PID of the container this one is nested in, 0 when
	// its PID namespace is a child of boxtui's own.
	Parent int `json:"parent,omitempty"`
	// Status is "running" for every discovered container; `ls -a` adds
	// exited boxtui containers with StatusExited and their exit status.
	Status     string `json:"status"`
	ExitCode   *int   `json:"exit_code,omitempty"`
	ExitSignal string `json:"exit_signal,omitempty"`
	// Mounts are the bind mounts boxtui added (from its state).
	Mounts []MountRecord `json:"mounts,omitempty"`
	// HolderPID is the PID of the process that holds the console of a
	// boxtui container (0 for others, or when the holder is gone).
	HolderPID int `json:"holder_pid,omitempty"`
	// Procs lists the container's own processes (not those of nested
	// containers), init first, then by inner PID.
	Procs []Process `json:"procs,omitempty"`
	// Named is the process a TARGET named when that is not the init: a
	// host PID of another process of the container. exec, mount, remount,
	// umount and mounts act in its namespaces, root and working directory,
	// as nsenter -t PID does; the container (history, records, kill)
	// stays the init's. Zero for a name or the init's own PID.
	Named ProcRef `json:"-"`

	// engine is what the init's cgroup (or its creator) says about the
	// engine that made it, for naming it.
	engine engines.Ref
}

// DisplayName is the name a user knows c by: its boxtui name, else its
// engine's; "" when it has neither.
func (c Container) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.EngineName
}

// containerJSON is Container without its JSON methods.
type containerJSON Container

// MarshalJSON writes c with "name" set to DisplayName: the name a user knows
// it by, whichever made it.
func (c Container) MarshalJSON() ([]byte, error) {
	j := containerJSON(c)
	j.Name = c.DisplayName()
	return json.Marshal(j)
}

// ContainersJSON returns cs as MarshalJSON writes each, in a form that
// encodes in one pass: a MarshalJSON call per container makes
// encoding/json encode each separately and then reparse its output, which
// cost `ls --json` about 25 µs per container.
func ContainersJSON(cs []Container) any {
	out := make([]containerJSON, len(cs))
	for i, c := range cs {
		out[i] = containerJSON(c)
		out[i].Name = c.DisplayName()
	}
	return out
}

// UnmarshalJSON reads what MarshalJSON writes: "name" is the boxtui name of
// a boxtui container and the engine's name of any other.
func (c *Container) UnmarshalJSON(b []byte) error {
	var j containerJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Container(j)
	if c.Origin != OriginBoxtui {
		c.EngineName, c.Name = c.Name, ""
	}
	return nil
}

// ProcRef names one process by host PID and start time (clock ticks after
// boot), so a PID reused by another process is never mistaken for it.
type ProcRef struct {
	PID       int
	StartTime uint64
}

// EntryProcess is the process whose namespaces, root and working directory
// exec and mounts act in: the one the TARGET named, else the init.
func (c Container) EntryProcess() ProcRef {
	if c.Named.PID > 0 {
		return c.Named
	}
	return ProcRef{PID: c.PID, StartTime: c.StartTime}
}

// WithNamed returns c acting in process p (nsenter -t p): p must be one of
// c's processes. The init itself, or a zero p, leaves Named unset.
func (c Container) WithNamed(p ProcRef) Container {
	if p.PID <= 0 || p.PID == c.PID {
		c.Named = ProcRef{}
		return c
	}
	c.Named = p
	return c
}

// Target names c the way the CLI takes a TARGET and the action log writes
// it: its boxtui name, else "pid:" and its init's host PID.
func (c Container) Target() string {
	if c.Name != "" {
		return c.Name
	}
	return "pid:" + strconv.Itoa(c.PID)
}

// Snapshot is the result of one scan.
type Snapshot struct {
	Host       NSSet       // boxtui's own namespaces, the "host" reference
	Containers []Container // sorted by init start time, then PID
	// Warnings are problems that did not stop the scan (an unreadable state
	// file, not being root).
	Warnings []error
	Took     time.Duration
}

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
	host NSSet
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
	entries []procDirEntry
	ns      []uint64
}

// parentCache is the parent PID namespace of the init that started at
// start.
type parentCache struct {
	start  uint64
	parent uint64
}

// maxQuiet bounds how many passes in a row skip the /proc listing, so even
// a change the last-PID check could not see shows within that many
// refreshes.
const maxQuiet = 15

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
	status  Status
	command string
	// ns is the process's namespace set, read once: a process changes its
	// namespaces in practice only on the way to an exec (unshare, nsenter),
	// and exec changes comm, which drops this entry.
	ns NSSet
}

// NewScanner returns a scanner of /proc.
func NewScanner() *Scanner {
	return &Scanner{proc: "/proc", cache: map[int]procCache{}, pidNS: map[int]pidNSCache{}, lastPID: -1}
}

// Scan does one pass over /proc.
func Scan(opts ScanOptions) (Snapshot, error) {
	s := NewScanner()
	s.oneShot = true
	return s.Scan(opts)
}

// HostNamespaces returns the namespaces boxtui itself runs in.
func HostNamespaces() NSSet {
	return readNSSet("/proc/self/ns", AllNSTypes())
}

// ReadNamespaces reads every namespace link of pid; unreadable ones are 0.
// It fails only when the process does not exist.
func ReadNamespaces(pid int) (NSSet, error) {
	dir := fmt.Sprintf("/proc/%d/ns", pid)
	if _, err := os.Lstat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return NSSet{}, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
	}
	return readNSSet(dir, AllNSTypes()), nil
}

// ErrNoProcess is returned when a PID names no process.
var ErrNoProcess = errors.New("no such process")

func readNSSet(dir string, types []NSType) NSSet {
	var s NSSet
	for _, t := range types {
		s[t] = readNSLink(dir + "/" + t.String())
	}
	return s
}

func readNSLink(path string) uint64 {
	link, err := os.Readlink(path)
	if err != nil {
		return 0
	}
	base := path[strings.LastIndexByte(path, '/')+1:]
	ino, err := ParseNSLink(link, base)
	if err != nil {
		return 0
	}
	return ino
}

type rawProc struct {
	pid     int
	pidNS   uint64
	hasStat bool
	stat    Stat
	cache   procCache
}

// Scan does one pass over /proc and groups processes by PID namespace.
func (s *Scanner) Scan(opts ScanOptions) (Snapshot, error) {
	began := time.Now()
	snap := Snapshot{Host: s.host}
	if snap.Host[NSPID] == 0 {
		snap.Host = readNSSet(s.proc+"/self/ns", AllNSTypes())
		if !s.oneShot {
			s.host = snap.Host
		}
	}
	hostPID := snap.Host[NSPID]
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
	boot := bootTime()
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
			pc = parentCache{start: c.StartTime, parent: parentPIDNS(fmt.Sprintf("%s/%d/ns/pid", s.proc, c.PID))}
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

// finishSnapshot ends every scan the same way: boxtui's states matched to
// the containers found (with exited ones when asked), oldest first, and
// the time the scan took.
func finishSnapshot(snap *Snapshot, exited bool, began time.Time) {
	states, errs := ListStates()
	snap.Warnings = append(snap.Warnings, errs...)
	matchStates(snap, states, exited)
	matchMountRecords(snap)
	nameEngineContainers(snap)
	sort.Slice(snap.Containers, func(i, j int) bool {
		a, b := snap.Containers[i], snap.Containers[j]
		if a.StartTime != b.StartTime {
			return a.StartTime < b.StartTime
		}
		return a.PID < b.PID
	})
	snap.Took = time.Since(began)
}

// quietSinceLastPass reports whether no process can have appeared since the
// last full pass, so the pass may reread the processes it found instead of
// listing /proc. The kernel gives every new process (and thread) the next
// PID of every PID namespace it is visible in, and /proc/loadavg shows the
// last one given in boxtui's: while it stands still, nothing was created.
// Nothing can join a PID namespace or get a recycled PID without being
// created, and processes that exit or exec are seen by rereading their stat
// lines. The full pass must have read the same last PID twice in a row: a
// fork that took its PID just before the first read may not have been in
// /proc yet when that pass listed it; a second later it is.
func (s *Scanner) quietSinceLastPass() bool {
	if s.oneShot {
		return false
	}
	last, ok := s.lastAllocatedPID()
	if ok && s.listed && last == s.lastPID && s.calm >= 2 && s.quiet < maxQuiet {
		s.quiet++
		return true
	}
	switch {
	case !ok:
		s.calm = 0
	case last == s.lastPID && s.listed:
		s.calm++
	default:
		s.calm = 1
	}
	s.lastPID, s.quiet = last, 0
	return false
}

// lastAllocatedPID reads the last field of /proc/loadavg: the PID most
// recently handed out in the reader's PID namespace. It is only a measure of
// what s.proc lists when that procfs belongs to boxtui's own PID namespace,
// which /proc/self naming boxtui's PID proves.
func (s *Scanner) lastAllocatedPID() (int, bool) {
	if s.ownProc == 0 {
		s.ownProc = -1
		if self, err := os.Readlink(s.proc + "/self"); err == nil && self == strconv.Itoa(os.Getpid()) {
			s.ownProc = 1
		}
	}
	if s.ownProc < 0 {
		return 0, false
	}
	var b [128]byte
	buf := b[:0]
	data, err := readFileInto(s.proc+"/loadavg", &buf)
	if err != nil {
		return 0, false
	}
	data = bytes.TrimSpace(data)
	return atoiPID(data[bytes.LastIndexByte(data, ' ')+1:])
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
	var entries []procDirEntry
	var err error
	if s.oneShot {
		entries, err = readProcDir(s.proc)
	} else {
		if s.dirBuf == nil {
			s.dirBuf = make([]byte, 32<<10)
		}
		entries, err = readProcDirInto(s.proc, s.dirBuf, s.entries[:0])
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
		if c, ok := s.pidNS[e.pid]; ok && c.dirIno == e.ino {
			ino = c.pidNS
			c.gen = s.gen
			s.pidNS[e.pid] = c
			cached++
		}
		ns = append(ns, ino)
	}
	if !s.oneShot {
		s.ns = ns
	}
	workers := goruntime.GOMAXPROCS(0)
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
			pid := entries[i].pid
			base := s.proc + "/" + strconv.Itoa(pid)
			ino := ns[i]
			if ino == 0 {
				ino = readNSLink(base + "/ns/pid")
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
			s.pidNS[e.pid] = pidNSCache{dirIno: e.ino, pidNS: l.pidNS, gen: s.gen}
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
	data, err := readFileInto(base+"/stat", buf)
	if err != nil {
		return false
	}
	st, err := ParseStat(data)
	if err != nil {
		return false
	}
	p.stat, p.hasStat = st, true
	return true
}

// details fills in the status and command line of p, from the cache when
// the same process (PID, start time and name: exec changes the name) was
// read before.
func (s *Scanner) details(p *rawProc, buf *[]byte) bool {
	if p.cache.start != 0 {
		return true
	}
	base := s.proc + "/" + strconv.Itoa(p.pid)
	if !p.hasStat && !s.readStat(p, base, buf) {
		return false
	}
	if c, ok := s.cache[p.pid]; ok && c.start == p.stat.StartTime && c.comm == p.stat.Comm {
		p.cache = c
		return true
	}
	data, err := readFileInto(base+"/status", buf)
	if err != nil {
		return false
	}
	status, err := ParseStatus(bytes.NewReader(data))
	if err != nil {
		return false
	}
	cmd, full := p.stat.Comm, false
	if data, err := readFileInto(base+"/cmdline", buf); err == nil {
		if args := ParseCmdline(data); len(args) > 0 {
			cmd, full = strings.Join(args, " "), true
		}
	}
	p.cache = procCache{start: p.stat.StartTime, comm: p.stat.Comm, status: status, command: cmd}
	// An exec sets the new name before the new command line is in place:
	// caught in between, cmdline reads empty. Remember only a whole
	// answer, or the process would keep its bare name for good.
	if full {
		s.cache[p.pid] = p.cache
	}
	return true
}

// processNS returns the namespaces of p, read once per process (see
// procCache.ns).
func (s *Scanner) processNS(p *rawProc) NSSet {
	if p.cache.ns[NSPID] != 0 {
		return p.cache.ns
	}
	ns := readNSSet(s.proc+"/"+strconv.Itoa(p.pid)+"/ns", AllNSTypes())
	if ns[NSPID] != 0 && p.cache.start != 0 {
		p.cache.ns = ns
		s.cache[p.pid] = p.cache
	}
	return ns
}

// findInit picks the init of a PID namespace: the process that is PID 1 in
// it. The init is the namespace's first process, so the oldest one (or, when
// start times were not read, the lowest PID) is checked first; only if that
// guess fails (PIDs wrapped around) are all statuses read.
func (s *Scanner) findInit(procs []rawProc, buf *[]byte) int {
	guess := 0
	for i, p := range procs {
		g := procs[guess]
		if p.stat.StartTime < g.stat.StartTime || (p.stat.StartTime == g.stat.StartTime && p.pid < g.pid) {
			guess = i
		}
	}
	if s.details(&procs[guess], buf) && procs[guess].cache.status.InnerPID() == 1 {
		return guess
	}
	best := -1
	for i := range procs {
		if !s.details(&procs[i], buf) {
			continue
		}
		in := procs[i].cache.status.InnerPID()
		if in == 1 {
			return i
		}
		if in > 0 && (best < 0 || in < procs[best].cache.status.InnerPID()) {
			best = i
		}
	}
	if best < 0 {
		return guess // nothing readable: the oldest is the best we know
	}
	return best
}

// buildContainer describes the container of one PID namespace; ok is false
// when its init is a zombie. An init only becomes one after every other
// process of its namespace is gone, so the container has ended; its parent
// (often the host's PID 1, which may reap late) just has not reaped it yet.
func (s *Scanner) buildContainer(procs []rawProc, opts ScanOptions, boot time.Time, buf *[]byte) (c Container, ok bool) {
	initIdx := s.findInit(procs, buf)
	init := procs[initIdx]
	if c, ok = s.describeInit(init, len(procs), boot, buf); !ok {
		return Container{}, false
	}
	c.Procs = make([]Process, 0, len(procs))
	for i := range procs {
		p := &procs[i]
		pr := Process{
			PID:       p.pid,
			PPID:      p.stat.PPid,
			Comm:      p.stat.Comm,
			Command:   p.stat.Comm,
			StartTime: p.stat.StartTime,
			CPUTicks:  p.stat.UTime + p.stat.STime,
			RSSBytes:  p.stat.RSSPages * int64(pageSize),
		}
		if i == initIdx || opts.ProcessNamespaces {
			s.details(p, buf)
		}
		if p.cache.start != 0 {
			pr.InnerPID = p.cache.status.InnerPID()
			pr.UID = p.cache.status.UID
			pr.Command = p.cache.command
		}
		switch {
		case p.pid == init.pid:
			pr.Namespaces = c.Namespaces
		case opts.ProcessNamespaces:
			pr.Namespaces = s.processNS(p)
		default:
			pr.Namespaces[NSPID] = p.pidNS
		}
		c.Procs = append(c.Procs, pr)
	}
	sort.Slice(c.Procs, func(i, j int) bool {
		a, b := c.Procs[i], c.Procs[j]
		if (a.PID == init.pid) != (b.PID == init.pid) {
			return a.PID == init.pid
		}
		if a.InnerPID != b.InnerPID {
			return a.InnerPID < b.InnerPID
		}
		return a.PID < b.PID
	})
	return c, true
}

// matchStates names the containers boxtui launched and, if asked, adds the
// exited ones. A state names a running container only if the init PID and
// its start time both match: a recycled PID is never mistaken for it.
func matchStates(snap *Snapshot, states []State, exited bool) {
	byPID := map[int]int{}
	for i, c := range snap.Containers {
		byPID[c.PID] = i
	}
	for _, st := range states {
		i, ok := byPID[st.InitPID]
		if ok && st.Status != StatusExited && snap.Containers[i].StartTime == st.InitStart {
			c := &snap.Containers[i]
			c.Name = st.Name
			c.Origin = OriginBoxtui
			c.Mounts = st.Mounts
			// boxtui pivot_roots, so /proc/PID/root reads "/": the rootfs
			// it was launched from says more.
			if c.Root == "/" && st.Rootfs != "" {
				c.Root = st.Rootfs
			}
			if st.HolderPID > 0 && processStartTime(st.HolderPID) == st.HolderStart {
				c.HolderPID = st.HolderPID
			} else if st.HolderPID > 0 {
				noteHolderLost(*c, st)
			}
			continue
		}
		if !exited || st.Status == StatusCreating {
			continue
		}
		c := Container{
			Name:       st.Name,
			PID:        st.InitPID,
			Origin:     OriginBoxtui,
			Command:    strings.Join(st.Command, " "),
			Root:       st.Rootfs,
			Status:     StatusExited,
			ExitCode:   st.ExitCode,
			ExitSignal: st.ExitSignal,
			Started:    st.Created,
			StartTime:  st.InitStart,
			Mounts:     st.Mounts,
		}
		if c.ExitCode == nil && c.ExitSignal == "" {
			c.ExitSignal = "unknown" // the holder died before it could record it
		}
		snap.Containers = append(snap.Containers, c)
	}
}

// noteHolderLost records, once, that a running container's holder died: its
// console is gone, the container lives on. The state's holder PID is
// cleared under the lock, so only one scan (of any boxtui process) writes
// the event. Only root can write state; others just see HolderPID 0.
func noteHolderLost(c Container, st State) {
	if os.Geteuid() != 0 {
		return
	}
	first := false
	err := UpdateState(st.Name, func(cur *State) error {
		if cur.HolderPID != st.HolderPID || cur.InitPID != st.InitPID {
			return errAlreadyNoted
		}
		cur.HolderPID, cur.HolderStart = 0, 0
		first = true
		return nil
	})
	if err == nil && first {
		_ = RecordEvent(c, EventHolderLost, fmt.Sprintf("holder pid %d is gone: the console is lost, the container runs on", st.HolderPID), "")
	}
}

var errAlreadyNoted = errors.New("already noted")

// processStartTime returns the start time of pid, or 0 if it is gone. A
// zombie counts as gone: it has exited, only its parent has not reaped it.
func processStartTime(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	st, err := ParseStat(data)
	if err != nil || st.State == 'Z' {
		return 0
	}
	return st.StartTime
}

// ProcessStartTime returns the start time (clock ticks after boot) of pid.
func ProcessStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			return 0, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
		}
		return 0, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	st, err := ParseStat(data)
	if err != nil {
		return 0, err
	}
	return st.StartTime, nil
}

func parentPIDNS(path string) uint64 {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	pfd, err := unix.IoctlRetInt(fd, unix.NS_GET_PARENT)
	if err != nil {
		return 0
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return 0
	}
	return st.Ino
}

type procDirEntry struct {
	pid int
	ino uint64
}

// readProcDir lists the numeric entries of /proc with their inode numbers,
// straight from getdents64 (os.ReadDir does not hand out inode numbers).
func readProcDir(dir string) ([]procDirEntry, error) {
	return readProcDirInto(dir, make([]byte, 32<<10), make([]procDirEntry, 0, 512))
}

// readProcDirInto is readProcDir with the caller's getdents buffer, appending
// to out: a scanner that lists /proc every second reuses both.
func readProcDirInto(dir string, buf []byte, out []procDirEntry) ([]procDirEntry, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return out, nil
		}
		// struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
		for off := 0; off+19 <= n; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen < 19 || off+reclen > n {
				break
			}
			ino := binary.NativeEndian.Uint64(buf[off:])
			name := buf[off+19 : off+reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if pid, ok := atoiPID(name); ok {
				out = append(out, procDirEntry{pid: pid, ino: ino})
			}
			off += reclen
		}
	}
}

// atoiPID parses a /proc entry name that is all digits.
func atoiPID(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

// readFileInto reads a small /proc file into a reused buffer. The result
// is only valid until the next call with the same buffer.
func readFileInto(path string, buf *[]byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		b = b[:len(b)+n]
		// /proc files are made whole on the first read: a read that did
		// not fill the buffer got everything, so skip the read of EOF.
		if len(b) < cap(b) {
			break
		}
	}
	*buf = b
	return b, nil
}

var (
	bootOnce sync.Once
	bootAt   time.Time
	pageSize = os.Getpagesize()
)

// clockTicks is USER_HZ, which is 100 on every Linux boxtui runs on.
const clockTicks = 100

func ticksToDuration(t uint64) time.Duration {
	return time.Duration(t) * time.Second / clockTicks
}

// bootTime is when the machine booted, from CLOCK_BOOTTIME.
func bootTime() time.Time {
	bootOnce.Do(func() {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err == nil {
			bootAt = time.Now().Add(-time.Duration(ts.Nano()))
		}
	})
	return bootAt
}
