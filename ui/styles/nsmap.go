package styles

import (
	"image/color"
	"slices"

	"charm.land/lipgloss/v2"
)

// The namespace map gives each namespace of a column a slot (0, 1, ...)
// and each slot its own colour: the slots are assigned, so two different
// namespaces on screen never look alike while there are colours left.

// mapColours are the map's slot colours, as 256-colour indexes: the
// well separated inode palette first, then every other colour of the
// 6x6x6 cube that reads on a dark background, in a fixed order that puts
// neighbouring hues apart. None is a grey: grey is the host's.
var mapColours = func() []int {
	out := slices.Clone(inodePalette)
	for i := 0; i < 216; i++ {
		// 97 is prime to 216: this visits every cube colour once.
		idx := (i*97)%216 + 16
		r, g, b := (idx-16)/36, (idx-16)/6%6, (idx-16)%6
		if r+g+b < 4 || (r == g && g == b) || slices.Contains(out, idx) {
			continue // too dark to read, or a grey
		}
		out = append(out, idx)
	}
	return out
}()

// MapColours is how many namespaces of one column the map tells apart by
// colour; past that, colours repeat and only the labels differ.
func MapColours() int { return len(mapColours) }

// MapColour is the 256-colour index of slot n (colours repeat past
// MapColours).
func MapColour(n int) int { return mapColours[max(n, 0)%len(mapColours)] }

func (s Styles) mapColour(n int) color.Color { return lipgloss.ANSIColor(MapColour(n)) }

// MapSlot is the style of a cell holding the namespace of slot n.
func (s Styles) MapSlot(n int) lipgloss.Style {
	if s.NoColor {
		return lipgloss.NewStyle()
	}
	return lipgloss.NewStyle().Foreground(s.mapColour(n))
}

// MapShared is the style of a cell holding the namespace under the cursor
// (slot n; n < 0 for the host's): its colour becomes the background.
func (s Styles) MapShared(n int) lipgloss.Style {
	if s.NoColor {
		return lipgloss.NewStyle().Reverse(true)
	}
	var bg color.Color = lipgloss.ANSIColor(240)
	if n >= 0 {
		bg = s.mapColour(n)
	}
	return lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(16)).Background(bg)
}

// MapCursor is the style of the cell under the cursor (slot n; n < 0 for
// the host's): as a shared one, in white so it stands out among its
// equals (under NO_COLOR the column's title and the row's label, both in
// reverse video, cross there).
func (s Styles) MapCursor(n int) lipgloss.Style {
	if s.NoColor {
		return s.MapShared(n).Bold(true)
	}
	return s.MapShared(n).Foreground(lipgloss.ANSIColor(231))
}
