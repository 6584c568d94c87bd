package keymap

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
)

// Names lists every binding's name, "screen.action" in lower case
// ("list.launch", "mounts.flip", "pane.release"): the names a config file
// rebinds keys by.
func (k *KeyMap) Names() []string {
	var out []string
	k.each(func(name string, _ *key.Binding) { out = append(out, name) })
	sort.Strings(out)
	return out
}

// Rebind gives the binding called name new keys (as bubbletea spells them:
// "ctrl+a", "enter", "x"). The help shows the first key.
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
	found.SetKeys(keys...)
	found.SetHelp(strings.Join(keys, "/"), found.Help().Desc)
	return nil
}

func (k *KeyMap) each(fn func(name string, b *key.Binding)) {
	km := reflect.ValueOf(k).Elem()
	for i := 0; i < km.NumField(); i++ {
		screen := km.Field(i)
		sname := strings.ToLower(km.Type().Field(i).Name)
		for j := 0; j < screen.NumField(); j++ {
			b, ok := screen.Field(j).Addr().Interface().(*key.Binding)
			if !ok {
				continue
			}
			fn(sname+"."+strings.ToLower(screen.Type().Field(j).Name), b)
		}
	}
}
