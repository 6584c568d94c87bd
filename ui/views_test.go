package ui

import (
	"fmt"
	"strings"
	"testing"
)

var sizes = [][2]int{{100, 30}, {80, 24}}

// TestViews goldens every screen at the supported sizes.
func TestViews(t *testing.T) {
	cases := []struct {
		name  string
		opts  Options
		steps func(d *driver)
	}{
		{"list", Options{}, func(d *driver) {}},
		{"list_second", Options{}, func(d *driver) { d.keys("down") }},
		{"exited_hidden", Options{}, func(d *driver) { d.withExited() }},
		{"exited_shown", Options{}, func(d *driver) { d.withExited(); d.keys("a") }},
		{"exited_remove", Options{}, func(d *driver) { d.withExited(); d.keys("a", "up", "x") }},
		{"nocolor", Options{NoColor: true}, func(d *driver) {}},
		{"readonly", Options{ReadOnly: true}, func(d *driver) {}},
		{"filter_typing", Options{}, func(d *driver) { d.keys("/"); d.typeText("dock") }},
		{"filter_kept", Options{}, func(d *driver) { d.keys("/"); d.typeText("sleep"); d.keys("enter") }},
		{"sorted", Options{}, func(d *driver) { d.keys("s", "s", "S") }},
		{"processes", Options{}, func(d *driver) { d.keys("p", "down") }},
		{"kill_process", Options{}, func(d *driver) { d.keys("p", "down", "down", "x", "right") }},
		{"kill_container", Options{}, func(d *driver) { d.keys("x") }},
		{"mounts", Options{}, func(d *driver) { d.keys("m", "down", "down") }},
		{"mount_form", Options{}, func(d *driver) { d.keys("m", "a"); d.typeText("/srv/www") }},
		{"launch_form", Options{}, func(d *driver) { d.keys("n"); d.typeText("demo") }},
		{"help", Options{}, func(d *driver) { d.keys("?") }},
		{"attach_error", Options{}, func(d *driver) { d.keys("down", "enter") }},
		{"panes", Options{}, func(d *driver) {
			d.keys("enter")
			d.keys("ctrl+]", "e")
			d.typeText("echo hi")
			d.waitTyped(1, "echo hi")
		}},
		{"pane_list_focus", Options{}, func(d *driver) { d.keys("e", "ctrl+]") }},
		{"usage_history", Options{}, func(d *driver) { d.rescans(12) }},
		{"usage_nocolor", Options{NoColor: true}, func(d *driver) { d.rescans(12) }},
		{"launch_form_nocolor", Options{NoColor: true}, func(d *driver) { d.keys("n") }},
		{"sorted_cpu", Options{}, func(d *driver) { d.keys("s", "s", "s", "s", "s", "s", "s", "S") }},
		// The seed's two shells: init and the nsenter'd one share pid, not mnt.
		{"ns_diff", Options{}, func(d *driver) { d.keys("p", "space", "down", "space") }},
		{"ns_diff_nocolor", Options{NoColor: true}, func(d *driver) { d.keys("p", "space", "down", "space") }},
		{"ns_mark_one", Options{}, func(d *driver) { d.keys("p", "space") }},
		{"tree", Options{}, func(d *driver) { d.keys("t") }},
		{"tree_nested", Options{}, func(d *driver) { d.keys("t", "down", "down") }},
		{"tree_nocolor", Options{NoColor: true}, func(d *driver) { d.keys("t", "down", "down") }},
		{"tree_selected", Options{}, func(d *driver) { d.keys("t", "down", "down", "enter") }},
		{"events", Options{}, func(d *driver) { d.keys("v") }},
		{"events_scrolled", Options{}, func(d *driver) { d.keys("v", "up") }},
		{"events_none", Options{}, func(d *driver) { d.keys("down", "v") }},
	}
	for _, c := range cases {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				d := newDriver(t, sz[0], sz[1], c.opts)
				c.steps(d)
				golden(t, "screen", d.screen())
			})
		}
	}
}

func TestViewTooSmall(t *testing.T) {
	d := newDriver(t, 70, 20, Options{})
	golden(t, "screen", d.screen())
}

// TestHelpShowsEveryKey: the help overlay has every key of every screen,
// at the smallest size the layout supports and a common one; a screen's
// keys taller than the terminal go on in the next column.
func TestHelpShowsEveryKey(t *testing.T) {
	for _, size := range [][2]int{{MinWidth, MinHeight}, {100, 30}} {
		d := newDriver(t, size[0], size[1], Options{})
		d.keys("?")
		screen := d.screen()
		// Keys repeat across screens (esc, ↑/k): each must be there as
		// many times as screens have it.
		want := map[string]int{}
		for _, s := range d.m.keys.Sections() {
			for _, b := range s.Bindings {
				if b.Enabled() {
					want[b.Help().Key]++
				}
			}
		}
		for k, n := range want {
			if got := strings.Count(screen, "  "+k+" "); got < n {
				t.Errorf("%dx%d: help shows %q %d times, want %d (one per screen that has it)", size[0], size[1], k, got, n)
			}
		}
	}
}

// TestViewsInColour keeps one golden of every view with its colours (the
// goldens above strip them): a colour that changes, or a style that no
// longer reaches the screen, fails here.
func TestViewsInColour(t *testing.T) {
	cases := []struct {
		name  string
		steps func(d *driver)
	}{
		{"list", func(d *driver) {}},
		{"filter", func(d *driver) { d.keys("/"); d.typeText("dock") }},
		{"processes", func(d *driver) { d.keys("p", "down") }},
		{"ns_diff", func(d *driver) { d.keys("p", "space", "down", "space") }},
		{"mounts", func(d *driver) { d.keys("m", "down", "down") }},
		{"mount_form", func(d *driver) { d.keys("m", "a"); d.typeText("/srv/www") }},
		{"launch_form", func(d *driver) { d.keys("n") }},
		{"kill_container", func(d *driver) { d.keys("x") }},
		{"help", func(d *driver) { d.keys("?") }},
		{"tree", func(d *driver) { d.keys("t", "down", "down") }},
		{"events", func(d *driver) { d.keys("v") }},
		{"usage", func(d *driver) { d.rescans(12) }},
		{"exited", func(d *driver) { d.withExited(); d.keys("a", "up") }},
		{"readonly", func(d *driver) {}},
		{"panes", func(d *driver) {
			d.keys("enter")
			d.keys("ctrl+]", "e")
			d.typeText("echo hi")
			d.waitTyped(1, "echo hi")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := Options{}
			if c.name == "readonly" {
				opts.ReadOnly = true
			}
			d := newDriver(t, 100, 30, opts)
			c.steps(d)
			golden(t, "screen", d.colourScreen())
		})
	}
}
