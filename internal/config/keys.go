package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// keyNames are the named keys the UI's key events print as (bubbletea v2's
// Key.String), so a binding written here matches what a key press reports.
var keyNames = map[string]bool{
	"up": true, "down": true, "left": true, "right": true,
	"enter": true, "esc": true, "tab": true, "backspace": true, "space": true,
	"delete": true, "insert": true, "home": true, "end": true,
	"pgup": true, "pgdown": true, "begin": true, "find": true, "select": true,
}

// modifiers in the order bubbletea prints them ("ctrl+alt+shift+a").
var modifiers = []string{"ctrl", "alt", "shift", "meta", "hyper", "super"}

// CheckKey reports whether k is a key name the UI can match: an optional
// chain of modifiers in bubbletea's order (ctrl, alt, shift, meta, hyper,
// super), then one character or a named key ("enter", "pgup", "f5").
func CheckKey(k string) error {
	if k == "" {
		return fmt.Errorf("empty key name")
	}
	rest := k
	last := -1
	for {
		i := strings.IndexByte(rest, '+')
		if i <= 0 || i == len(rest)-1 {
			break
		}
		mod := rest[:i]
		idx := -1
		for j, m := range modifiers {
			if m == mod {
				idx = j
			}
		}
		if idx < 0 {
			return fmt.Errorf("%q: unknown modifier %q (known: %s)", k, mod, strings.Join(modifiers, ", "))
		}
		if idx <= last {
			return fmt.Errorf("%q: write modifiers in the order %s", k, strings.Join(modifiers, "+"))
		}
		last = idx
		rest = rest[i+1:]
	}
	if utf8.RuneCountInString(rest) == 1 {
		r, _ := utf8.DecodeRuneInString(rest)
		if r == ' ' {
			return fmt.Errorf("%q: write the space bar as \"space\"", k)
		}
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return fmt.Errorf("%q: not a printable key", k)
		}
		return nil
	}
	if keyNames[rest] {
		return nil
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(rest, "f")); err == nil && rest == "f"+strconv.Itoa(n) && n >= 1 && n <= 63 {
		return nil
	}
	return fmt.Errorf("%q: unknown key %q; use one character or a name such as enter, esc, tab, space, up, pgdown, f5", k, rest)
}
