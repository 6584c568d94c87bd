package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"boxtui/internal/config"
)

func TestConfigCommandShowsSettings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.toml")
	text := "refresh = \"2s\"\ntheme = \"mono\"\n[keys]\nlaunch = [\"N\"]\nmounts.add = [\"A\"]\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NO_COLOR", "")
	out, errOut, code := runCLI(t, "--config", p, "config")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{
		"# " + p + " (read)\n",
		"refresh = \"2s\"\n",
		"theme = \"mono\"\n",
		"no_color = false  # in effect now: true\n", // mono has no colour
		"launch = [\"N\"]\n",
		"\"mounts.add\" = [\"A\"]\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A broken config is one line on stderr naming the file and line, exit 1.
func TestConfigCommandBadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(p, []byte("theme = \"mono\"\n\nrefresh = \"soon\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "--config", p, "config")
	want := "boxtui: config " + p + ":3: refresh: \"soon\" is not a duration; write e.g. \"1s\" or \"500ms\"\n"
	if code != 1 || out != "" || errOut != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want stderr %q", code, out, errOut, want)
	}
	_, errOut, code = runCLI(t, "--config", filepath.Join(t.TempDir(), "missing.toml"), "config")
	if code != 1 || !strings.Contains(errOut, "missing.toml: file does not exist") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("missing file: exit %d, stderr %q", code, errOut)
	}
}

func TestColorDisabled(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	configFlags.noColor = false
	if colorDisabled(loadedCfgForTest("default", false)) {
		t.Error("colour off with nothing asking for it")
	}
	t.Setenv("NO_COLOR", "1")
	if !colorDisabled(loadedCfgForTest("", false)) {
		t.Error("NO_COLOR=1 ignored")
	}
	t.Setenv("NO_COLOR", "")
	if !colorDisabled(loadedCfgForTest("", true)) || !colorDisabled(loadedCfgForTest("mono", false)) {
		t.Error("no_color or mono theme ignored")
	}
}

func loadedCfgForTest(theme string, noColor bool) config.Config {
	return config.Config{Theme: theme, NoColor: noColor}
}
