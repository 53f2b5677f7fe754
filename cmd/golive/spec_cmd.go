package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/spec"
)

// newSpecCmd prints what internal/spec generates from the spec's Go types: the
// JSON Schema for editors and the field reference committed as docs/spec.md.
func newSpecCmd(_ *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spec",
		Short: "Describe the release spec: its JSON Schema and its field reference",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema (draft 2020-12) of a release spec, for editors",
		Example: `  golive spec schema > golive.schema.json
  # then, in a spec, for editors using yaml-language-server:
  # yaml-language-server: $schema=golive.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := spec.Schema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}, &cobra.Command{
		Use:     "docs",
		Short:   "Print the field reference of a release spec as Markdown (docs/spec.md)",
		Example: "  golive spec docs > docs/spec.md",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ref, err := spec.Reference()
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), ref)
			return err
		},
	})
	return cmd
}
