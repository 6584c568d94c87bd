package discovery

import (
	"bytes"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"boxtui/runtime/namespace"
	"boxtui/runtime/procfs"
	"boxtui/runtime/state"
)

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
	data, err := procfs.ReadFileInto(base+"/status", buf)
	if err != nil {
		return false
	}
	status, err := procfs.ParseStatus(bytes.NewReader(data))
	if err != nil {
		return false
	}
	cmd, full := p.stat.Comm, false
	if data, err := procfs.ReadFileInto(base+"/cmdline", buf); err == nil {
		if args := procfs.ParseCmdline(data); len(args) > 0 {
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
func (s *Scanner) processNS(p *rawProc) namespace.Set {
	if p.cache.ns[namespace.PID] != 0 {
		return p.cache.ns
	}
	ns := namespace.ReadSet(s.proc + "/" + strconv.Itoa(p.pid))
	if ns[namespace.PID] != 0 && p.cache.start != 0 {
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
			RSSBytes:  p.stat.RSSPages * int64(procfs.PageSize),
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
			pr.Namespaces[namespace.PID] = p.pidNS
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

// describeInit is buildContainer without the process list: the container
// whose init is init (its details read) and which has procs processes.
func (s *Scanner) describeInit(init rawProc, procs int, boot time.Time, buf *[]byte) (c Container, ok bool) {
	if init.hasStat && init.stat.State == 'Z' {
		return Container{}, false // see buildContainer
	}
	base := s.proc + "/" + strconv.Itoa(init.pid)
	c = Container{
		PID:        init.pid,
		Command:    init.cache.command,
		Comm:       init.stat.Comm,
		Processes:  procs,
		Namespaces: namespace.ReadSet(base),
		StartTime:  init.stat.StartTime,
		Started:    boot.Add(procfs.TicksToDuration(init.stat.StartTime)),
		Status:     state.StatusRunning,
		Origin:     OriginUnshare,
	}
	if c.Command == "" {
		c.Command = init.stat.Comm
	}
	if root, err := os.Readlink(base + "/root"); err == nil {
		c.Root = root
	}
	if data, err := procfs.ReadFileInto(base+"/cgroup", buf); err == nil {
		c.Origin, c.engine = originAndEngine(s.proc, data, init.stat.PPid, init.stat.StartTime, buf)
		c.engine.PID = c.PID
	}
	return c, true
}
