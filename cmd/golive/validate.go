package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/spec"
)

func newValidateCmd(g *globals) *cobra.Command {
	var dirFile string
	cmd := &cobra.Command{
		Use:   "validate SPEC...",
		Short: "Check release specs strictly; every error names file, line, column and field",
		Example: "  golive validate examples/healthcare-production.yaml examples/demo.yaml\n" +
			"  golive validate examples/demo.yaml --directory examples/directory/demo.yaml",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, path := range args {
				l, err := spec.LoadContext(cmd.Context(), path)
				if cmd.Context().Err() != nil {
					return err // stopped by a signal: say so, not "invalid"
				}
				if err == nil {
					err = checkDirectory(l, dirFile)
				}
				if err != nil {
					failed++
					fmt.Fprintln(os.Stderr, err)
					continue
				}
				if g.json() {
					if err := json.NewEncoder(os.Stdout).Encode(l.Spec); err != nil {
						return err
					}
					continue
				}
				fmt.Printf("%s: ok (%s %s, %d readiness items, %d watch checks, sha256 %s)\n", path, l.Spec.Service, l.Spec.Environment,
					len(l.Spec.Readiness.Items), len(l.Spec.Watch.Offsets()), short(l.Digest))
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d spec(s) invalid", failed, len(args))
			}
			return nil
		},
	}
	addDirectoryCheckFlag(cmd, &dirFile)
	return cmd
}

// addDirectoryCheckFlag adds --directory to a command that checks a spec
// against the team directory before anything is sent (the worker checks again).
func addDirectoryCheckFlag(cmd *cobra.Command, file *string) {
	cmd.Flags().StringVar(file, "directory", os.Getenv("GOLIVE_DIRECTORY"),
		"team directory to check the spec against first: people, roles, keys and slots it may name (GOLIVE_DIRECTORY); the worker judges again with its own")
}

// checkDirectory refuses a spec that names what the team directory does not
// hold, each problem at its file:line:col. No directory: nothing to check here.
func checkDirectory(l *spec.Loaded, file string) error {
	if file == "" {
		return nil
	}
	d, err := directory.Load(file)
	if err != nil {
		return err
	}
	snap, err := d.Resolve(l.Spec.Service, l.Spec.Environment)
	if err != nil {
		return fmt.Errorf("%s: %w", l.File, err)
	}
	if problems := snap.CheckSpec(l.Spec); len(problems) > 0 {
		return l.Place(problems)
	}
	return nil
}
