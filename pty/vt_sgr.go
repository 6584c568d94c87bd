// SGR (CSI ... m): the pen's attributes and colours.

package pty

import "github.com/charmbracelet/x/ansi"

// sgr applies Select Graphic Rendition parameters to the pen.
func (v *vt) sgr(ps ansi.Params) {
	s := v.pen
	if len(ps) == 0 {
		s = style{}
	}
	for i := 0; i < len(ps); i++ {
		p := ps[i].Param(0)
		switch {
		case p == 0:
			s = style{}
		case p == 1:
			s.attrs |= attrBold
		case p == 2:
			s.attrs |= attrFaint
		case p == 3:
			s.attrs |= attrItalic
		case p == 4:
			kind := uint16(1)
			if ps[i].HasMore() && i+1 < len(ps) {
				i++
				kind = uint16(min(ps[i].Param(1), 5))
			}
			s.attrs &^= attrULMask
			s.attrs |= kind << attrULShift
		case p == 5 || p == 6:
			s.attrs |= attrBlink
		case p == 7:
			s.attrs |= attrReverse
		case p == 8:
			s.attrs |= attrConceal
		case p == 9:
			s.attrs |= attrStrike
		case p == 21:
			s.attrs = s.attrs&^attrULMask | 2<<attrULShift
		case p == 22:
			s.attrs &^= attrBold | attrFaint
		case p == 23:
			s.attrs &^= attrItalic
		case p == 24:
			s.attrs &^= attrULMask
		case p == 25:
			s.attrs &^= attrBlink
		case p == 27:
			s.attrs &^= attrReverse
		case p == 28:
			s.attrs &^= attrConceal
		case p == 29:
			s.attrs &^= attrStrike
		case p == 53:
			s.attrs |= attrOverline
		case p == 55:
			s.attrs &^= attrOverline
		case p >= 30 && p <= 37:
			s.fg = colourIndexed | colour(p-30)
		case p == 38, p == 48, p == 58:
			var c colour
			c, i = extColour(ps, i)
			switch p {
			case 38:
				s.fg = c
			case 48:
				s.bg = c
			default:
				s.ul = c
			}
		case p == 39:
			s.fg = 0
		case p >= 40 && p <= 47:
			s.bg = colourIndexed | colour(p-40)
		case p == 49:
			s.bg = 0
		case p == 59:
			s.ul = 0
		case p >= 90 && p <= 97:
			s.fg = colourIndexed | colour(p-90+8)
		case p >= 100 && p <= 107:
			s.bg = colourIndexed | colour(p-100+8)
		}
	}
	if s != v.pen {
		v.setPen(s)
	}
}

// extColour parses 38;5;n / 38;2;r;g;b and their colon forms (38:5:n,
// 38:2::r:g:b) starting at ps[i]; it returns the colour and the index of
// the last parameter it used.
func extColour(ps ansi.Params, i int) (colour, int) {
	if ps[i].HasMore() {
		// Colon form: the sub-parameters belong to this one parameter.
		sub := []int{}
		j := i + 1
		for ; j < len(ps); j++ {
			sub = append(sub, ps[j].Param(-1))
			if !ps[j].HasMore() {
				break
			}
		}
		if len(sub) >= 2 && sub[0] == 5 {
			return colourIndexed | colour(max(sub[1], 0)&0xff), j
		}
		if len(sub) >= 4 && sub[0] == 2 {
			rgb := sub[len(sub)-3:]
			return rgbColour(rgb[0], rgb[1], rgb[2]), j
		}
		return 0, j
	}
	if i+1 >= len(ps) {
		return 0, i
	}
	switch ps[i+1].Param(0) {
	case 5:
		if i+2 < len(ps) {
			return colourIndexed | colour(ps[i+2].Param(0)&0xff), i + 2
		}
	case 2:
		if i+4 < len(ps) {
			return rgbColour(ps[i+2].Param(0), ps[i+3].Param(0), ps[i+4].Param(0)), i + 4
		}
	}
	return 0, len(ps)
}

func rgbColour(r, g, b int) colour {
	return colourRGB | colour(max(r, 0)&0xff)<<16 | colour(max(g, 0)&0xff)<<8 | colour(max(b, 0)&0xff)
}
