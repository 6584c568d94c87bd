package ui

import (
	"errors"
	"fmt"
	"path"
	"reflect"
	"runtime"
	"strings"

	"boxtui/runtime/discovery"
	"boxtui/runtime/state"
	"boxtui/ui/keymap"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
)

// formState is an open huh form. Its values live here, on the heap, because
// huh binds fields to pointers and the Model is copied on every update.
type formState struct {
	title    string
	form     *huh.Form
	onSubmit func(m *Model) tea.Cmd

	// launch form
	name, rootfs, command, hostname, mounts string
	net                                     bool
	// mount form
	source, target string
	readOnly       bool

	// hostPaths lists the host paths typed so far (the mount form's
	// source, the launch form's mount sources); each is checked once, by
	// a command, and hostChecks keeps the answers for the fields'
	// validation, which must not stat in Update. A path whose answer has
	// not come yet passes the field and is checked at the launch or
	// mount, as before.
	hostPaths  func() []string
	hostChecks map[string]error
	// checkPath is the backend's check of a host path.
	checkPath func(string) error
}

// hostPathCheckedMsg is the answer to one host path check of a form.
type hostPathCheckedMsg struct {
	form *formState
	path string
	err  error
}

// checkHostPaths asks the backend about every host path of fs it has not
// asked about yet.
func (fs *formState) checkHostPaths() tea.Cmd {
	if fs.hostPaths == nil || fs.checkPath == nil {
		return nil
	}
	if fs.hostChecks == nil {
		fs.hostChecks = map[string]error{}
	}
	var cmds []tea.Cmd
	check := fs.checkPath
	for _, p := range fs.hostPaths() {
		if _, asked := fs.hostChecks[p]; asked {
			continue
		}
		fs.hostChecks[p] = nil // asked: pass until answered
		cmds = append(cmds, func() tea.Msg { return hostPathCheckedMsg{form: fs, path: p, err: check(p)} })
	}
	return tea.Batch(cmds...)
}

// hostPathErr is what the check of host path p said, nil when it is fine
// or not answered yet.
func (fs *formState) hostPathErr(p string) error {
	return fs.hostChecks[path.Clean(strings.TrimSpace(p))]
}

func (f *formState) resize(width int) {
	f.form.WithWidth(min(width-4, 76))
}

func (m Model) newForm(fs *formState, fields ...huh.Field) (tea.Model, tea.Cmd) {
	km := huh.NewDefaultKeyMap()
	km.Quit = key.NewBinding(key.WithKeys("ctrl+c"))
	fs.form = huh.NewForm(huh.NewGroup(fields...)).
		WithTheme(m.st.Form()).
		WithKeyMap(km).
		WithShowHelp(false).
		WithShowErrors(true)
	fs.resize(m.width)
	fs.checkPath = m.backend.CheckHostPath
	m.forms.active = fs
	return m, fs.form.Init()
}

// formResult is what a message did to a form.
type formResult int

const (
	formOpen formResult = iota
	formSubmitted
	formCancelled
)

// update gives msg to the form: it stays open, is submitted or is
// cancelled (keys.Cancel, or huh's own abort).
func (fs *formState) update(msg tea.Msg, keys keymap.Form) (tea.Cmd, formResult) {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, keys.Cancel) {
		return nil, formCancelled
	}
	_, cmd := fs.form.Update(msg)
	cmd = tea.Batch(settleForm(fs.form, cmd), fs.checkHostPaths())
	switch fs.form.State {
	case huh.StateCompleted:
		return cmd, formSubmitted
	case huh.StateAborted:
		return nil, formCancelled
	}
	return cmd, formOpen
}

// updateForm gives msg to the open form and, once it is submitted, runs
// its action on the root.
func (m Model) updateForm(msg tea.Msg) (tea.Model, tea.Cmd) {
	fs := m.forms.active
	cmd, res := fs.update(msg, m.keys.Form)
	switch res {
	case formSubmitted:
		m.forms.active = nil
		return m, tea.Batch(cmd, fs.onSubmit(&m))
	case formCancelled:
		m.forms.active = nil
		m.setStatus("cancelled", false)
		return m, nil
	}
	return m, cmd
}

// settleForm runs, at once and in order, the steps huh takes through
// commands: moving to the next or previous field or group (and submitting
// after the last). huh returns them as commands whose messages would come
// back after any key already queued, so keys typed or pasted in one burst
// with Enter landed in the field just left ("/srv/data" Enter "/var/x"
// gave "/srv/data/var/x" and ""). These steps are pure functions that
// return a message at once; every other command (cursor blinks, the
// caller's) is returned to run as usual.
func settleForm(form *huh.Form, cmd tea.Cmd) tea.Cmd {
	var rest []tea.Cmd
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		if steps > 64 { // a form that steps forever: leave it to the runtime
			rest = append(rest, c)
			continue
		}
		switch formCmdKind(c) {
		case formStep:
			_, next := form.Update(c())
			queue = append(queue, next)
		case formBatch:
			msg := c()
			if batch, ok := msg.(tea.BatchMsg); ok {
				queue = append(queue, batch...)
			} else { // a sequence: keep its order, let the runtime run it
				rest = append(rest, func() tea.Msg { return msg })
			}
		default:
			rest = append(rest, c)
		}
	}
	return tea.Batch(rest...)
}

type formCmd int

const (
	formOther formCmd = iota
	formStep          // huh's NextField, PrevField, nextGroup, prevGroup
	formBatch         // tea.Batch's (or tea.Sequence's) closure
)

// formStepFuncs are huh's step commands, by function name: two of them are
// unexported, so they are known by name rather than by value.
var formStepFuncs = map[string]bool{
	"charm.land/huh/v2.NextField": true,
	"charm.land/huh/v2.PrevField": true,
	"charm.land/huh/v2.nextGroup": true,
	"charm.land/huh/v2.prevGroup": true,
}

// batchFunc is the name of the closure tea.Batch returns for two or more
// commands.
var batchFunc = funcName(tea.Batch(func() tea.Msg { return nil }, func() tea.Msg { return nil }))

func funcName(c tea.Cmd) string {
	f := runtime.FuncForPC(reflect.ValueOf(c).Pointer())
	if f == nil {
		return ""
	}
	return f.Name()
}

func formCmdKind(c tea.Cmd) formCmd {
	switch name := funcName(c); {
	case formStepFuncs[name]:
		return formStep
	case name == batchFunc:
		return formBatch
	}
	return formOther
}

// openLaunchForm asks for what `boxtui run` takes.
func (m Model) openLaunchForm() (tea.Model, tea.Cmd) {
	fs := &formState{
		title:  "launch a container",
		rootfs: m.backend.DefaultRootfs(),
	}
	if m.forms.last != nil {
		// The last launch failed: offer what was typed, to fix and retry.
		last := *m.forms.last
		last.onSubmit, last.form = nil, nil
		fs = &last
	}
	fs.hostChecks = nil // a retry asks afresh: the paths may exist now
	fs.hostPaths = func() []string {
		specs, _ := parseMountSpecs(fs.mounts)
		var out []string
		for _, sp := range specs {
			if p := strings.TrimSpace(sp.Source); path.IsAbs(p) {
				out = append(out, path.Clean(p))
			}
		}
		return out
	}
	fs.onSubmit = func(m *Model) tea.Cmd {
		kept := *fs
		m.forms.last = &kept
		req := LaunchRequest{
			Name:     strings.TrimSpace(fs.name),
			Rootfs:   strings.TrimSpace(fs.rootfs),
			Command:  strings.Fields(fs.command),
			Hostname: strings.TrimSpace(fs.hostname),
			Net:      fs.net,
		}
		req.Mounts, _ = parseMountSpecs(fs.mounts)
		m.setStatus("launching "+req.Name+"…", false)
		return m.launchCmd(req, false)
	}
	return m.newForm(fs,
		huh.NewInput().Title("Name").Value(&fs.name).Placeholder(m.st.Hint("web")).
			Validate(state.ValidateName),
		huh.NewInput().Title("Root filesystem").Value(&fs.rootfs).
			Validate(func(s string) error {
				if !path.IsAbs(strings.TrimSpace(s)) {
					return errors.New("give an absolute path to a directory")
				}
				return nil
			}),
		// Empty means what `boxtui run` picks: bash if the rootfs has it,
		// else sh.
		huh.NewInput().Title("Command").Value(&fs.command).Placeholder(m.st.Hint("/bin/bash, else /bin/sh")),
		huh.NewInput().Title("Hostname").Value(&fs.hostname).Placeholder(m.st.Hint("same as the name")),
		huh.NewConfirm().Title("Own network namespace (no network inside)?").Value(&fs.net).
			Affirmative("yes").Negative("no"),
		huh.NewInput().Title("Bind mounts").Value(&fs.mounts).
			Placeholder(m.st.Hint("/host/dir:/in/container[:ro], … (read-write unless :ro, as run -v)")).
			Validate(func(s string) error {
				specs, err := parseMountSpecs(s)
				if err != nil {
					return err
				}
				for _, sp := range specs {
					if err := fs.hostPathErr(sp.Source); err != nil {
						return err
					}
				}
				return nil
			}),
	)
}

// parseMountSpecs reads "src:dst[:ro|:rw]" items separated by commas;
// mounts are read-write unless marked ro, as with `boxtui run -v` and
// docker's -v.
func parseMountSpecs(s string) ([]MountSpec, error) {
	var out []MountSpec
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("bind mount %q: write /host/dir:/in/container, optionally :ro", item)
		}
		spec := MountSpec{Source: parts[0], Target: parts[1]}
		if len(parts) == 3 {
			switch parts[2] {
			case "ro":
				spec.ReadOnly = true
			case "rw":
			default:
				return nil, fmt.Errorf("bind mount %q: mode %q is neither ro nor rw", item, parts[2])
			}
		}
		if !path.IsAbs(spec.Source) || !path.IsAbs(spec.Target) {
			return nil, fmt.Errorf("bind mount %q: both paths must be absolute", item)
		}
		out = append(out, spec)
	}
	return out, nil
}

type (
	launchedMsg      struct{ name string }
	rootfsMissingMsg struct{ req LaunchRequest }
)

// launchCmd launches req; unless create is set, a missing rootfs comes back
// as a question instead of an error.
func (m Model) launchCmd(req LaunchRequest, create bool) tea.Cmd {
	b := m.backend
	return func() tea.Msg {
		ok, err := b.RootfsExists(req.Rootfs)
		if err != nil {
			return errMsg{fmt.Errorf("check rootfs %s: %w", req.Rootfs, err)}
		}
		if !ok {
			if !create {
				return rootfsMissingMsg{req}
			}
			if err := b.CreateRootfs(req.Rootfs); err != nil {
				return errMsg{fmt.Errorf("create rootfs %s: %w", req.Rootfs, err)}
			}
		}
		name, err := b.Launch(req)
		if err != nil {
			return errMsg{fmt.Errorf("launch %s: %w", req.Name, err)}
		}
		return launchedMsg{name}
	}
}

func (m Model) askCreateRootfs(msg rootfsMissingMsg) (tea.Model, tea.Cmd) {
	m.confirm = &confirmState{
		prompt: fmt.Sprintf("Rootfs %s does not exist. Create it from the host's binaries and launch %s?", msg.req.Rootfs, msg.req.Name),
		onYes: func(m *Model, _ signalChoice) tea.Cmd {
			m.setStatus("creating rootfs "+msg.req.Rootfs+"…", false)
			return m.launchCmd(msg.req, true)
		},
	}
	return m, nil
}

// openMountForm asks for a bind mount to add to c.
func (m Model) openMountForm(c discovery.Container) (tea.Model, tea.Cmd) {
	fs := &formState{title: "add a bind mount to " + containerLabel(c), readOnly: true}
	b := m.backend
	fs.onSubmit = func(m *Model) tea.Cmd {
		src, dst, ro := strings.TrimSpace(fs.source), strings.TrimSpace(fs.target), fs.readOnly
		return func() tea.Msg {
			if err := b.AddMount(c, src, dst, ro); err != nil {
				return errMsg{fmt.Errorf("mount %s onto %s in %s: %w", src, dst, shortLabel(c), err)}
			}
			mode := "read-write"
			if ro {
				mode = "read-only"
			}
			return reloadMounts(b, c, fmt.Sprintf("mounted %s onto %s (%s)", src, dst, mode), path.Clean(dst))
		}
	}
	abs := func(what string) func(string) error {
		return func(s string) error {
			if !path.IsAbs(strings.TrimSpace(s)) {
				return fmt.Errorf("the %s must be an absolute path", what)
			}
			return nil
		}
	}
	fs.hostPaths = func() []string {
		if p := strings.TrimSpace(fs.source); path.IsAbs(p) {
			return []string{path.Clean(p)}
		}
		return nil
	}
	hostPath := func(s string) error {
		if err := abs("host path")(s); err != nil {
			return err
		}
		return fs.hostPathErr(s)
	}
	return m.newForm(fs,
		huh.NewInput().Title("Host path").Value(&fs.source).Placeholder(m.st.Hint("/srv/data")).Validate(hostPath),
		huh.NewInput().Title("Path inside the container").Value(&fs.target).Placeholder(m.st.Hint("/data")).Validate(abs("path inside the container")),
		huh.NewConfirm().Title("Read-only?").Value(&fs.readOnly).Affirmative("yes").Negative("no"),
	)
}

// formHost is the open form, if any, and the launch form as last
// submitted until a launch succeeds: reopening the form after a failure
// starts from it.
type formHost struct {
	active *formState
	last   *formState
}
