package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"

	"boxtui/internal/config"

	"github.com/spf13/cobra"
)

// configFlags are the persistent flags every subcommand shares.
var configFlags struct {
	path    string
	noColor bool
}

// loaded caches the config: it is read on first use, so commands that never
// need it (ls, ps) work even with a broken config file. It is keyed by the
// --config value because tests run many command lines in one process.
var loaded struct {
	mu   sync.Mutex
	done bool
	path string
	cfg  config.Config
	err  error
}

func init() {
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&configFlags.path, "config", "", "read only the config file `PATH` (default "+config.SystemPath+", then ~/.config/boxtui/config.toml)")
	pf.BoolVar(&configFlags.noColor, "no-color", false, "no colours; spell out what colour would say (also NO_COLOR=1 or no_color = true in the config)")
	rootCmd.AddCommand(newConfigCmd())
}

// checkConfigFlag loads the file given with --config (if any) and
// returns its one-line error. Commands that parse their own arguments
// (exec) call it with the path they found.
func checkConfigFlag(path string) error {
	if path == "" {
		return nil
	}
	configFlags.path = path
	_, err := loadedConfig()
	return err
}

// loadedConfig is the configuration for this run: the file given with
// --config, else the system and user files. The UI and launch code read
// their defaults from it; an invalid file is a one-line error naming the
// file and line, to be returned from RunE as it is.
func loadedConfig() (config.Config, error) {
	loaded.mu.Lock()
	defer loaded.mu.Unlock()
	if loaded.done && loaded.path == configFlags.path {
		return loaded.cfg, loaded.err
	}
	if configFlags.path != "" {
		loaded.cfg, loaded.err = config.LoadFrom(configFlags.path)
	} else {
		loaded.cfg, loaded.err = config.Load()
	}
	loaded.done, loaded.path = true, configFlags.path
	return loaded.cfg, loaded.err
}

// colorDisabled says whether to draw without colour: --no-color, a
// non-empty NO_COLOR (no-color.org), no_color = true, or theme = "mono".
func colorDisabled(cfg config.Config) bool {
	return configFlags.noColor || os.Getenv("NO_COLOR") != "" || cfg.NoColor || cfg.Theme == "mono"
}

func newConfigCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Show which config files are read and the settings they give",
		Long: `Show which config files boxtui reads, in order (later ones override earlier
ones), and the settings that result. An invalid file is reported as
FILE:LINE: what is wrong, and the command exits 1, so this is the way to
check a config file after editing it.

Files: ` + config.SystemPath + ` (system-wide), then
$XDG_CONFIG_HOME/boxtui/config.toml (default ~/.config/boxtui/config.toml).
Under sudo, when root has no file of its own, the invoking user's
(SUDO_USER) file is read. --config PATH reads only PATH.`,
		Example: `  boxtui config
  boxtui --config ./my.toml config`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadedConfig()
			if err != nil {
				return err
			}
			return writeConfig(cmd.OutOrStdout(), cfg)
		},
	}
}

// writeConfig prints the files and the effective settings as TOML, so the
// output can be pasted into a config file.
func writeConfig(w io.Writer, cfg config.Config) error {
	paths := config.DefaultPaths()
	if configFlags.path != "" {
		paths = []string{configFlags.path}
	}
	var b strings.Builder
	for _, p := range paths {
		state := "missing"
		for _, f := range cfg.Files {
			if f == p {
				state = "read"
			}
		}
		if state == "missing" {
			if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
				state = "not read"
			}
		}
		fmt.Fprintf(&b, "# %s (%s)\n", p, state)
	}
	setting := func(key string, set bool, v string) {
		if set {
			fmt.Fprintf(&b, "%s = %q\n", key, v)
		} else {
			fmt.Fprintf(&b, "# %s: not set, the default applies\n", key)
		}
	}
	setting("refresh", cfg.Refresh != 0, cfg.Refresh.String())
	setting("rootfs", cfg.Rootfs != "", cfg.Rootfs)
	setting("theme", cfg.Theme != "", cfg.Theme)
	fmt.Fprintf(&b, "no_color = %t  # in effect now: %t\n", cfg.NoColor, colorDisabled(cfg))
	b.WriteString("\n[keys]")
	if len(cfg.Keys) == 0 {
		b.WriteString("  # defaults, see docs/keybindings.md")
	}
	b.WriteString("\n")
	actions := make([]string, 0, len(cfg.Keys))
	for a := range cfg.Keys {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	for _, a := range actions {
		quoted := make([]string, len(cfg.Keys[a]))
		for i, k := range cfg.Keys[a] {
			quoted[i] = fmt.Sprintf("%q", k)
		}
		name := a
		if strings.Contains(a, ".") {
			name = fmt.Sprintf("%q", a)
		}
		fmt.Fprintf(&b, "%s = [%s]\n", name, strings.Join(quoted, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
