package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
)

// TestNamespaceMapShowsSharing sets up the three cases the namespace map is
// for, with real processes, opens the map in the real binary and reads its
// colours with capture-pane -e:
//   - the seed's second shell: a process in a container's PID namespace
//     with a mount namespace of its own (nsenter --pid + unshare --mount);
//   - two containers sharing one network namespace (the second started
//     with nsenter --net into the first's);
//   - a user-namespaced container (unshare -U -r).
//
// The second shell's pid cell has its container's colour and its mnt cell
// another; the two net cells have one colour, not the host's grey; the
// userns container's user cell is not the host's.
func TestNamespaceMapShowsSharing(t *testing.T) {
	testutil.RequireRoot(t, "starts containers with unshare and nsenter, and the UI as root")
	rootfs := testutil.Rootfs(t)
	// Every container runs "sleep TAGn": the filter keeps only them, so
	// other tests' containers on this machine stay off the map.
	tag := fmt.Sprintf("7%06d", os.Getpid()%1000000)
	arg := func(n int) string { return tag + strconv.Itoa(n) }

	seed := startMapContainer(t, nil, nil, rootfs, "/bin/sleep", arg(1))
	second := testutil.StartSecondShell(t, seed, rootfs, "second", "/bin/sleep", arg(2))
	netA := startMapContainer(t, nil, []string{"--net"}, rootfs, "/bin/sleep", arg(3))
	netB := startMapContainer(t, []string{fmt.Sprintf("--net=/proc/%d/ns/net", netA)}, nil, rootfs, "/bin/sleep", arg(4))
	userns := startMapContainer(t, nil, []string{"--user", "--map-root-user"}, rootfs, "/bin/sleep", arg(5))

	// The kernel's own answers, to check the map against.
	link := func(pid int, ns string) string {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if link(second, "pid") != link(seed, "pid") || link(second, "mnt") == link(seed, "mnt") {
		t.Fatal("the second shell is not in its container's pid namespace with a mnt of its own")
	}
	if link(netA, "net") != link(netB, "net") || link(netA, "net") == link(os.Getpid(), "net") {
		t.Fatal("the two net containers do not share a network namespace of their own")
	}
	if link(userns, "user") == link(os.Getpid(), "user") {
		t.Fatal("the userns container is in the host's user namespace")
	}

	s := Start(t, Options{Width: 160, Height: 40, KeepOpen: true, Env: []string{"BOXTUI_RUN_DIR=" + t.TempDir(), "BOXTUI_LOG=off"}}, Binary(t))
	s.Wait("container(s)", 10*time.Second)
	s.Keys("/")
	s.Type(tag)
	s.Keys("Enter")
	s.Wait("/"+tag, 10*time.Second)
	s.Keys("N")
	s.Wait("namespace map", 5*time.Second)

	var g *mapGrid
	var missing string
	deadline := time.Now().Add(15 * time.Second)
	for {
		g, missing = readMap(s, seed, second, netA, netB, userns)
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the map never showed %s:\n%s", missing, s.Screen())
		}
		time.Sleep(PollInterval)
	}
	screen := s.Screen()

	// The second shell: its container's pid namespace, its own mnt.
	if a, b := g.colour(second, "pid"), g.colour(seed, "pid"); a != b || a == hostGrey {
		t.Errorf("second shell's pid cell is colour %d, its container's %d: want one non-grey colour\n%s", a, b, screen)
	}
	if a, b := g.colour(second, "mnt"), g.colour(seed, "mnt"); a == b {
		t.Errorf("second shell's mnt cell has its container's colour %d: want its own\n%s", a, screen)
	}
	if g.text(second, "pid") != g.text(seed, "pid") || g.text(second, "mnt") == g.text(seed, "mnt") {
		t.Errorf("labels: pid %q/%q, mnt %q/%q\n%s", g.text(second, "pid"), g.text(seed, "pid"), g.text(second, "mnt"), g.text(seed, "mnt"), screen)
	}
	// The two containers in one network namespace.
	if a, b := g.colour(netA, "net"), g.colour(netB, "net"); a != b || a == hostGrey {
		t.Errorf("net cells are colours %d and %d: want one non-grey colour\n%s", a, b, screen)
	}
	if a, b := g.colour(netA, "net"), g.colour(seed, "net"); a == b {
		t.Errorf("the shared net has the host's colour %d, which the seed container is in\n%s", a, screen)
	}
	wantNet := strings.TrimSuffix(strings.TrimPrefix(link(netA, "net"), "net:["), "]")
	if !strings.HasSuffix(g.text(netA, "net"), wantNet) {
		t.Errorf("net cell %q does not name inode %s\n%s", g.text(netA, "net"), wantNet, screen)
	}
	// The user-namespaced container.
	if a, h := g.colour(userns, "user"), g.colour(0, "user"); a == h || h != hostGrey {
		t.Errorf("userns container's user cell is colour %d, the host's %d (want the host's grey %d and another)\n%s", a, h, hostGrey, screen)
	}
	if a := g.colour(seed, "user"); a != hostGrey {
		t.Errorf("the seed container's user cell is colour %d, not the host's grey\n%s", a, screen)
	}

	s.Keys("Escape")
	s.Wait("namespaces of", 5*time.Second)
	s.Keys("q")
	s.Wait("EXIT=0", 5*time.Second)
}

// hostGrey is the colour of the host's namespaces (styles.HostInode).
const hostGrey = 240

// startMapContainer runs `[nsenter NSENTER... --] unshare --pid --fork
// --kill-child --mount-proc=ROOTFS/proc EXTRA... chroot ROOTFS ARGS...`
// and returns the container's init PID once it runs ARGS. Cleanup kills
// the init and waits for unshare (and nsenter) to exit.
func startMapContainer(t *testing.T, nsenter, extra []string, rootfs string, args ...string) int {
	t.Helper()
	argv := []string{"unshare", "--pid", "--fork", "--kill-child", "--mount-proc=" + filepath.Join(rootfs, "proc")}
	argv = append(argv, extra...)
	argv = append(argv, "chroot", rootfs)
	argv = append(argv, args...)
	if len(nsenter) > 0 {
		argv = append(append(append([]string{"nsenter"}, nsenter...), "--"), argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	out := &testutil.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	exited, _, err := testutil.StartTied(cmd)
	if err != nil {
		t.Fatalf("start %s: %v", cmd, err)
	}
	var init *os.Process
	t.Cleanup(func() {
		if init != nil {
			init.Kill()
			init.Release()
		}
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not exit within 10s of SIGKILL to its init", cmd)
		}
	})
	want := strings.Join(args, "\x00") + "\x00"
	pid := 0
	testutil.WaitFor(t, 10*time.Second, func() bool {
		select {
		case <-exited:
			t.Fatalf("%s exited before its container started:\n%s", cmd, out.String())
		default:
		}
		pid = initRunning(cmd.Process.Pid, want)
		return pid > 0
	}, fmt.Sprintf("%s to run %q", cmd, args))
	if p, err := os.FindProcess(pid); err == nil {
		init = p
	}
	return pid
}

// initRunning finds, among the descendants of pid, the PID 1 of a PID
// namespace whose command line is cmdline; 0 when none is yet.
func initRunning(pid int, cmdline string) int {
	for _, c := range children(pid) {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c)); err == nil && string(b) == cmdline && innerPID(c) == 1 {
			return c
		}
		if p := initRunning(c, cmdline); p > 0 {
			return p
		}
	}
	return 0
}

func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// innerPID is pid's PID in its own PID namespace (the last NSpid field).
func innerPID(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "NSpid:"); ok {
			fs := strings.Fields(rest)
			n, _ := strconv.Atoi(fs[len(fs)-1])
			return n
		}
	}
	return 0
}

// mapGrid is the map as read from the screen: each cell's text and colour,
// by row (the PID its label names, 0 for the host) and column title.
type mapGrid struct {
	cells map[int]map[string]mapCell
}

type mapCell struct {
	text   string
	colour int // the 256-colour index of the cell: its background when highlighted, else its foreground; -1 none
}

func (g *mapGrid) colour(pid int, col string) int { return g.cells[pid][col].colour }
func (g *mapGrid) text(pid int, col string) string {
	return g.cells[pid][col].text
}

// readMap captures the screen with its colours and finds the rows of the
// given PIDs (and the host's); missing names what it could not find.
func readMap(s *Session, pids ...int) (*mapGrid, string) {
	raw := s.Tmux("capture-pane", "-e", "-p", "-t", "e2e")
	lines := strings.Split(raw, "\n")
	grid := make([][]styledRune, len(lines))
	for i, l := range lines {
		grid[i] = parseSGR(l)
	}
	plain := func(y int) string {
		var b strings.Builder
		for _, r := range grid[y] {
			b.WriteRune(r.r)
		}
		return b.String()
	}
	// The header: the line with the column titles.
	header := -1
	for y := range grid {
		f := strings.Fields(plain(y))
		if len(f) > 5 && f[0] == "cgroup" && f[1] == "ipc" && f[2] == "mnt" {
			header = y
			break
		}
	}
	if header < 0 {
		return nil, "the header"
	}
	// Column x ranges from the titles.
	hdr := []rune(plain(header))
	type span struct {
		name     string
		from, to int
	}
	var cols []span
	for x := 0; x < len(hdr); x++ {
		if hdr[x] != ' ' && (x == 0 || hdr[x-1] == ' ') {
			end := x
			for end < len(hdr) && hdr[end] != ' ' {
				end++
			}
			cols = append(cols, span{name: string(hdr[x:end]), from: x})
			x = end
		}
	}
	for i := range cols {
		cols[i].to = len(hdr)
		if i+1 < len(cols) {
			cols[i].to = cols[i+1].from - 1
		}
	}
	g := &mapGrid{cells: map[int]map[string]mapCell{}}
	for y := header + 1; y < len(grid); y++ {
		line := []rune(plain(y))
		if len(cols) == 0 || len(line) < cols[0].from {
			continue
		}
		label := strings.Fields(string(line[:cols[0].from]))
		pid := -1
		switch {
		case len(label) > 0 && label[0] == "host":
			pid = 0
		default:
			for _, f := range label[:min(len(label), 2)] {
				if n, err := strconv.Atoi(f); err == nil {
					pid = n
				}
			}
		}
		if pid < 0 {
			continue
		}
		row := map[string]mapCell{}
		for _, c := range cols {
			cell := mapCell{colour: -1}
			var text []rune
			for x := c.from; x < c.to && x < len(grid[y]); x++ {
				r := grid[y][x]
				text = append(text, r.r)
				if cell.colour < 0 && r.r != ' ' {
					cell.colour = r.fg
					if r.bg >= 0 {
						cell.colour = r.bg
					}
				}
			}
			cell.text = strings.TrimSpace(string(text))
			row[c.name] = cell
		}
		g.cells[pid] = row
	}
	want := append([]int{0}, pids...)
	for _, p := range want {
		if _, ok := g.cells[p]; !ok {
			return nil, fmt.Sprintf("a row for PID %d", p)
		}
	}
	return g, ""
}

// styledRune is one cell of a captured line: the character and its
// 256-colour foreground and background (-1: the default).
type styledRune struct {
	r      rune
	fg, bg int
}

// parseSGR splits a line of capture-pane -e into cells, following the SGR
// sequences tmux writes (only colours matter here).
func parseSGR(line string) []styledRune {
	var out []styledRune
	fg, bg := -1, -1
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		if rs[i] == 0x1b && i+1 < len(rs) && rs[i+1] == '[' {
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j < len(rs) && rs[j] == 'm' {
				fg, bg = applySGR(string(rs[i+2:j]), fg, bg)
			}
			i = j
			continue
		}
		out = append(out, styledRune{r: rs[i], fg: fg, bg: bg})
	}
	return out
}

func applySGR(params string, fg, bg int) (int, int) {
	if params == "" {
		return -1, -1
	}
	ps := strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ':' })
	for k := 0; k < len(ps); k++ {
		n, _ := strconv.Atoi(ps[k])
		switch {
		case n == 0:
			fg, bg = -1, -1
		case (n == 38 || n == 48) && k+2 < len(ps) && ps[k+1] == "5":
			c, _ := strconv.Atoi(ps[k+2])
			if n == 38 {
				fg = c
			} else {
				bg = c
			}
			k += 2
		case n == 39:
			fg = -1
		case n == 49:
			bg = -1
		case n >= 30 && n <= 37:
			fg = n - 30
		case n >= 90 && n <= 97:
			fg = n - 90 + 8
		case n >= 40 && n <= 47:
			bg = n - 40
		case n >= 100 && n <= 107:
			bg = n - 100 + 8
		}
	}
	return fg, bg
}
