package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"boxtui/internal/testutil"
	"boxtui/runtime/procfs"

	"golang.org/x/sys/unix"
)

// subreaperEnv makes the test binary a child subreaper that never reaps
// what it adopts (as PID 1 of a CI container that does not reap): it runs
// each shell command of the JSON list in the variable, one after the
// other, waits until nothing it started lives on, and prints, as JSON, the
// processes left for it to reap (zombies whose parent it is) and any still
// alive under it.
const subreaperEnv = "BOXTUI_FAULTS_SUBREAPER"

// reapReport is what the subreaper prints.
type reapReport struct {
	Outputs []string `json:"outputs"` // each command's combined output, with its exit code
	Orphans []string `json:"orphans"` // "PID COMM STATE" of every process adopted
	Live    []string `json:"live"`    // descendants still alive at the deadline
}

func subreaperMain(spec string) int {
	var cmds []string
	if err := json.Unmarshal([]byte(spec), &cmds); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "prctl:", err)
		return 2
	}
	var rep reapReport
	for _, c := range cmds {
		cmd := exec.Command("/bin/sh", "-c", c)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run() // reaps its own child only
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		rep.Outputs = append(rep.Outputs, fmt.Sprintf("%s => exit %d: %s", c, code, out.String()))
	}
	// Once no process under us lives, no orphan can arrive any more.
	deadline := time.Now().Add(15 * time.Second)
	for {
		rep.Live = liveDescendants(os.Getpid())
		if len(rep.Live) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, pid := range testutil.Children(os.Getpid()) {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if st, err := procfs.ParseStat(data); err == nil {
			rep.Orphans = append(rep.Orphans, fmt.Sprintf("%d %s %c", pid, st.Comm, st.State))
		}
	}
	json.NewEncoder(os.Stdout).Encode(rep)
	return 0
}

// liveDescendants lists the processes, not zombies, below pid.
func liveDescendants(root int) []string {
	type proc struct {
		ppid  int
		state byte
		comm  string
	}
	procs := map[int]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if st, err := procfs.ParseStat(data); err == nil {
			procs[pid] = proc{st.PPid, st.State, st.Comm}
		}
	}
	var out []string
	for pid, p := range procs {
		if p.state == 'Z' || pid == root {
			continue
		}
		for a, n := p.ppid, 0; a > 1 && n < 64; a, n = procs[a].ppid, n+1 {
			if a == root {
				out = append(out, fmt.Sprintf("%d %s %c", pid, p.comm, p.state))
				break
			}
		}
	}
	return out
}

// underSubreaper runs the shell commands under a non-reaping subreaper
// with the test's state directory and returns its report.
func (c *cli) underSubreaper(cmds ...string) reapReport {
	c.t.Helper()
	spec, _ := json.Marshal(cmds)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append([]string(nil), c.env...), subreaperEnv+"="+string(spec), "B="+c.bin)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("subreaper: %v: %s", err, errb.String())
	}
	var rep reapReport
	if err := json.Unmarshal(out, &rep); err != nil {
		c.t.Fatalf("subreaper printed %q: %v", out, err)
	}
	return rep
}

// TestNoProcessIsLeftForPID1ToReap runs every way of using boxtui that
// ends with its processes (runs with each kind of holder, failed runs,
// execs, kill, rm, ls, mounts) under a subreaper that does not reap: nothing may
// be left for it, neither a zombie nor a process that lives on.
func TestNoProcessIsLeftForPID1ToReap(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	target := "reap-target"
	c.detached(target, rootfs, "/bin/sleep", "1000")
	victim := "reap-victim"
	c.detached(victim, rootfs, "/bin/sleep", "1000")
	r := " --rootfs " + rootfs + " "
	rep := c.underSubreaper(
		`"$B" run --rm`+r+`-- /bin/true`,
		`echo hi | "$B" run --rm`+r+`-- /bin/cat`,
		`"$B" run --rm`+r+`-- /bin/sh -c 'exit 3'`,
		`echo | "$B" run --rm -v /tmp:/mnt`+r+`-- /bin/true`,
		`BOXTUI_OWN_HOLDER=0 "$B" run --rm`+r+`-- /bin/true`,
		`BOXTUI_PREFORK=0 "$B" run --rm`+r+`-- /bin/true`,
		`script -qec '"$B" run --rm`+r+`-- /bin/true' /dev/null`,
		`"$B" run --name reap-kept`+r+`-- /bin/true; "$B" rm reap-kept`,
		`"$B" run --rm`+r+`-- /no/such/command`,
		`"$B" run --rm --rootfs /no/such/rootfs -- /bin/true`,
		`"$B" run --name `+target+r+`-- /bin/true`,
		`"$B" exec `+target+` -- /bin/true`,
		`BOXTUI_FASTEXEC=0 "$B" exec `+target+` -- /bin/true`,
		`"$B" exec -t `+target+` -- /bin/true`,
		`"$B" exec --new-mount-proc `+target+` -- /bin/true`,
		`script -qec '"$B" exec `+target+` -- /bin/true' /dev/null`,
		`"$B" kill -s USR1 `+target,
		`"$B" mount --mkdir `+target+` /tmp /mnt/reap && "$B" remount --ro `+target+` /mnt/reap && "$B" mounts `+target+` && "$B" umount `+target+` /mnt/reap`,
		`"$B" ps `+target+`; "$B" ns $$`,
		`"$B" ls -a; "$B" ls --json; "$B" events `+target,
		`"$B" kill `+victim+`; "$B" rm `+victim,
	)
	if len(rep.Orphans) != 0 || len(rep.Live) != 0 {
		t.Errorf("left for the subreaper to reap: %v; still alive under it: %v\n%s", rep.Orphans, rep.Live, strings.Join(rep.Outputs, "\n"))
	}
	ok := strings.Contains(rep.Outputs[2], "exit 3") && strings.Contains(rep.Outputs[1], "hi")
	for _, o := range rep.Outputs {
		if strings.Contains(o, " mount --mkdir ") || strings.Contains(o, " exec ") {
			ok = ok && strings.Contains(o, "=> exit 0")
		}
	}
	if !ok {
		t.Errorf("runs did not run as expected:\n%s", strings.Join(rep.Outputs, "\n"))
	}
}

// TestDetachedHolderIsTheOnlyProcessLeftForPID1 checks the one exception
// by design: the holder of a `run -d` container outlives its client, so
// its own end is its reaper's; nothing else of the launch is.
func TestDetachedHolderIsTheOnlyProcessLeftForPID1(t *testing.T) {
	c := newCLI(t)
	rootfs := testutil.Rootfs(t)
	r := " --rootfs " + rootfs + " "
	rep := c.underSubreaper(
		`"$B" run -d --name reap-d1`+r+`-- /bin/sleep 1000`,
		`echo | "$B" run -d --name reap-d2 -v /tmp:/mnt`+r+`-- /bin/sleep 1000`,
		`"$B" exec reap-d1 -- /bin/true; "$B" rm -f reap-d1 reap-d2`,
	)
	if len(rep.Orphans) != 2 || len(rep.Live) != 0 {
		t.Fatalf("want exactly the two holders left to reap, got %v (alive: %v)\n%s", rep.Orphans, rep.Live, strings.Join(rep.Outputs, "\n"))
	}
	for _, o := range rep.Orphans {
		comm := filepath.Base(c.bin)
		if len(comm) > 15 {
			comm = comm[:15]
		}
		if f := strings.Fields(o); f[1] != "exe" && f[1] != comm || f[2] != "Z" {
			t.Errorf("left for the subreaper: %s, not a holder of boxtui's", o)
		}
	}
}
