//go:build gendocs

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"boxtui/internal/testutil"

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

// TestDocsNameTestsThatExist: docs/ and the README cite tests as the
// evidence of a claim (docs/security.md's tables above all); a cited test
// that was renamed, moved or removed leaves a claim without evidence. Each
// name must be a test, fuzz target or benchmark in the repository, and
// when a package is given in parentheses right after it, in that package.
func TestDocsNameTestsThatExist(t *testing.T) {
	root := filepath.Join("..", "..")
	defined := map[string]map[string]bool{} // name -> package dirs
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Z]\w*)\(`)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(p))
		for _, m := range decl.FindAllSubmatch(data, -1) {
			if defined[string(m[1])] == nil {
				defined[string(m[1])] = map[string]bool{}
			}
			defined[string(m[1])][filepath.ToSlash(dir)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append(docs, filepath.Join(root, "README.md"))
	// A name, then optionally more names, then "(dir)".
	cite := regexp.MustCompile(`\b((?:Test|Fuzz|Benchmark)[A-Z]\w*)\b`)
	group := regexp.MustCompile(`((?:(?:Test|Fuzz|Benchmark)[A-Z]\w*(?:, | and )?)+) \(([a-z0-9_/]+)\)`)
	for _, doc := range docs {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cite.FindAllSubmatch(data, -1) {
			if defined[string(m[1])] == nil {
				t.Errorf("%s cites %s, which is not a test in the repository", filepath.Base(doc), m[1])
			}
		}
		for _, m := range group.FindAllSubmatch(data, -1) {
			dir := string(m[2])
			if _, err := os.Stat(filepath.Join(root, dir)); err != nil {
				continue // not a package path: a parenthesised remark
			}
			for _, name := range cite.FindAll(m[1], -1) {
				if dirs := defined[string(name)]; dirs != nil && !dirs[dir] {
					t.Errorf("%s cites %s in %s; it is in %v", filepath.Base(doc), name, dir, keys(dirs))
				}
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
