//go:build gendocs

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The docs are generated from the live command tree, inside package main,
// so every subcommand that registers itself in an init() is included:
//
//	go run -tags gendocs ./cmd/boxtui gen-docs --markdown docs/cli.md   (make docs)
//	go run -tags gendocs ./cmd/boxtui gen-docs --man DIR                (make man)
//
// It is built only with the gendocs tag: cobra/doc brings a markdown and a
// man-page renderer whose package initialisation alone cost every boxtui
// command ~3 ms of start-up (measured with GODEBUG=inittrace=1).
//
// TestCLIDocsUpToDate fails when docs/cli.md is stale.
func init() {
	var markdown, manDir string
	cmd := &cobra.Command{
		Use:    "gen-docs",
		Short:  "Write docs/cli.md and man pages from the command tree",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if markdown == "" && manDir == "" {
				return fmt.Errorf("gen-docs: give --markdown FILE and/or --man DIR")
			}
			root := cmd.Root()
			if markdown != "" {
				text, err := cliMarkdown(root)
				if err != nil {
					return err
				}
				if err := os.WriteFile(markdown, text, 0o644); err != nil {
					return fmt.Errorf("write %s: %w", markdown, err)
				}
			}
			if manDir != "" {
				if err := writeManPages(root, manDir); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&markdown, "markdown", "", "write the CLI reference to `FILE`")
	cmd.Flags().StringVar(&manDir, "man", "", "write one man page per command into `DIR`")
	rootCmd.AddCommand(cmd)
}

// prepareDocs adds cobra's lazily created commands (help, completion) so the
// tree is the one users see, and turns off the dated "auto generated"
// footer so the output only changes when the commands do.
func prepareDocs(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultHelpFlag()
	root.InitDefaultVersionFlag()
	root.InitDefaultCompletionCmd()
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			visit(sub)
		}
	}
	visit(root)
}

const cliHeader = `# boxtui command line

<!-- Generated from the cobra command tree by ` + "`make docs`" + `; do not edit.
     cmd/boxtui's TestCLIDocsUpToDate fails when this page is stale. -->

Every action of the terminal UI is also a subcommand. TARGET is a
container's name (boxtui's, or its engine's: docker, podman, LXC, nspawn,
Kubernetes), ORIGIN:NAME when two origins share a name (` + "`docker:web`" + `),
a unique prefix of at least 4 hex digits of an engine's container ID
(ORIGIN:PREFIX for one of only digits), or the host PID of any process in a
container (also ` + "`pid:PID`" + `); a name or prefix two containers share is refused
with the list of how to name each. For exec,
mount, remount, umount and mounts a host PID other than the init's means that
process's own namespaces, root and working directory (nsenter -t PID), a name
or the init's PID the init's. Errors are one
line on stderr (` + "`boxtui: ...`" + `) and exit status 1.

Shell completion: ` + "`boxtui completion bash|zsh|fish`" + ` prints a script
(` + "`make install`" + ` and the Debian package install them). Configuration
files, colour and the log of privileged actions: see [config.md](config.md).

`

// cliMarkdown renders every visible command into one page, parents before
// children, with the SEE ALSO links turned into anchors within the page.
func cliMarkdown(root *cobra.Command) ([]byte, error) {
	prepareDocs(root)
	var buf bytes.Buffer
	buf.WriteString(cliHeader)
	buf.WriteString("## Commands\n\n")
	var index func(c *cobra.Command, depth int)
	index = func(c *cobra.Command, depth int) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
				continue
			}
			fmt.Fprintf(&buf, "%s- [%s](#%s) — %s\n", strings.Repeat("  ", depth), sub.CommandPath(), anchor(sub.CommandPath()), sub.Short)
			index(sub, depth+1)
		}
	}
	index(root, 0)
	buf.WriteString("\n")
	link := func(name string) string {
		return "#" + anchor(strings.ReplaceAll(strings.TrimSuffix(name, ".md"), "_", " "))
	}
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if c != root && (!c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand()) {
			return nil
		}
		var page bytes.Buffer
		if err := doc.GenMarkdownCustom(c, &page, link); err != nil {
			return fmt.Errorf("generate docs for %q: %w", c.CommandPath(), err)
		}
		buf.Write(demoteHeadings(page.Bytes()))
		buf.WriteString("\n")
		for _, sub := range c.Commands() {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// anchor is the fragment GitHub gives a heading: lower case, spaces to
// dashes, punctuation dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// demoteHeadings nests cobra's per-command page under the page title:
// "## boxtui ls" becomes "### boxtui ls", its sections "####".
func demoteHeadings(page []byte) []byte {
	lines := strings.Split(string(page), "\n")
	inFence := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			inFence = !inFence
		}
		if !inFence && strings.HasPrefix(l, "#") {
			lines[i] = "#" + l
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// writeManPages writes boxtui.1, boxtui-ls.1, ... into dir. The date is
// SOURCE_DATE_EPOCH when set (reproducible packages), else today.
func writeManPages(root *cobra.Command, dir string) error {
	prepareDocs(root)
	date := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", s)
		}
		date = time.Unix(sec, 0).UTC()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	header := &doc.GenManHeader{
		Title:   "BOXTUI",
		Section: "1",
		Date:    &date,
		Source:  "boxtui " + version,
		Manual:  "boxtui manual",
	}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("write man pages to %s: %w", filepath.Clean(dir), err)
	}
	return nil
}
