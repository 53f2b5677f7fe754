package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

func newReportCmd(g *globals) *cobra.Command {
	var dir, format string
	var ef evidenceFlags
	cmd := &cobra.Command{
		Use:   "report RELEASE",
		Short: "Write the filled checklist of a release as Markdown and/or a self-contained HTML page",
		Long: `report writes the evidence pack of a release (running or finished): every
checklist item ticked or not, with who, when and which value; the sign-off
blocks; metric charts and readings; alerts; the rollback record; and the audit
chain head. The HTML page has no external assets and prints to PDF; its charts
draw the spec's thresholds, read from the release's start input.

With --evidence-store (or GOLIVE_EVIDENCE_STORE) it writes instead the
documents the workers stored for the release's latest run, after checking each
against the sha256 its store kept and the seal inside it (its own digest and
the audit chain head at writing); a document that does not match is an error.
From S3 each document is read from the version golive wrote, also when someone
put a delete marker or a later version over it; a warning names those.`,
		Example: "  golive report demo-portal:demo --dir evidence/\n  golive report demo-portal:demo --format html\n" +
			"  golive report release:patient-portal:production --evidence-store postgres\n" +
			"  golive report release:patient-portal:production --evidence-store s3://acme-golive-evidence/prod",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kinds, err := reportFormats(format)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if st, err := ef.open(ctx); err != nil || st != nil {
				if err != nil {
					return err
				}
				return reportFromStore(ctx, st, releaseID(args[0]), dir, kinds, g.json(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			opts, err := g.clientOptions()
			if err != nil {
				return err
			}
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			id := releaseID(args[0])
			st, err := queryStatus(ctx, c, id)
			if err != nil {
				return err
			}
			var eo evidence.Options
			if th, err := releaseThresholds(ctx, c, opts.DataConverter, id); err != nil {
				fmt.Fprintf(os.Stderr, "charts without threshold lines: %v\n", err)
			} else {
				eo.Thresholds = th
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("report dir: %w", err)
			}
			base := filepath.Join(dir, strings.NewReplacer(":", "_", "/", "_").Replace(st.ReleaseID))
			written := map[string]string{}
			for _, k := range kinds {
				path, body := base+".md", evidence.Markdown(st)
				if k == "html" {
					path, body = base+".html", evidence.HTMLWith(st, eo)
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
	ef.add(cmd, false)
	return cmd
}

// releaseThresholds reads the spec's thresholds from the release's start input
// (the first event of its latest run), decoded with the client's converter.
func releaseThresholds(ctx context.Context, c client.Client, dc converter.DataConverter, id string) (*spec.Thresholds, error) {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return nil, fmt.Errorf("release %s has no history", id)
	}
	ev, err := it.Next()
	if err != nil {
		return nil, fmt.Errorf("read the start of %s: %w", id, err)
	}
	started := ev.GetWorkflowExecutionStartedEventAttributes()
	if started == nil {
		return nil, errors.New("the first event of " + id + " is not its start")
	}
	var in workflows.ReleaseInput
	if err := dc.FromPayloads(started.GetInput(), &in); err != nil {
		return nil, fmt.Errorf("decode the start input of %s: %w", id, err)
	}
	return &in.Spec.Thresholds, nil
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
