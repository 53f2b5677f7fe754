package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/spec"
)

func newValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "validate SPEC...",
		Short:   "Check release specs strictly; every error names file, line, column and field",
		Example: "  golive validate examples/healthcare-production.yaml examples/demo.yaml",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, path := range args {
				l, err := spec.LoadContext(cmd.Context(), path)
				if cmd.Context().Err() != nil {
					return err // stopped by a signal: say so, not "invalid"
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
}
