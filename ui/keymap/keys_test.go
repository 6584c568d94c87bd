package keymap

import (
	"flag"
	"os"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
)

var update = flag.Bool("update", false, "rewrite docs/keybindings.md")

const docPath = "../../docs/keybindings.md"

// TestKeybindingsDocIsCurrent fails when docs/keybindings.md no longer
// matches the key maps: regenerate it with `go run ./ui/keydoc` (or
// `go test ./ui/keymap -update`).
func TestKeybindingsDocIsCurrent(t *testing.T) {
	want := Markdown(DefaultKeyMap())
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("read %s: %v (generate it with `go run ./ui/keydoc`)", docPath, err)
	}
	if string(got) != want {
		t.Fatalf("docs/keybindings.md is stale: run `go run ./ui/keydoc` from the repository root")
	}
}

// TestHelpUsesPlainWords checks that a person scanning the help finds the
// actions by their usual names.
func TestHelpUsesPlainWords(t *testing.T) {
	md := Markdown(DefaultKeyMap())
	for _, w := range []string{"launch", "attach", "exec", "kill", "mount"} {
		if !strings.Contains(md, w) {
			t.Errorf("help never says %q", w)
		}
	}
}

// TestNoKeyBoundTwiceOnAScreen catches a binding shadowed by another on the
// same screen.
func TestNoKeyBoundTwiceOnAScreen(t *testing.T) {
	k := DefaultKeyMap()
	screens := map[string][][]key.Binding{
		"list":      k.List.FullHelp(),
		"processes": k.Processes.FullHelp(),
		"mounts":    k.Mounts.FullHelp(),
		"tree":      k.Tree.FullHelp(),
		"map":       k.Map.FullHelp(),
		"events":    k.Events.FullHelp(),
		"confirm":   k.Confirm.FullHelp(),
		"form":      k.Form.FullHelp(),
		"pane":      k.Pane.FullHelp(),
		"copy_mode": append(k.CopyMode.FullHelp(), k.CopyMode.MoreHelp()),
	}
	for name, groups := range screens {
		seen := map[string]string{}
		for _, g := range groups {
			for _, b := range g {
				for _, key := range b.Keys() {
					if other, dup := seen[key]; dup {
						t.Errorf("%s: key %q is bound to both %q and %q", name, key, other, b.Help().Desc)
					}
					seen[key] = b.Help().Desc
				}
			}
		}
	}
}

func TestRebind(t *testing.T) {
	k := DefaultKeyMap()
	if err := k.Rebind("sort_reverse", "R"); err != nil || k.List.SortReverse.Keys()[0] != "R" {
		t.Fatalf("bare name: %v %v", err, k.List.SortReverse.Keys())
	}
	if err := k.Rebind("pane.release", "ctrl+b"); err != nil {
		t.Fatal(err)
	}
	if got := k.Pane.Release.Keys(); len(got) != 1 || got[0] != "ctrl+b" || k.Pane.Release.Help().Key != "ctrl+b" {
		t.Fatalf("keys %v help %q", got, k.Pane.Release.Help().Key)
	}
	if err := k.Rebind("nosuch", "z"); err == nil || !strings.Contains(err.Error(), "mounts.add") {
		t.Fatalf("unknown name: %v", err)
	}
	if n := len(k.Names()); n < 30 {
		t.Fatalf("only %d names", n)
	}
}

func TestDefaultsNameEveryBinding(t *testing.T) {
	k := DefaultKeyMap()
	d := k.Defaults()
	for _, name := range []string{"launch", "attach", "exec", "kill", "processes", "mounts", "quit", "mounts.add", "mounts.flip", "pane.release", "confirm.next_signal"} {
		if len(d[name]) == 0 {
			t.Errorf("no default keys for %q", name)
		}
	}
	if err := k.Apply(d); err != nil {
		t.Fatal(err)
	}
	if k.List.Up.Help().Key != "↑/k" {
		t.Fatalf("applying the defaults changed the help: %q", k.List.Up.Help().Key)
	}
}
