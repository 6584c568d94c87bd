// Checking a launch's options and filling in their defaults before anything
// is created: the rootfs, the command (found as the container will find it),
// the environment.

package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"boxtui/pty"
	"boxtui/runtime/containerenv"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// resolveOptions fills in defaults and checks what can be checked before
// anything is created.
func resolveOptions(opts Options) (holderConfig, error) {
	cfg := holderConfig{
		Rootfs:   opts.Rootfs,
		Command:  opts.Command,
		Hostname: opts.Hostname,
		Net:      opts.Net,
		Remove:   opts.Remove,
		Rows:     opts.Rows,
		Cols:     opts.Cols,
		Raw:      opts.Raw,
	}
	if cfg.Rootfs == "" {
		cfg.Rootfs = DefaultRootfs
	}
	if cfg.Hostname != "" {
		if len(cfg.Hostname) > 64 || strings.ContainsAny(cfg.Hostname, "/\x00 ") {
			return cfg, fmt.Errorf("invalid hostname %q: at most 64 characters, no spaces or '/'", cfg.Hostname)
		}
	}
	fi, err := os.Stat(cfg.Rootfs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if opts.Rootfs == "" {
			return cfg, fmt.Errorf("%w: the default rootfs %s does not exist (create it with `sudo boxtui rootfs create`, or pass --rootfs DIR)", ErrNoRootfs, cfg.Rootfs)
		}
		return cfg, fmt.Errorf("%w: %s does not exist (create one with `sudo boxtui rootfs create %s`)", ErrNoRootfs, cfg.Rootfs, cfg.Rootfs)
	case err != nil:
		return cfg, fmt.Errorf("open rootfs %s: %w", cfg.Rootfs, err)
	case !fi.IsDir():
		return cfg, fmt.Errorf("rootfs %s is not a directory", cfg.Rootfs)
	}
	if cfg.Rootfs, err = absClean(cfg.Rootfs); err != nil {
		return cfg, err
	}
	if len(cfg.Command) == 0 {
		cfg.Command = []string{"/bin/sh"}
		if _, err := findInRootfs(cfg.Rootfs, "/bin/bash"); err == nil {
			cfg.Command = []string{"/bin/bash"}
		}
	}
	if _, err := findInRootfs(cfg.Rootfs, cfg.Command[0]); err != nil {
		return cfg, err
	}
	env := []string{"PATH=" + containerenv.Path, "HOME=/root", "TERM=" + termName()}
	cfg.Env = append(env, opts.Env...)
	for _, kv := range opts.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return cfg, fmt.Errorf("invalid environment variable %q: write KEY=VALUE", kv)
		}
	}
	return cfg, nil
}

func absClean(dir string) (string, error) {
	if path.IsAbs(dir) {
		return path.Clean(dir), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("resolve rootfs %s: %w", dir, err)
	}
	return path.Join(wd, dir), nil
}

// termName is the console's TERM: the one the emulator that draws every
// console implements (the holder's, a pane's), not the caller's.
func termName() string { return pty.TERM }

// findInRootfs resolves a command as the container will: an absolute (or
// relative with a slash) path inside the rootfs, or a bare name in its PATH.
// Symlinks are followed inside the rootfs only (securejoin), so a hostile
// rootfs cannot make us look at host files.
func findInRootfs(rootfs, unsafeCommand string) (string, error) {
	// The init looks a bare name up in containerenv.Path and takes a name
	// with a slash as it is, from /.
	name := unsafeCommand
	if strings.Contains(name, "/") {
		name = path.Join("/", name)
	}
	inRootfs := func(name string) (uint32, error) {
		p, err := securejoin.SecureJoin(rootfs, name)
		if err != nil {
			return 0, err
		}
		return containerenv.Stat(p)
	}
	if c, ok := containerenv.LookPath(name, containerenv.Path, inRootfs); ok {
		return c, nil
	}
	// Suggest a command the rootfs has; one with no shell at all is
	// likely not a root filesystem (a parent directory, a typo).
	if sh, ok := containerenv.Shell(inRootfs); ok {
		return "", fmt.Errorf("%w: %q is not an executable file in %s (pass a command the rootfs has, e.g. -- %s)", ErrNoCommand, unsafeCommand, rootfs, sh)
	}
	return "", fmt.Errorf("%w: %q is not an executable file in %s, which has no shell either: is it a root filesystem? (`boxtui rootfs create DIR` makes one)", ErrNoCommand, unsafeCommand, rootfs)
}
