package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"boxtui/internal/termsafe"
	"boxtui/runtime/rootfs"

	"github.com/spf13/cobra"
)

func init() {
	rootfsCmd := &cobra.Command{
		Use:   "rootfs",
		Short: "Make root filesystems for containers",
		Args:  cobra.NoArgs,
	}

	var force, verbose bool
	create := &cobra.Command{
		Use:   "create [DIR]",
		Short: "Build a small root filesystem from the host's own bash, coreutils, procps and mount",
		Long: `Build a root filesystem offline, in about a second, by copying the host's
bash, sh, coreutils, grep, procps (ps, top, kill), mount and hostname with
every shared library they load and the terminfo entries top needs. The
host's layout (/bin -> usr/bin and the like) is kept. DIR defaults to
` + rootfs.DefaultDir + `; it must not exist or be empty unless --force.
Without DIR, a default rootfs that is already there is left as it is.

The copies keep the host's setuid bits, so DIR must be out of other users'
reach: ` + rootfs.DataDir + ` and ` + rootfs.DataDir + `/rootfs are made root-only (0700), missing
parents of DIR are created 0700, and a DIR that users other than root could
walk into is refused.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := rootfs.DefaultDir
			if len(args) == 1 {
				dir = args[0]
			} else if !force && hasShell(dir) {
				// The default is made once and shared: asking for it again
				// (the README's set-up command, run twice) is not an error.
				// Its parents are still made root-only: an older boxtui left
				// them 0755.
				if _, err := rootfs.PrepareParent(dir); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "the default rootfs is already at %s (--force rebuilds it)\n", termsafe.String(dir))
				return nil
			}
			rep, err := rootfs.Create(dir, rootfs.Options{Force: force})
			if err := logged("rootfs.create", dir, err); err != nil {
				return err
			}
			printCreateReport(cmd.OutOrStdout(), rep, verbose)
			return nil
		},
	}
	create.Flags().BoolVarP(&force, "force", "f", false, "replace DIR if it exists and is not empty")
	create.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every library and terminfo entry copied")
	rootfsCmd.AddCommand(create)

	var impOpts rootfs.ImportOptions
	maxSize := rootfs.SizeString(rootfs.DefaultMaxBytes)
	imp := &cobra.Command{
		Use:   "import TARBALL DIR",
		Short: "Unpack a docker export tarball (plain or gzip) as a root filesystem",
		Long: `Unpack a tar archive such as one made by 'docker export', plain or gzipped,
into DIR, which must not exist or be empty. The archive is treated as
hostile: no entry can land outside DIR, whatever names, symlinks or hard
links it plants; an archive holding a device node is refused unless
--allow-devices; one that unpacks to more than --max-size bytes or holds
more than --max-entries entries is stopped as soon as it passes the limit.
Ownership (setuid bits included) is kept only when run as root, and then
DIR must be out of other users' reach, as for 'rootfs create'. On failure
nothing is left behind.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := parseSize(maxSize)
			if err != nil {
				return err
			}
			impOpts.MaxBytes = n
			if impOpts.MaxEntries <= 0 {
				return fmt.Errorf("invalid --max-entries %d: give a positive number", impOpts.MaxEntries)
			}
			rep, err := rootfs.Import(args[0], args[1], impOpts)
			if err := logged("rootfs.import", args[0]+" -> "+args[1], err); err != nil {
				return err
			}
			if len(rep.DeviceNodes) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d device nodes unpacked (--allow-devices), whoever reaches them reaches those host devices: %s\n",
					len(rep.DeviceNodes), joinSafe(rep.DeviceNodes))
			}
			return writeImportReport(cmd.OutOrStdout(), rep)
		},
	}
	imp.Flags().BoolVar(&impOpts.AllowDevices, "allow-devices", false, "unpack char and block device nodes instead of refusing the archive")
	imp.Flags().StringVar(&maxSize, "max-size", maxSize, "refuse an archive that unpacks to more than this (e.g. 40GiB, 500M)")
	imp.Flags().IntVar(&impOpts.MaxEntries, "max-entries", rootfs.DefaultMaxEntries, "refuse an archive with more entries than this")
	rootfsCmd.AddCommand(imp)

	rootCmd.AddCommand(rootfsCmd)
}

// hasShell reports whether dir looks like a made rootfs: it has a shell.
func hasShell(dir string) bool {
	for _, sh := range []string{"bin/sh", "bin/bash"} {
		if fi, err := os.Stat(filepath.Join(dir, sh)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

func printCreateReport(w io.Writer, rep rootfs.Report, verbose bool) {
	fmt.Fprintf(w, "programs:  %s\n", joinSafe(rep.Binaries))
	if verbose {
		fmt.Fprintf(w, "libraries: %s\n", joinSafe(rep.Libraries))
		fmt.Fprintf(w, "terminfo:  %s\n", joinSafe(rep.Terminfo))
	} else {
		fmt.Fprintf(w, "libraries: %d (-v lists them)\n", len(rep.Libraries))
		fmt.Fprintf(w, "terminfo:  %d entries\n", len(rep.Terminfo))
	}
	if len(rep.Devices) > 0 {
		fmt.Fprintf(w, "devices:   %s\n", joinSafe(rep.Devices))
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(w, "skipped (not on this host): %s\n", joinSafe(rep.Skipped))
	}
	fmt.Fprintf(w, "created %s: %d files, %s, in %v\n", termsafe.String(rep.Dir), rep.Files, rootfsSize(rep.Bytes), rep.Duration.Round(1e6))
}

// writeImportReport says what rootfs import did. The archive is hostile,
// and so are the names of what it skipped: every name is escaped (see
// termsafe).
func writeImportReport(w io.Writer, rep rootfs.ImportReport) error {
	var b strings.Builder
	for _, s := range rep.Skipped {
		fmt.Fprintf(&b, "skipped %s\n", termsafe.String(s))
	}
	if len(rep.Created) > 0 {
		fmt.Fprintf(&b, "added missing directories: %s\n", joinSafe(rep.Created))
	}
	fmt.Fprintf(&b, "imported %s: %d files (%s), %d directories, %d symlinks, %d hard links, %d devices, in %v\n",
		termsafe.String(rep.Dir), rep.Files, rootfsSize(rep.Bytes), rep.Dirs, rep.Symlinks, rep.Hardlinks, rep.Devices, rep.Duration.Round(1e6))
	_, err := io.WriteString(w, b.String())
	return err
}

// parseSize reads a size in bytes, with an optional binary unit: 500M,
// 16G, 16GiB, 1T, 4096.
func parseSize(s string) (int64, error) {
	bad := fmt.Errorf("invalid --max-size %q: give a size such as 40GiB, 500M or 4096", s)
	num := strings.TrimSpace(s)
	shift := 0
	upper := strings.ToUpper(num)
	for _, suf := range []string{"IB", "B"} {
		if strings.HasSuffix(upper, suf) && len(upper) > len(suf) {
			upper = strings.TrimSuffix(upper, suf)
			break
		}
	}
	if i := strings.IndexAny(upper, "KMGTP"); i >= 0 && i == len(upper)-1 {
		shift = 10 * (1 + strings.IndexByte("KMGTP", upper[i]))
		upper = upper[:i]
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(upper), 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) || f*math.Exp2(float64(shift)) >= math.MaxInt64 {
		return 0, bad
	}
	n := int64(f * math.Exp2(float64(shift)))
	if n < 1 { // 0.1 would be 0, which Import reads as its default
		return 0, bad
	}
	return n, nil
}

// rootfsSize formats n in binary units, one decimal.
func rootfsSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// joinSafe joins names with spaces, each escaped (see termsafe).
func joinSafe(names []string) string {
	safe := make([]string, len(names))
	for i, n := range names {
		safe[i] = termsafe.String(n)
	}
	return strings.Join(safe, " ")
}
