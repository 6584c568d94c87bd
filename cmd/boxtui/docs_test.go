//go:build gendocs

package main

import (
	"boxtui/internal/testutil"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestCLIDocsUpToDate fails when docs/cli.md no longer matches the command
// tree. Regenerate with `make docs`.
func TestCLIDocsUpToDate(t *testing.T) {
	got, err := cliMarkdown(rootCmd)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatalf("read docs/cli.md: %v (generate it with `make docs`)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("docs/cli.md is stale: run `make docs` and commit it\nfirst difference at line %d:\n  committed: %q\n  generated: %q", i+1, w, g)
		}
	}
}

// Every subcommand a user can run has its own section and index entry.
func TestCLIDocsListEveryCommand(t *testing.T) {
	text, err := cliMarkdown(rootCmd)
	if err != nil {
		t.Fatal(err)
	}
	var check func(c *cobra.Command)
	check = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			path := sub.CommandPath()
			if !bytes.Contains(text, []byte("\n### "+path+"\n")) {
				t.Errorf("no section for %q", path)
			}
			if !bytes.Contains(text, []byte("["+path+"](#"+anchor(path)+")")) {
				t.Errorf("no index entry for %q", path)
			}
			sub.Flags().VisitAll(func(f *pflag.Flag) {
				if !f.Hidden && !bytes.Contains(text, []byte("--"+f.Name)) {
					t.Errorf("%s: flag --%s not documented", path, f.Name)
				}
			})
			check(sub)
		}
	}
	check(rootCmd)
	for _, hidden := range []string{"### boxtui gen-docs", "### boxtui help"} {
		if bytes.Contains(text, []byte(hidden+"\n")) {
			t.Errorf("%q is documented but should not be", hidden)
		}
	}
}

// boxtuiBinary is the binary under test. Completion is tested through a
// real process: cobra binds the completion command to the stdout of the
// first Execute, so in-process runs cannot capture it.
func boxtuiBinary(t *testing.T) string { return testutil.Binary(t) }

// `boxtui completion SHELL` prints a script each shell can load.
func TestCompletionScripts(t *testing.T) {
	bin := boxtuiBinary(t)
	markers := map[string]string{
		"bash": "__start_boxtui",
		"zsh":  "#compdef boxtui",
		"fish": "complete -c boxtui",
	}
	for shell, marker := range markers {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "completion", shell)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("completion %s: %v, stderr %q", shell, err, stderr.String())
		}
		if !bytes.Contains(out, []byte(marker)) {
			t.Errorf("completion %s: no %q in %d bytes", shell, marker, len(out))
		}
	}
	// bash itself accepts the script.
	if _, err := exec.LookPath("bash"); err == nil {
		script, _ := exec.Command(bin, "completion", "bash").Output()
		check := exec.Command("bash", "-n")
		check.Stdin = bytes.NewReader(script)
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("bash -n rejects the completion script: %v\n%s", err, out)
		}
	}
}

func TestManPages(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if err := writeManPages(rootCmd, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"boxtui.1", "boxtui-ls.1", "boxtui-completion-bash.1", "boxtui-config.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(".nh\n.TH \"BOXTUI\" \"1\" \"Nov 2023\"")) {
			t.Errorf("%s starts %q", name, b[:min(len(b), 60)])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "boxtui-gen-docs.1")); err == nil {
		t.Error("hidden gen-docs has a man page")
	}
}
