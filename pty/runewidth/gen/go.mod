module boxtui/pty/runewidth/gen

go 1.26.7

require github.com/mattn/go-runewidth v0.0.30

require github.com/clipperhouse/uax29/v2 v2.7.0 // indirect
