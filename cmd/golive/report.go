package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/evidence"
)

func newReportCmd(g *globals) *cobra.Command {
	var dir, format string
	cmd := &cobra.Command{
		Use:   "report RELEASE",
		Short: "Write the filled checklist of a release as Markdown and/or a self-contained HTML page",
		Long: `report writes the evidence pack of a release (running or finished): every
checklist item ticked or not, with who, when and which value; the sign-off
blocks; metric charts and readings; alerts; the rollback record; and the audit
chain head. The HTML page has no external assets and prints to PDF.`,
		Example: "  golive report demo-portal:demo --dir evidence/\n  golive report demo-portal:demo --format html",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kinds, err := reportFormats(format)
			if err != nil {
				return err
			}
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
			written := map[string]string{}
			for _, k := range kinds {
				path, body := base+".md", evidence.Markdown(st)
				if k == "html" {
					path, body = base+".html", evidence.HTML(st)
				}
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
					return fmt.Errorf("write report: %w", err)
				}
				written[k] = path
			}
			if g.json() {
				return json.NewEncoder(os.Stdout).Encode(written)
			}
			for _, k := range kinds {
				fmt.Printf("wrote %s\n", written[k])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory for the report files")
	cmd.Flags().StringVar(&format, "format", "both", "what to write: md, html or both")
	return cmd
}

// reportFormats reads --format.
func reportFormats(f string) ([]string, error) {
	switch strings.ToLower(f) {
	case "md", "markdown":
		return []string{"md"}, nil
	case "html":
		return []string{"html"}, nil
	case "both", "":
		return []string{"md", "html"}, nil
	}
	return nil, fmt.Errorf("--format %q: want md, html or both", f)
}
