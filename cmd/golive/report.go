package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/evidence"
)

func newReportCmd(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:     "report RELEASE",
		Short:   "Write the filled checklist of a release as Markdown and HTML",
		Example: "  golive report demo-portal:demo --dir evidence/",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			st, err := queryStatus(ctx, c, releaseID(args[0]))
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("report dir: %w", err)
			}
			base := filepath.Join(dir, strings.NewReplacer(":", "_", "/", "_").Replace(st.ReleaseID))
			if err := os.WriteFile(base+".md", []byte(evidence.Markdown(st)), 0o644); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
			if err := os.WriteFile(base+".html", []byte(evidence.HTML(st)), 0o644); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
			fmt.Printf("wrote %s.md and %s.html\n", base, base)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory for the report files")
	return cmd
}
