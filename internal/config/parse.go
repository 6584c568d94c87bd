package config

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// topKeys are the settings a file may have, in the order the docs list them.
var topKeys = []string{"refresh", "rootfs", "theme", "no_color", "keys"}

// Parse reads one config file's contents; name is used in errors. It is the
// whole of the file format, with no I/O, so it can be tested and fuzzed on
// its own.
func Parse(name string, data []byte) (Config, error) {
	l, err := parse(name, data)
	if err != nil {
		return Config{}, err
	}
	cfg, err := merge([]layer{l})
	if err != nil {
		return Config{}, err
	}
	cfg.Files = []string{name}
	return cfg, nil
}

// parse checks the TOML syntax with the full decoder first (it knows every
// rule: duplicate keys, redefined tables, bad escapes), then walks the
// syntax tree itself so that every value keeps its line for errors about
// meaning (an unknown key, a bad duration, a conflicting key binding).
func parse(name string, data []byte) (layer, error) {
	l := layer{file: name}
	if !utf8.Valid(data) {
		return l, &Error{File: name, Line: invalidUTF8Line(data), Msg: "not UTF-8 text"}
	}
	var generic map[string]any
	if err := toml.Unmarshal(data, &generic); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return l, &Error{File: name, Line: line, Msg: "syntax: " + oneLine(strings.TrimPrefix(de.Error(), "toml: "))}
		}
		return l, &Error{File: name, Msg: "syntax: " + oneLine(err.Error())}
	}

	w := walker{file: name}
	w.p.Reset(data)
	var table []string
	for w.p.NextExpression() {
		expr := w.p.Expression()
		switch expr.Kind {
		case unstable.Table:
			table = w.keyParts(expr)
			if err := w.checkTable(table, w.line(expr)); err != nil {
				return l, err
			}
		case unstable.ArrayTable:
			return l, w.errf(w.line(expr), "[[%s]]: arrays of tables are not used in boxtui's config", strings.Join(w.keyParts(expr), "."))
		case unstable.KeyValue:
			path := append(slices.Clone(table), w.keyParts(expr)...)
			if err := w.keyValue(&l, path, expr.Value(), w.line(expr)); err != nil {
				return l, err
			}
		}
	}
	if err := w.p.Error(); err != nil {
		// The decoder above accepted the file, so this is unexpected; still
		// report it rather than trust a half-walked tree.
		return l, &Error{File: name, Msg: "syntax: " + oneLine(err.Error())}
	}
	return l, nil
}

type walker struct {
	file string
	p    unstable.Parser
}

func (w *walker) errf(line int, format string, args ...any) error {
	return &Error{File: w.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// line is the line a node starts on: its first key for tables and
// key/values, its own bytes for values.
func (w *walker) line(n *unstable.Node) int {
	switch n.Kind {
	case unstable.Table, unstable.ArrayTable, unstable.KeyValue:
		it := n.Key()
		if it.Next() {
			return w.line(it.Node())
		}
	}
	if n.Raw.Length == 0 && n.Raw.Offset == 0 {
		return 0
	}
	if int(n.Raw.Offset) > len(w.p.Data()) {
		return 0
	}
	return 1 + bytes.Count(w.p.Data()[:n.Raw.Offset], []byte("\n"))
}

func (w *walker) keyParts(n *unstable.Node) []string {
	var parts []string
	it := n.Key()
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

func (w *walker) checkTable(path []string, line int) error {
	if path[0] == "keys" {
		return nil
	}
	if slices.Contains(topKeys, path[0]) {
		return w.errf(line, "[%s]: %s is a setting, not a table; write %s = ...", strings.Join(path, "."), path[0], path[0])
	}
	return w.errf(line, "unknown table [%s] (known: [keys])", strings.Join(path, "."))
}

// keyValue applies one key = value at path (table prefix + dotted key).
func (w *walker) keyValue(l *layer, path []string, v *unstable.Node, line int) error {
	if vl := w.line(v); vl > 0 {
		line = vl
	}
	if path[0] == "keys" {
		return w.keyBinding(l, path[1:], v, line)
	}
	if len(path) > 1 {
		return w.unknownKey(strings.Join(path, "."), line)
	}
	switch path[0] {
	case "refresh":
		s, err := w.stringValue("refresh", v, line, `a duration such as "1s" or "500ms"`)
		if err != nil {
			return err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return w.errf(line, "refresh: %q is not a duration; write e.g. \"1s\" or \"500ms\"", s)
		}
		if d < MinRefresh || d > MaxRefresh {
			return w.errf(line, "refresh: %s is out of range; use %s to %s", d, MinRefresh, MaxRefresh)
		}
		l.refresh = &d
	case "rootfs":
		s, err := w.stringValue("rootfs", v, line, "an absolute directory path")
		if err != nil {
			return err
		}
		if !filepath.IsAbs(s) {
			return w.errf(line, "rootfs: %q is not an absolute path; boxtui runs from any directory, so write the full path", s)
		}
		s = filepath.Clean(s)
		l.rootfs = &s
	case "theme":
		s, err := w.stringValue("theme", v, line, "a theme name")
		if err != nil {
			return err
		}
		if !slices.Contains(Themes, s) {
			return w.errf(line, "theme: unknown theme %q (known: %s)", s, strings.Join(Themes, ", "))
		}
		l.theme = &s
	case "no_color":
		if v.Kind != unstable.Bool {
			return w.errf(line, "no_color: want true or false, not %s", kindName(v))
		}
		b := string(v.Data) == "true"
		l.noColor = &b
	default:
		return w.unknownKey(path[0], line)
	}
	return nil
}

func (w *walker) unknownKey(key string, line int) error {
	msg := fmt.Sprintf("unknown setting %q (known: %s)", key, strings.Join(topKeys, ", "))
	if s := closest(key, topKeys); s != "" {
		msg = fmt.Sprintf("unknown setting %q, did you mean %q?", key, s)
	}
	return &Error{File: w.file, Line: line, Msg: msg}
}

func (w *walker) stringValue(key string, v *unstable.Node, line int, want string) (string, error) {
	if v.Kind != unstable.String {
		return "", w.errf(line, "%s: want %s in quotes, not %s", key, want, kindName(v))
	}
	return string(v.Data), nil
}

// keyBinding handles everything under [keys]: action = ["k", ...] or
// action = "k"; an inline or sub-table ([keys.mounts]) prefixes its
// actions with the screen name ("mounts.add").
func (w *walker) keyBinding(l *layer, rest []string, v *unstable.Node, line int) error {
	if len(rest) == 0 {
		if v.Kind != unstable.InlineTable {
			return w.errf(line, "keys: want a table of action = [\"key\", ...], not %s", kindName(v))
		}
		return w.inlineBindings(l, nil, v)
	}
	action := strings.Join(rest, ".")
	if v.Kind == unstable.InlineTable {
		return w.inlineBindings(l, rest, v)
	}
	if err := checkActionName(action); err != nil {
		return w.errf(line, "[keys] %v", err)
	}
	var keys []string
	switch v.Kind {
	case unstable.String:
		keys = []string{string(v.Data)}
	case unstable.Array:
		it := v.Children()
		for it.Next() {
			e := it.Node()
			if e.Kind != unstable.String {
				return w.errf(line, "[keys] %s: want key names in quotes, like [\"n\", \"ctrl+n\"], not %s", action, kindName(e))
			}
			keys = append(keys, string(e.Data))
		}
	default:
		return w.errf(line, "[keys] %s: want a list of key names, like [\"n\", \"ctrl+n\"], not %s", action, kindName(v))
	}
	if len(keys) == 0 {
		return w.errf(line, "[keys] %s: no keys given; an action needs at least one key", action)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if err := CheckKey(k); err != nil {
			return w.errf(line, "[keys] %s: %v", action, err)
		}
		if seen[k] {
			return w.errf(line, "[keys] %s: %q is listed twice", action, k)
		}
		seen[k] = true
	}
	if l.keys == nil {
		l.keys = map[string]binding{}
	}
	l.keys[action] = binding{keys: keys, pos: position{File: w.file, Line: line}}
	return nil
}

func (w *walker) inlineBindings(l *layer, prefix []string, v *unstable.Node) error {
	it := v.Children()
	for it.Next() {
		kv := it.Node()
		if kv.Kind != unstable.KeyValue {
			continue
		}
		path := append(slices.Clone(prefix), w.keyParts(kv)...)
		if err := w.keyBinding(l, path, kv.Value(), w.line(kv)); err != nil {
			return err
		}
	}
	return nil
}

// checkActionName keeps action names to what the UI can have: words,
// optionally one "screen." prefix.
func checkActionName(action string) error {
	parts := strings.Split(action, ".")
	if len(parts) > 2 {
		return fmt.Errorf("%q: an action is ACTION or SCREEN.ACTION", action)
	}
	for _, p := range parts {
		if p == "" {
			return fmt.Errorf("%q: empty part in action name", action)
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
				return fmt.Errorf("%q: action names are lowercase words (see docs/keybindings.md)", action)
			}
		}
	}
	return nil
}

func kindName(n *unstable.Node) string {
	switch n.Kind {
	case unstable.String:
		return "a string"
	case unstable.Bool:
		return "a boolean"
	case unstable.Integer:
		return "a number"
	case unstable.Float:
		return "a number"
	case unstable.Array:
		return "a list"
	case unstable.InlineTable:
		return "a table"
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		return "a date/time"
	}
	return strings.ToLower(n.Kind.String())
}

// oneLine keeps an error on one line whatever the decoder said.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func invalidUTF8Line(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}
