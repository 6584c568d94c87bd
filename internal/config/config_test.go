package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const full = `# every setting
refresh = "500ms"
rootfs = "/srv/rootfs/"
theme = "mono"
no_color = true

[keys]
launch = ["n", "ctrl+n"]
quit = ["q", "ctrl+c"]
exec = "e"

[keys.mounts]
add = ["a"]
`

func TestParseFull(t *testing.T) {
	cfg, err := Parse("full.toml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Refresh != 500*time.Millisecond || cfg.Rootfs != "/srv/rootfs" || cfg.Theme != "mono" || !cfg.NoColor {
		t.Errorf("settings = %+v", cfg)
	}
	want := map[string][]string{
		"launch":     {"n", "ctrl+n"},
		"quit":       {"q", "ctrl+c"},
		"exec":       {"e"},
		"mounts.add": {"a"},
	}
	if !reflect.DeepEqual(cfg.Keys, want) {
		t.Errorf("keys = %v, want %v", cfg.Keys, want)
	}
}

func TestParseEquivalentForms(t *testing.T) {
	forms := []string{
		"[keys]\n\"mounts.add\" = [\"a\"]\n",
		"keys.mounts.add = [\"a\"]\n",
		"keys = { mounts = { add = \"a\" } }\n",
		"[keys]\nmounts = { add = [\"a\"] }\n",
	}
	for _, f := range forms {
		cfg, err := Parse("f.toml", []byte(f))
		if err != nil {
			t.Errorf("%q: %v", f, err)
			continue
		}
		if got := cfg.Keys["mounts.add"]; !reflect.DeepEqual(got, []string{"a"}) {
			t.Errorf("%q: keys = %v", f, cfg.Keys)
		}
	}
}

func TestParseEmpty(t *testing.T) {
	cfg, err := Parse("empty.toml", []byte("# nothing\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Refresh != 0 || cfg.Rootfs != "" || cfg.Theme != "" || cfg.NoColor || cfg.Keys != nil {
		t.Errorf("empty file gave %+v", cfg)
	}
}

// Every bad file gives one line naming the file and the line of the mistake.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		want       string
	}{
		{"syntax", "refresh = \"1s\"\ntheme = \n", 2, "syntax"},
		{"unterminated", "refresh = \"1s\"\n\nrootfs = \"/x\n", 3, "syntax"},
		{"duplicate key", "theme = \"mono\"\ntheme = \"default\"\n", 2, "syntax"},
		{"unknown key", "\nrefrsh = \"1s\"\n", 2, `did you mean "refresh"`},
		{"unknown far key", "colour = 3\n", 1, `unknown setting "colour"`},
		{"unknown table", "refresh = \"1s\"\n[ui]\nx = 1\n", 2, "unknown table [ui]"},
		{"setting as table", "[theme]\nname = \"x\"\n", 1, "is a setting, not a table"},
		{"array table", "[[keys]]\n", 1, "arrays of tables"},
		{"dotted unknown", "theme.name = \"x\"\n", 1, `unknown setting "theme.name"`},
		{"wrong type refresh", "refresh = 5\n", 1, "refresh: want a duration"},
		{"bad duration", "\n\nrefresh = \"fast\"\n", 3, `"fast" is not a duration`},
		{"duration range", "refresh = \"1ms\"\n", 1, "out of range"},
		{"wrong type no_color", "no_color = \"yes\"\n", 1, "no_color: want true or false, not a string"},
		{"relative rootfs", "rootfs = \"rootfs\"\n", 1, "not an absolute path"},
		{"unknown theme", "theme = \"neon\"\n", 1, `unknown theme "neon" (known: default, mono)`},
		{"keys not table", "keys = [\"n\"]\n", 1, "keys: want a table"},
		{"key wrong type", "[keys]\nlaunch = 1\n", 2, "want a list of key names"},
		{"key element type", "[keys]\nlaunch = [\"n\", 2]\n", 2, "want key names in quotes"},
		{"no keys", "[keys]\nlaunch = []\n", 2, "no keys given"},
		{"bad key", "[keys]\n\nlaunch = [\"entr\"]\n", 3, `unknown key "entr"`},
		{"bad modifier", "[keys]\nlaunch = [\"cmd+n\"]\n", 2, `unknown modifier "cmd"`},
		{"modifier order", "[keys]\nlaunch = [\"shift+ctrl+n\"]\n", 2, "order"},
		{"literal space", "[keys]\nlaunch = [\" \"]\n", 2, `write the space bar as "space"`},
		{"listed twice", "[keys]\nlaunch = [\"n\", \"n\"]\n", 2, "listed twice"},
		{"bad action", "[keys]\nLaunch = [\"n\"]\n", 2, "lowercase"},
		{"deep action", "[keys.a.b]\nc = [\"n\"]\n", 2, "ACTION or SCREEN.ACTION"},
		{"conflict", "[keys]\nlaunch = [\"n\"]\nkill = [\"x\", \"n\"]\n", 3, `"n" is bound to both launch (at c.toml:2) and kill`},
		{"multiline array", "[keys]\nlaunch = [\n  \"n\",\n  42,\n]\n", 2, "want key names"},
		{"not utf8", "theme = \"default\"\n# \xff\n", 2, "not UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(c.text))
			if err == nil {
				t.Fatalf("no error for %q", c.text)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is %T, not *Error", err, err)
			}
			msg := err.Error()
			if ce.File != "c.toml" || ce.Line != c.line {
				t.Errorf("error %q at %s:%d, want line %d", msg, ce.File, ce.Line, c.line)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not say %q", msg, c.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
			prefix := "config c.toml:"
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
		})
	}
}

// Same key on different screens is no conflict: "n" launches on the list
// and says no in a question.
func TestKeysPerScreen(t *testing.T) {
	_, err := Parse("c.toml", []byte("[keys]\nlaunch = [\"n\"]\n\"confirm.no\" = [\"n\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFromOverrides(t *testing.T) {
	dir := t.TempDir()
	sys := writeFile(t, dir, "system.toml", "refresh = \"2s\"\ntheme = \"mono\"\nno_color = true\n[keys]\nlaunch = [\"n\"]\nkill = [\"x\"]\n")
	usr := writeFile(t, dir, "user.toml", "refresh = \"250ms\"\nno_color = false\n[keys]\nlaunch = [\"N\"]\n")
	cfg, err := LoadFrom(sys, usr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Refresh != 250*time.Millisecond || cfg.Theme != "mono" || cfg.NoColor {
		t.Errorf("merged = %+v", cfg)
	}
	want := map[string][]string{"launch": {"N"}, "kill": {"x"}}
	if !reflect.DeepEqual(cfg.Keys, want) {
		t.Errorf("keys = %v, want %v", cfg.Keys, want)
	}
	if !reflect.DeepEqual(cfg.Files, []string{sys, usr}) {
		t.Errorf("files = %v", cfg.Files)
	}
}

// A user's binding can clash with a system binding the user left alone;
// the error names the user's line and where the other came from.
func TestLoadFromConflictAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	sys := writeFile(t, dir, "system.toml", "[keys]\nkill = [\"x\"]\n")
	usr := writeFile(t, dir, "user.toml", "\n[keys]\nlaunch = [\"x\"]\n")
	_, err := LoadFrom(sys, usr)
	if err == nil || !strings.Contains(err.Error(), usr+":3:") || !strings.Contains(err.Error(), sys+":2") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadFromMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.toml")
	_, err := LoadFrom(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadFromDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadFrom(dir)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadFromUntrustedFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: only root refuses config files others could write")
	}
	t.Setenv("SUDO_UID", "")
	dir := t.TempDir()
	p := writeFile(t, dir, "c.toml", "theme = \"mono\"\n")
	mode := func(m os.FileMode) {
		t.Helper()
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
	owner := func(uid, gid int) {
		t.Helper()
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		uid, gid int
		mode     os.FileMode
		sudoUID  string
		want     string // "" = accepted
	}{
		{0, 0, 0o644, "", ""},
		{0, 0, 0o664, "", ""},                                // root's group
		{0, 0, 0o646, "", "writable by other users"},         // world-writable
		{0, 50, 0o664, "", "writable by other users"},        // a shared group
		{1000, 1000, 0o644, "", "owned by uid 1000"},         // some user
		{1000, 1000, 0o664, "1000", ""},                      // the sudo caller, private group
		{1000, 50, 0o664, "1000", "writable by other users"}, // the sudo caller, shared group
	}
	for _, c := range cases {
		owner(c.uid, c.gid)
		mode(c.mode)
		t.Setenv("SUDO_UID", c.sudoUID)
		_, err := LoadFrom(p)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("uid %d gid %d mode %04o sudo %q: %v", c.uid, c.gid, c.mode, c.sudoUID, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("uid %d gid %d mode %04o sudo %q: err = %v, want %q", c.uid, c.gid, c.mode, c.sudoUID, err, c.want)
		}
	}
}

func TestLoadSkipsMissingDefaults(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("SUDO_USER", "")
	if _, err := os.Stat(SystemPath); err == nil {
		t.Skip("this machine has " + SystemPath)
	}
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Files) != 0 {
		t.Errorf("files = %v", cfg.Files)
	}
}

func TestUserPath(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("SUDO_USER", "")
	t.Setenv("XDG_CONFIG_HOME", xdg)
	if got, want := UserPath(), filepath.Join(xdg, "boxtui", "config.toml"); got != want {
		t.Errorf("with XDG_CONFIG_HOME: %q, want %q", got, want)
	}
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", "relative/ignored")
	t.Setenv("HOME", home)
	if got, want := UserPath(), filepath.Join(home, ".config", "boxtui", "config.toml"); got != want {
		t.Errorf("with HOME: %q, want %q", got, want)
	}
}

// Under sudo, root without a file of its own reads the invoking user's.
func TestUserPathSudo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the sudo fallback only applies to root")
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // root has no file here
	t.Setenv("SUDO_USER", "nobody-such-user-xyz")
	if got := UserPath(); !strings.HasPrefix(got, os.Getenv("XDG_CONFIG_HOME")) {
		t.Errorf("unknown SUDO_USER: %q, want root's own path", got)
	}
	t.Setenv("SUDO_USER", "daemon") // exists on every Debian system
	if got := UserPath(); !strings.HasSuffix(got, "/.config/boxtui/config.toml") || strings.HasPrefix(got, os.Getenv("XDG_CONFIG_HOME")) {
		t.Errorf("SUDO_USER=daemon: %q", got)
	}
	own := writeFile(t, mkdirAll(t, filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "boxtui")), "config.toml", "")
	if got := UserPath(); got != own {
		t.Errorf("root has a file: %q, want %q", got, own)
	}
}

func mkdirAll(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestValidateActions(t *testing.T) {
	cfg, err := Parse("c.toml", []byte("[keys]\nquit = [\"Q\"]\n\nlanuch = [\"n\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	known := []string{"launch", "quit", "kill"}
	err = cfg.ValidateActions(known)
	if err == nil || !strings.Contains(err.Error(), `config c.toml:4: [keys] unknown action "lanuch", did you mean "launch"?`) {
		t.Fatalf("err = %v", err)
	}
	cfg, _ = Parse("c.toml", []byte("[keys]\nzzzzzz = [\"n\"]\n"))
	err = cfg.ValidateActions(known)
	if err == nil || !strings.Contains(err.Error(), "(known: kill, launch, quit)") {
		t.Fatalf("err = %v", err)
	}
	if err := (Config{}).ValidateActions(known); err != nil {
		t.Fatal(err)
	}
}

func TestBindings(t *testing.T) {
	defaults := map[string][]string{
		"launch":     {"n"},
		"kill":       {"x"},
		"quit":       {"q", "ctrl+c"},
		"confirm.no": {"n", "esc"},
	}
	cfg, err := Parse("c.toml", []byte("[keys]\nlaunch = [\"a\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Bindings(defaults)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got["launch"], []string{"a"}) || !reflect.DeepEqual(got["quit"], []string{"q", "ctrl+c"}) || len(got) != len(defaults) {
		t.Errorf("bindings = %v", got)
	}
	// x still kills by default: binding it to launch is a conflict.
	cfg, _ = Parse("c.toml", []byte("[keys]\nlaunch = [\"x\"]\n"))
	if _, err := cfg.Bindings(defaults); err == nil || !strings.Contains(err.Error(), `c.toml:2: [keys] "x" is bound to both kill (by default) and launch`) {
		t.Fatalf("err = %v", err)
	}
	// Moving kill off x at the same time frees it.
	cfg, _ = Parse("c.toml", []byte("[keys]\nlaunch = [\"x\"]\nkill = [\"K\"]\n"))
	if _, err := cfg.Bindings(defaults); err != nil {
		t.Fatal(err)
	}
	// Defaults map is not changed.
	if !reflect.DeepEqual(defaults["launch"], []string{"n"}) {
		t.Errorf("defaults changed: %v", defaults)
	}
}

func TestCheckKey(t *testing.T) {
	good := []string{"n", "N", "?", "/", "+", "ctrl+c", "ctrl++", "alt+enter", "ctrl+alt+shift+a", "f5", "f12", "space", "pgdown", "é", "ctrl+]"}
	for _, k := range good {
		if err := CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q) = %v", k, err)
		}
	}
	bad := []string{"", "f0", "f64", "f05", "ctrl+", "enterr", "alt+ctrl+a", "\t", "ab"}
	for _, k := range bad {
		if err := CheckKey(k); err == nil {
			t.Errorf("CheckKey(%q) accepted", k)
		}
	}
}

// The example shipped in the package parses with every setting uncommented.
func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "packaging", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	setting := regexp.MustCompile(`^([a-z_]+ = |\[keys)`)
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "# "); ok && setting.MatchString(rest) {
			l = rest
		}
		lines = append(lines, l)
	}
	cfg, err := Parse("config.example.toml", []byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Refresh != time.Second || cfg.Theme != "default" || len(cfg.Keys) != 3 {
		t.Errorf("example gave %+v", cfg)
	}
}
