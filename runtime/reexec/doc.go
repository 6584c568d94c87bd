// Package reexec is the registry of boxtui's hidden stages: the binary
// re-executed with argv[1] "__boxtui-NAME" runs a registered function
// instead of the CLI (the init, the holder, the enter and debug stages).
package reexec
