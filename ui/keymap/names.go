package keymap

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
)

// Binding names are what a config file rebinds keys by: the action in
// snake_case, bare for the container list ("launch", "sort_reverse") and
// "screen.action" on the other screens ("mounts.add", "pane.release").

// Names lists every binding's name, sorted.
func (k *KeyMap) Names() []string {
	var out []string
	k.each(func(name string, _ *key.Binding) { out = append(out, name) })
	sort.Strings(out)
	return out
}

// Defaults maps every binding's name to its keys.
func (k *KeyMap) Defaults() map[string][]string {
	out := map[string][]string{}
	k.each(func(name string, b *key.Binding) { out[name] = append([]string(nil), b.Keys()...) })
	return out
}

// Rebind gives the binding called name new keys (as bubbletea spells them:
// "ctrl+a", "enter", "x"). The help shows them joined by "/".
func (k *KeyMap) Rebind(name string, keys ...string) error {
	if len(keys) == 0 {
		return fmt.Errorf("rebind %s: no keys given", name)
	}
	var found *key.Binding
	k.each(func(n string, b *key.Binding) {
		if n == name {
			found = b
		}
	})
	if found == nil {
		return fmt.Errorf("rebind %s: no such key binding (known: %s)", name, strings.Join(k.Names(), ", "))
	}
	if slicesEqual(found.Keys(), keys) {
		return nil // keep the default's nicer help ("↑/k", "1-9")
	}
	found.SetKeys(keys...)
	found.SetHelp(strings.Join(keys, "/"), found.Help().Desc)
	return nil
}

// Apply rebinds every named binding in bindings (as config.Bindings
// returns them).
func (k *KeyMap) Apply(bindings map[string][]string) error {
	names := make([]string, 0, len(bindings))
	for n := range bindings {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := k.Rebind(n, bindings[n]...); err != nil {
			return err
		}
	}
	return nil
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// each calls fn with every binding and its name, in struct order.
func (k *KeyMap) each(fn func(name string, b *key.Binding)) {
	km := reflect.ValueOf(k).Elem()
	for i := 0; i < km.NumField(); i++ {
		screen := km.Field(i)
		prefix := snake(km.Type().Field(i).Name) + "."
		if km.Type().Field(i).Name == "List" {
			prefix = ""
		}
		for j := 0; j < screen.NumField(); j++ {
			b, ok := screen.Field(j).Addr().Interface().(*key.Binding)
			if !ok {
				continue
			}
			fn(prefix+snake(screen.Type().Field(j).Name), b)
		}
	}
}

// snake turns a Go field name into snake_case ("SortReverse" ->
// "sort_reverse").
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
