package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"boxtui/runtime/discovery"
)

func TestMountFlipAddRemove(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("m")
	if len(d.m.mounts.rows) != 3 {
		t.Fatalf("mounts %v", d.m.mounts.rows)
	}
	d.keys("space") // "/" is not boxtui's: refused without a call
	if len(d.b.Calls()) != 0 || !d.m.status.isErr {
		t.Fatalf("flipping an unmanaged mount: calls %v status %q", d.b.Calls(), d.m.status.text)
	}
	d.keys("down", "down", "space")
	if got := d.b.Calls(); !slices.Equal(got, []string{"mount-ro 4242 /data ro=false"}) {
		t.Fatalf("calls %v", got)
	}
	if d.m.mounts.rows[2].ReadOnly {
		t.Fatal("mount list not reloaded after the flip")
	}
	d.keys("a")
	d.typeText("/srv/www")
	d.keys("enter")
	d.typeText("/www")
	d.keys("enter", "enter") // read-only: default yes, submit
	if got := d.b.Calls(); len(got) != 2 || got[1] != "mount-add 4242 /srv/www /www ro=true" {
		t.Fatalf("calls %v", got)
	}
	if d.m.forms.active != nil || len(d.m.mounts.rows) != 4 {
		t.Fatalf("after add: form open %v, mounts %d", d.m.forms.active != nil, len(d.m.mounts.rows))
	}
	// The cursor is on the mount just added, so space or d act on it.
	if mt, ok := d.m.mounts.selected(); !ok || mt.Target != "/www" {
		t.Fatalf("after add the cursor is on %+v, want the new /www", mt)
	}
	d.keys("up", "d", "y") // the fake refuses: the error reaches the status line
	if !d.m.status.isErr || !strings.Contains(d.m.status.text, "remove mount /data from web: fake: not removed") {
		t.Fatalf("status %q", d.m.status.text)
	}
}

func TestMountFormRefusesRelativePath(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("m", "a")
	d.typeText("relative")
	d.keys("enter")
	if d.m.forms.active == nil {
		t.Fatal("form moved on past a relative path")
	}
	if !strings.Contains(d.screen(), "absolute path") {
		t.Fatalf("no error shown:\n%s", d.screen())
	}
	d.keys("esc")
	if d.m.forms.active != nil || len(d.b.Calls()) != 0 {
		t.Fatal("esc did not cancel cleanly")
	}
}

func TestLaunchOffersToCreateMissingRootfs(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.b.rootfs = false
	d.keys("n")
	d.typeText("demo")
	d.keys("enter", "enter", "enter", "enter", "enter")
	d.typeText("/srv:/srv")
	d.keys("enter")
	if d.m.confirm == nil || !strings.Contains(d.m.confirm.prompt, "does not exist") {
		t.Fatalf("no rootfs question; calls %v status %q", d.b.Calls(), d.m.status.text)
	}
	d.keys("y")
	want := []string{
		"create-rootfs /var/lib/boxtui/rootfs",
		"launch demo rootfs=/var/lib/boxtui/rootfs cmd= host= net=false mounts=[{/srv /srv false}]", // read-write, as run -v
	}
	got := d.b.Calls()
	if len(got) < 3 || !slices.Equal(got[:2], want) || !strings.HasPrefix(got[2], "console demo ") {
		t.Fatalf("calls %v", got)
	}
	if len(d.m.panes.all) != 1 || d.m.panes.all[0].kind != paneConsole || d.m.focus != focusPane {
		t.Fatalf("console pane not opened and focused: %d panes", len(d.m.panes.all))
	}
}

// The launch form's bind mounts follow run -v (and docker's -v):
// read-write unless :ro.
func TestParseMountSpecs(t *testing.T) {
	got, err := parseMountSpecs(" /a:/b , /c:/d:rw, /e:/f:ro")
	if err != nil || !slices.Equal(got, []MountSpec{{"/a", "/b", false}, {"/c", "/d", false}, {"/e", "/f", true}}) {
		t.Fatalf("got %v %v", got, err)
	}
	for _, bad := range []string{"/a", "a:/b", "/a:/b:xx", "/a:/b:ro:x"} {
		if _, err := parseMountSpecs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestLaunchedContainerGetsSelected(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("n")
	d.typeText("fresh")
	d.keys("enter", "enter", "enter", "enter", "enter", "enter")
	snap := fakeSnapshot()
	c := snap.Containers[1]
	c.Name, c.PID, c.StartTime, c.Origin = "fresh", 7000, 900, discovery.OriginBoxtui
	snap.Containers = append(snap.Containers, c)
	d.rescanWith(snap)
	if got := d.selectedPID(); got != 7000 {
		t.Fatalf("selected %d, want the launched container 7000", got)
	}
}

func TestFailedLaunchKeepsTheForm(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.b.launchErr = errors.New(`container "web": name already in use`)
	d.keys("n")
	d.typeText("web")
	d.keys("enter", "enter", "enter", "enter", "enter", "enter")
	if !d.m.status.isErr || !strings.Contains(d.m.status.text, "launch web: container \"web\": name already in use") {
		t.Fatalf("status %q", d.m.status.text)
	}
	d.keys("n")
	if d.m.forms.active == nil || d.m.forms.active.name != "web" {
		t.Fatal("the form did not come back with what was typed")
	}
	d.b.launchErr = nil
	d.typeText("2")
	d.keys("enter", "enter", "enter", "enter", "enter", "enter")
	if got := d.b.Calls(); !strings.HasPrefix(got[len(got)-2], "launch web2 ") {
		t.Fatalf("calls %v", got)
	}
	d.keys("ctrl+]", "n")
	if d.m.forms.active == nil || d.m.forms.active.name != "" {
		t.Fatal("after a launch that worked the form should start empty")
	}
}

// Under NO_COLOR a form's placeholder keeps no grey to set it apart, so it
// is shown in parentheses: "> (web)" is a hint, "> web" a value.
func TestNoColorPlaceholdersDoNotLookLikeValues(t *testing.T) {
	d := newDriver(t, 100, 30, Options{NoColor: true})
	d.keys("n")
	if s := d.screen(); !strings.Contains(s, "> (web)") {
		t.Fatalf("the name's placeholder reads like a value:\n%s", s)
	}
	c := newDriver(t, 100, 30, Options{})
	c.keys("n")
	if s := c.screen(); !strings.Contains(s, "> web") || strings.Contains(s, "> (web)") {
		t.Fatalf("with colour the placeholder is its grey text:\n%s", s)
	}
}

// TestFormKeysRightAfterEnterGoToTheNextField: keys typed (or pasted) in
// one burst with Enter reach the fields they were typed for. huh moves to
// the next field through a command whose message would arrive after the
// burst's keys; the burst here is sent before any command runs, as a fast
// typist's or a paste's keys reach Update.
func TestFormKeysRightAfterEnterGoToTheNextField(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("m", "a")
	var cmds []tea.Cmd
	burst := func(keys ...string) {
		for _, k := range keys {
			mod, cmd := d.m.Update(keyPress(k))
			d.m = mod.(Model)
			cmds = append(cmds, cmd)
		}
	}
	for _, r := range "/srv/data" {
		burst(string(r))
	}
	burst("enter")
	for _, r := range "/var/x" {
		burst(string(r))
	}
	if d.m.forms.active == nil {
		t.Fatal("the form closed")
	}
	if d.m.forms.active.source != "/srv/data" || d.m.forms.active.target != "/var/x" {
		t.Fatalf("host path %q, inside path %q: want /srv/data and /var/x", d.m.forms.active.source, d.m.forms.active.target)
	}
	for _, c := range cmds {
		d.run(c)
	}
	// The last field's Enter submits at once too: a key right after it is
	// the list's, not the form's.
	burst("enter", "enter")
	if d.m.forms.active != nil {
		t.Fatalf("form still open after the last field's enter")
	}
}

// TestExitedContainersShowWithAAndXRemovesThem: exited boxtui containers
// are hidden until `a` (as ls -a), listed with how they ended, refuse what
// needs a running container with a line saying so, and x removes them
// after a question; the name is then free.
func TestExitedContainersShowWithAAndXRemovesThem(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.withExited()
	if slices.Contains(d.rowPIDs(), 3900) {
		t.Fatal("an exited container is listed before a")
	}
	if !strings.Contains(d.screen(), "1 exited (a shows)") {
		t.Fatalf("the header does not say an exited container is hidden:\n%s", d.screen())
	}
	d.keys("a")
	i := slices.Index(d.rowPIDs(), 3900)
	if i < 0 {
		t.Fatal("a did not show the exited container")
	}
	for range len(d.rowPIDs()) {
		if d.selectedPID() == 3900 {
			break
		}
		d.keys("up")
	}
	if d.selectedPID() != 3900 {
		t.Fatalf("cannot select the exited container: rows %v", d.rowPIDs())
	}
	if !strings.Contains(d.screen(), "exited(3)") {
		t.Fatalf("the row does not say how it ended:\n%s", d.screen())
	}
	for _, k := range []string{"e", "enter", "m", "p", "d"} {
		d.keys(k)
		if d.m.focus == focusPane || d.m.forms.active != nil || !d.m.status.isErr || !strings.Contains(d.m.status.text, "old has exited(3): nothing runs in it") {
			t.Fatalf("%s on an exited container: status %q", k, d.m.status.text)
		}
	}
	d.keys("x")
	if d.m.confirm == nil || !strings.Contains(d.m.confirm.prompt, "Remove old, which exited(3)?") {
		t.Fatalf("x did not ask to remove: %+v", d.m.confirm)
	}
	d.keys("y")
	if got := d.b.Calls(); !slices.Contains(got, "rm old") || slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, "stop") || strings.HasPrefix(c, "kill") }) {
		t.Fatalf("calls %v", got)
	}
	if slices.Contains(d.rowPIDs(), 3900) {
		t.Fatal("the removed container is still listed")
	}
	d.keys("a")
	if d.m.list.showExited || !strings.Contains(d.m.status.text, "exited containers hidden") {
		t.Fatalf("a again: showExited %v, status %q", d.m.list.showExited, d.m.status.text)
	}
}

// TestHostPathThatDoesNotExistIsSaidInItsField: the mount form and the
// launch form's bind mounts say a missing host path in the field, before
// the rest of the form is filled in; the check is a command, never a stat
// in Update.
func TestHostPathThatDoesNotExistIsSaidInItsField(t *testing.T) {
	d := newDriver(t, 100, 30, Options{})
	d.keys("m", "a")
	d.typeText("/missing/data")
	d.keys("enter")
	if d.m.forms.active == nil || !strings.Contains(d.screen(), "/missing/data does not exist on the host") {
		t.Fatalf("no word on the missing host path in its field:\n%s", d.screen())
	}
	for range len("/missing/data") {
		d.keys("backspace")
	}
	d.typeText("/srv/data")
	d.keys("enter")
	d.typeText("/data")
	if d.m.forms.active == nil || d.m.forms.active.target != "/data" {
		t.Fatalf("an existing host path did not move the form on (target %q)", d.m.forms.active.target)
	}
	d.keys("esc")

	d.keys("n")
	d.typeText("demo")
	d.keys("enter", "enter", "enter", "enter", "enter")
	d.typeText("/srv:/srv,/missing/x:/x")
	d.keys("enter")
	if d.m.forms.active == nil || !strings.Contains(d.screen(), "/missing/x does not exist on the host") {
		t.Fatalf("the launch form did not say the missing mount source:\n%s", d.screen())
	}
	if calls := d.b.Calls(); slices.ContainsFunc(calls, func(c string) bool { return strings.HasPrefix(c, "launch") }) {
		t.Fatalf("launched with a missing host path: %v", calls)
	}
}
