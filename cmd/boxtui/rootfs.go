package main

import (
	"fmt"
	"io"
	"strings"

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
` + rootfs.DefaultDir + `; it must not exist or be empty unless --force.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := rootfs.DefaultDir
			if len(args) == 1 {
				dir = args[0]
			}
			rep, err := rootfs.Create(dir, rootfs.Options{Force: force})
			if err != nil {
				return err
			}
			printCreateReport(cmd.OutOrStdout(), rep, verbose)
			return nil
		},
	}
	create.Flags().BoolVarP(&force, "force", "f", false, "replace DIR if it exists and is not empty")
	create.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every library and terminfo entry copied")
	rootfsCmd.AddCommand(create)

	rootCmd.AddCommand(rootfsCmd)
}

func printCreateReport(w io.Writer, rep rootfs.Report, verbose bool) {
	fmt.Fprintf(w, "programs:  %s\n", strings.Join(rep.Binaries, " "))
	if verbose {
		fmt.Fprintf(w, "libraries: %s\n", strings.Join(rep.Libraries, " "))
		fmt.Fprintf(w, "terminfo:  %s\n", strings.Join(rep.Terminfo, " "))
	} else {
		fmt.Fprintf(w, "libraries: %d (-v lists them)\n", len(rep.Libraries))
		fmt.Fprintf(w, "terminfo:  %d entries\n", len(rep.Terminfo))
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(w, "skipped (not on this host): %s\n", strings.Join(rep.Skipped, " "))
	}
	fmt.Fprintf(w, "created %s: %d files, %s, in %v\n", rep.Dir, rep.Files, rootfsSize(rep.Bytes), rep.Duration.Round(1e6))
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
