// Package config reads boxtui's TOML configuration: the refresh interval,
// the default rootfs, the theme, colour, and key bindings.
//
// Two files are read, the system's first so a user's file overrides it:
//
//	/etc/boxtui/config.toml
//	$XDG_CONFIG_HOME/boxtui/config.toml   (default ~/.config/boxtui/config.toml)
//
// Under sudo, HOME is usually root's; when root has no config file of its
// own, the invoking user's (SUDO_USER) file is read instead, so `sudo boxtui`
// looks like the user set it up. Missing files are fine; a file that exists
// but is wrong in any way is an error naming the file and the line, never a
// crash and never silently ignored.
//
// The package knows nothing of the UI: key bindings are plain action names
// mapped to key names, which the UI checks against its own actions with
// Config.ValidateActions or Config.Bindings. It must never import ui.
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SystemPath is the system-wide configuration file.
const SystemPath = "/etc/boxtui/config.toml"

// Themes are the accepted values of theme. "mono" draws without colour, like
// no_color, but is kept apart so a future theme can be monochrome yet styled.
var Themes = []string{"default", "mono"}

// MinRefresh and MaxRefresh bound the refresh interval: faster than 100ms
// only burns CPU re-reading /proc, slower than a minute looks frozen.
const (
	MinRefresh = 100 * time.Millisecond
	MaxRefresh = time.Minute
)

// Config is the merged configuration. The zero value means "all defaults".
type Config struct {
	// Refresh is how often the UI rescans containers; 0 when not set.
	Refresh time.Duration
	// Rootfs is the default root directory for new containers; "" when not set.
	Rootfs string
	// Theme is one of Themes; "" when not set.
	Theme string
	// NoColor turns colour off, spelling out what colour would say.
	NoColor bool
	// Keys maps an action name to the keys that trigger it, replacing that
	// action's default keys. Action names are the UI's (see
	// docs/keybindings.md): a bare name ("launch") acts on the container
	// list, "SCREEN.ACTION" ("mounts.add") on another screen.
	Keys map[string][]string
	// Files are the files that were read, lowest precedence first.
	Files []string

	// keyOrigin says where each action of Keys was bound, for errors that
	// come up only once the UI checks them.
	keyOrigin map[string]position
}

// position is a place in a config file.
type position struct {
	File string
	Line int
	seq  int // files in precedence order, then lines: for a stable error order
}

// Error is a problem in a config file. It prints as one line,
// "FILE:LINE: what is wrong", so editors and people can jump to it.
type Error struct {
	File string
	Line int // 0 when the problem is the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("config %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("config %s: %s", e.File, e.Msg)
}

// Load reads the default files (DefaultPaths), skipping those that do not
// exist.
func Load() (Config, error) {
	return load(DefaultPaths(), true)
}

// LoadFrom reads the given files, later ones overriding earlier ones. Every
// file must exist: a path given on purpose (--config) that is missing is a
// mistake worth reporting.
func LoadFrom(paths ...string) (Config, error) {
	return load(paths, false)
}

func load(paths []string, skipMissing bool) (Config, error) {
	var layers []layer
	var files []string
	for _, path := range paths {
		data, err := readConfigFile(path)
		if errors.Is(err, fs.ErrNotExist) && skipMissing {
			continue
		}
		if err != nil {
			return Config{}, err
		}
		l, err := parse(path, data)
		if err != nil {
			return Config{}, err
		}
		layers = append(layers, l)
		files = append(files, path)
	}
	cfg, err := merge(layers)
	if err != nil {
		return Config{}, err
	}
	cfg.Files = files
	return cfg, nil
}

// maxFileSize bounds what is read: a config file is a few hundred bytes, and
// a huge one is a mistake (a log or binary given to --config).
const maxFileSize = 1 << 20

// readConfigFile reads path, refusing a file others could have written:
// boxtui runs as root, and a world-writable config would let any user rebind
// its keys or point its default rootfs elsewhere.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config %s: %w", path, fs.ErrNotExist)
		}
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPathError(err))}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot stat: %v", err)}
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{File: path, Msg: "not a regular file"}
	}
	if os.Geteuid() == 0 {
		if err := checkTrusted(path, fi); err != nil {
			return nil, err
		}
	}
	if fi.Size() > maxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("%d bytes is too big for a config file", fi.Size())}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize))
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", err)}
	}
	return data, nil
}

// checkTrusted refuses, for root, a config file someone else could have
// written: one owned by a user other than root or the sudo caller, or
// writable by others. A group-writable file is fine when the group is the
// owner's private one (gid == uid, Debian's user private groups) or root's.
func checkTrusted(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	sudoUID, _ := strconv.Atoi(os.Getenv("SUDO_UID"))
	if st.Uid != 0 && (os.Getenv("SUDO_UID") == "" || int(st.Uid) != sudoUID) {
		return &Error{File: path, Msg: fmt.Sprintf("owned by uid %d, neither root nor the sudo caller; boxtui runs as root and will not take settings from it", st.Uid)}
	}
	perm := fi.Mode().Perm()
	if perm&0o002 != 0 || perm&0o020 != 0 && st.Gid != st.Uid && st.Gid != 0 {
		return &Error{File: path, Msg: fmt.Sprintf("writable by other users (mode %04o); fix with chmod go-w %s", perm, path)}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// DefaultPaths are the files Load reads, lowest precedence first: the
// system file, then the user's (see the package comment for sudo).
func DefaultPaths() []string {
	paths := []string{SystemPath}
	if p := UserPath(); p != "" {
		paths = append(paths, p)
	}
	return paths
}

// UserPath is the user's config file: $XDG_CONFIG_HOME/boxtui/config.toml,
// else ~/.config/boxtui/config.toml; under sudo, when root has no such file,
// the invoking user's. It is "" when no home directory is known.
func UserPath() string {
	own := ownUserPath()
	sudoUser := os.Getenv("SUDO_USER")
	if os.Geteuid() != 0 || sudoUser == "" || sudoUser == "root" {
		return own
	}
	if own != "" {
		if _, err := os.Stat(own); err == nil {
			return own
		}
	}
	u, err := user.Lookup(sudoUser)
	if err != nil || u.HomeDir == "" {
		return own
	}
	return filepath.Join(u.HomeDir, ".config", "boxtui", "config.toml")
}

func ownUserPath() string {
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "boxtui", "config.toml")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "boxtui", "config.toml")
}

// layer is one parsed file; nil pointers are settings the file left alone.
type layer struct {
	file    string
	refresh *time.Duration
	rootfs  *string
	theme   *string
	noColor *bool
	keys    map[string]binding
}

// binding is one action's keys and where they were set.
type binding struct {
	keys []string
	pos  position
}

// merge folds the layers in order and checks the merged key bindings for
// one key bound to two actions of the same screen.
func merge(layers []layer) (Config, error) {
	var cfg Config
	bound := map[string]binding{}
	for i, l := range layers {
		if l.refresh != nil {
			cfg.Refresh = *l.refresh
		}
		if l.rootfs != nil {
			cfg.Rootfs = *l.rootfs
		}
		if l.theme != nil {
			cfg.Theme = *l.theme
		}
		if l.noColor != nil {
			cfg.NoColor = *l.noColor
		}
		for action, b := range l.keys {
			b.pos.seq = i<<32 | b.pos.Line
			bound[action] = b
		}
	}
	if len(bound) == 0 {
		return cfg, nil
	}
	if err := checkConflicts(bound, nil); err != nil {
		return Config{}, err
	}
	cfg.Keys = make(map[string][]string, len(bound))
	cfg.keyOrigin = make(map[string]position, len(bound))
	for action, b := range bound {
		cfg.Keys[action] = append([]string(nil), b.keys...)
		cfg.keyOrigin[action] = b.pos
	}
	return cfg, nil
}

// screenOf is the screen an action belongs to: the part before the first
// dot, "" (the container list) for a bare name. Two actions conflict only
// on the same screen: "n" may launch on the list and answer "no" in a
// question.
func screenOf(action string) string {
	if i := strings.IndexByte(action, '.'); i >= 0 {
		return action[:i]
	}
	return ""
}

// checkConflicts reports the first key bound to two actions of one screen,
// in a stable order. defaults are bindings without a file position (the
// UI's own); they are only consulted for actions bound does not override.
func checkConflicts(bound map[string]binding, defaults map[string][]string) error {
	type owner struct {
		action string
		b      binding
		isDef  bool
	}
	seen := map[string]owner{} // screen + "\x00" + key
	actions := make([]string, 0, len(bound))
	for a := range bound {
		actions = append(actions, a)
	}
	// Order by file position so the error points at the later line.
	sort.Slice(actions, func(i, j int) bool {
		pi, pj := bound[actions[i]].pos, bound[actions[j]].pos
		if pi.seq != pj.seq {
			return pi.seq < pj.seq
		}
		return actions[i] < actions[j]
	})
	defActions := make([]string, 0, len(defaults))
	for a := range defaults {
		if _, overridden := bound[a]; !overridden {
			defActions = append(defActions, a)
		}
	}
	sort.Strings(defActions)
	for _, a := range defActions {
		for _, k := range defaults[a] {
			seen[screenOf(a)+"\x00"+k] = owner{action: a, isDef: true}
		}
	}
	for _, a := range actions {
		b := bound[a]
		for _, k := range b.keys {
			id := screenOf(a) + "\x00" + k
			if prev, ok := seen[id]; ok && prev.action != a {
				where := "by default"
				if !prev.isDef {
					where = fmt.Sprintf("at %s:%d", prev.b.pos.File, prev.b.pos.Line)
				}
				return &Error{File: b.pos.File, Line: b.pos.Line, Msg: fmt.Sprintf(
					"[keys] %q is bound to both %s (%s) and %s; give one of them another key",
					k, prev.action, where, a)}
			}
			seen[id] = owner{action: a, b: b}
		}
	}
	return nil
}

// ValidateActions checks every configured action against the actions the
// UI knows, so a typo ("lanuch") is reported with its file and line instead
// of silently doing nothing.
func (c Config) ValidateActions(known []string) error {
	set := make(map[string]bool, len(known))
	for _, k := range known {
		set[k] = true
	}
	var unknown []string
	for a := range c.Keys {
		if !set[a] {
			unknown = append(unknown, a)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Slice(unknown, func(i, j int) bool {
		pi, pj := c.keyOrigin[unknown[i]], c.keyOrigin[unknown[j]]
		if pi.seq != pj.seq {
			return pi.seq < pj.seq
		}
		return unknown[i] < unknown[j]
	})
	a := unknown[0]
	p := c.keyOrigin[a]
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	msg := fmt.Sprintf("[keys] unknown action %q (known: %s)", a, strings.Join(sorted, ", "))
	if s := closest(a, sorted); s != "" {
		msg = fmt.Sprintf("[keys] unknown action %q, did you mean %q? (see docs/keybindings.md)", a, s)
	}
	return &Error{File: p.File, Line: p.Line, Msg: msg}
}

// Bindings checks the configured keys against the UI's defaults (action ->
// keys) and returns the defaults with the configured actions replaced. It
// fails on an unknown action, or on a configured key that another action of
// the same screen still has by default.
func (c Config) Bindings(defaults map[string][]string) (map[string][]string, error) {
	known := make([]string, 0, len(defaults))
	for a := range defaults {
		known = append(known, a)
	}
	if err := c.ValidateActions(known); err != nil {
		return nil, err
	}
	bound := make(map[string]binding, len(c.Keys))
	for a, keys := range c.Keys {
		bound[a] = binding{keys: keys, pos: c.keyOrigin[a]}
	}
	if err := checkConflicts(bound, defaults); err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(defaults))
	for a, keys := range defaults {
		out[a] = append([]string(nil), keys...)
	}
	for a, keys := range c.Keys {
		out[a] = append([]string(nil), keys...)
	}
	return out, nil
}

// closest returns the known name within two edits of name, if exactly one
// is nearest.
func closest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
