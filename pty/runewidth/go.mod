module github.com/mattn/go-runewidth

go 1.26.7
