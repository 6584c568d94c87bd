// Package styles holds every colour and text style of the terminal UI. It is
// the only place colours live, so a theme (or NO_COLOR) changes them all in
// one spot. It must never do I/O.
package styles

import (
	"image/color"

	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
)

// Styles are the lipgloss styles the views render with.
type Styles struct {
	// NoColor is set when colours must not carry meaning (NO_COLOR or
	// --no-color): views then spell out what colour would have said.
	NoColor bool

	App          lipgloss.Style
	Title        lipgloss.Style
	Banner       lipgloss.Style
	Header       lipgloss.Style
	Cell         lipgloss.Style
	Selected     lipgloss.Style
	SelectedBlur lipgloss.Style
	Muted        lipgloss.Style
	Section      lipgloss.Style
	Status       lipgloss.Style
	StatusError  lipgloss.Style
	Prompt       lipgloss.Style
	Choice       lipgloss.Style
	ChoiceActive lipgloss.Style
	Filter       lipgloss.Style

	PaneBorder        lipgloss.Style
	PaneBorderFocused lipgloss.Style

	// Copy mode: search matches, the current match, the selection, the
	// copy cursor and the position indicator.
	CopyMatch     lipgloss.Style
	CopyCurrent   lipgloss.Style
	CopySelection lipgloss.Style
	CopyCursor    lipgloss.Style
	CopyInfo      lipgloss.Style

	// HostInode styles a namespace inode that is the host's own.
	HostInode lipgloss.Style

	// Shared and Different mark the namespace diff's verdicts (the words
	// are always written; colour only makes them stand out).
	Shared    lipgloss.Style
	Different lipgloss.Style

	palette []color.Color
}

// inodePalette are well separated 256-colour indexes; each distinct inode
// maps to one of them.
var inodePalette = []int{39, 208, 76, 199, 226, 45, 141, 203, 118, 214, 81, 171, 220, 33, 160, 48}

// New returns the default styles; with noColor every style is plain (bold
// and reverse video stay, since they carry no colour).
func New(noColor bool) Styles {
	if noColor {
		plain := lipgloss.NewStyle()
		return Styles{
			NoColor:           true,
			App:               plain,
			Title:             plain.Bold(true),
			Banner:            plain.Bold(true),
			Header:            plain.Bold(true),
			Cell:              plain,
			Selected:          plain.Reverse(true),
			SelectedBlur:      plain.Underline(true),
			Muted:             plain,
			Section:           plain.Bold(true),
			Status:            plain,
			StatusError:       plain.Bold(true),
			Prompt:            plain.Bold(true),
			Choice:            plain,
			ChoiceActive:      plain.Reverse(true),
			Filter:            plain,
			PaneBorder:        plain,
			PaneBorderFocused: plain.Bold(true),
			CopyMatch:         plain.Underline(true),
			CopyCurrent:       plain.Reverse(true).Underline(true),
			CopySelection:     plain.Reverse(true),
			CopyCursor:        plain.Reverse(true),
			CopyInfo:          plain.Reverse(true),
			HostInode:         plain,
			Shared:            plain,
			Different:         plain.Bold(true),
		}
	}
	s := Styles{
		App:               lipgloss.NewStyle(),
		Title:             lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(213)),
		Banner:            lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(0)).Background(lipgloss.ANSIColor(214)),
		Header:            lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(250)),
		Cell:              lipgloss.NewStyle(),
		Selected:          lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(231)).Background(lipgloss.ANSIColor(62)),
		SelectedBlur:      lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(231)).Background(lipgloss.ANSIColor(238)),
		Muted:             lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(243)),
		Section:           lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(111)),
		Status:            lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(250)),
		StatusError:       lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(203)),
		Prompt:            lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(214)),
		Choice:            lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(250)),
		ChoiceActive:      lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(0)).Background(lipgloss.ANSIColor(214)),
		Filter:            lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(214)),
		PaneBorder:        lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(240)),
		PaneBorderFocused: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(62)),
		CopyMatch:         lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(0)).Background(lipgloss.ANSIColor(44)),
		CopyCurrent:       lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(0)).Background(lipgloss.ANSIColor(213)),
		CopySelection:     lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(0)).Background(lipgloss.ANSIColor(214)),
		CopyCursor:        lipgloss.NewStyle().Reverse(true),
		CopyInfo:          lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(0)).Background(lipgloss.ANSIColor(214)),
		HostInode:         lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(240)),
		Shared:            lipgloss.NewStyle().Foreground(lipgloss.ANSIColor(76)),
		Different:         lipgloss.NewStyle().Bold(true).Foreground(lipgloss.ANSIColor(203)),
	}
	for _, c := range inodePalette {
		s.palette = append(s.palette, lipgloss.ANSIColor(c))
	}
	return s
}

// Inode returns the style of a namespace inode: the same inode always gets
// the same colour, in every view and every run, so equal namespaces are seen
// equal at a glance.
func (s Styles) Inode(ino uint64) lipgloss.Style {
	if s.NoColor || len(s.palette) == 0 {
		return lipgloss.NewStyle()
	}
	// FNV-1a over the inode's bytes: consecutive inodes (namespaces made
	// one after the other) land far apart in the palette.
	h := uint64(14695981039346656037)
	for i := 0; i < 8; i++ {
		h ^= (ino >> (8 * i)) & 0xff
		h *= 1099511628211
	}
	return lipgloss.NewStyle().Foreground(s.palette[h%uint64(len(s.palette))])
}

// Hint is a form field's placeholder as shown: under NO_COLOR, where the
// placeholder's grey is gone, it is put in parentheses so it never looks
// like a value typed in.
func (s Styles) Hint(text string) string {
	if s.NoColor {
		return "(" + text + ")"
	}
	return text
}

// Form returns the huh theme for forms.
func (s Styles) Form() huh.Theme {
	if s.NoColor {
		return huh.ThemeFunc(huh.ThemeBase)
	}
	return huh.ThemeFunc(huh.ThemeCharm)
}
