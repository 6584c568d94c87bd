package ui

import (
	"fmt"
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
