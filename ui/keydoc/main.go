// Command keydoc writes docs/keybindings.md from the UI's key maps:
//
//	go run ./ui/keydoc            # from the repository root
//	go run ./ui/keydoc -o FILE
//
// ui/keymap's test fails when the committed page is stale.
package main

import (
	"flag"
	"fmt"
	"os"

	"boxtui/ui/keymap"
)

func main() {
	out := flag.String("o", "docs/keybindings.md", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, []byte(keymap.Markdown(keymap.DefaultKeyMap())), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "keydoc: write %s: %v\n", *out, err)
		os.Exit(1)
	}
}
