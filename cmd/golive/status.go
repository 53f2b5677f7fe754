package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

func newStatusCmd(g *globals) *cobra.Command {
	var watch bool
	var every time.Duration
	var tz string
	cmd := &cobra.Command{
		Use:   "status RELEASE",
		Short: "Show a release: stage, every checklist item, sign-offs, readings, alerts, rollback",
		Example: `  golive status demo-portal:demo
  golive status release:patient-portal:production --watch
  golive status demo-portal:demo -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := zoneFlag(tz)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			id := releaseID(args[0])
			if !watch {
				st, err := queryStatus(ctx, c, id)
				if err != nil {
					return err
				}
				if g.json() {
					return json.NewEncoder(os.Stdout).Encode(st)
				}
				fmt.Print(renderStatus(st, false, loc))
				return nil
			}
			return watchStatus(ctx, c, id, every, loc)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "redraw in place until the release ends")
	cmd.Flags().DurationVar(&every, "every", time.Second, "redraw interval with --watch")
	cmd.Flags().StringVar(&tz, "tz", "", "IANA time zone deadlines are shown in beside UTC (default: the local one)")
	return cmd
}

// queryStatus asks the release workflow for its record.
func queryStatus(ctx context.Context, c client.Client, id string) (record.Status, error) {
	var st record.Status
	v, err := c.QueryWorkflow(ctx, id, "", workflows.StatusQuery)
	if err != nil {
		return st, fmt.Errorf("query %s: %w", id, err)
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("decode status of %s: %w", id, err)
	}
	return st, nil
}

// watchStatus redraws the status in place until the release is done.
func watchStatus(ctx context.Context, c client.Client, id string, every time.Duration, loc *time.Location) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		st, err := queryStatus(ctx, c, id)
		if err != nil {
			return err
		}
		fmt.Print("\033[H\033[2J" + renderStatus(st, true, loc))
		if st.Stage == record.StageDone {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func newListCmd(g *globals) *cobra.Command {
	var service, env string
	var all bool
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List releases (running ones by default)",
		Example: "  golive list\n  golive list --all --service patient-portal",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			q := []string{"WorkflowType = 'ReleaseWorkflow'"}
			if !all {
				q = append(q, "ExecutionStatus = 'Running'")
			}
			if service != "" {
				q = append(q, fmt.Sprintf("%s = '%s'", workflows.SAService.GetName(), service))
			}
			if env != "" {
				q = append(q, fmt.Sprintf("%s = '%s'", workflows.SAEnvironment.GetName(), env))
			}
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: strings.Join(q, " AND ")})
			if err != nil {
				return fmt.Errorf("list releases: %w", err)
			}
			rows := []listRow{}
			for _, e := range resp.Executions {
				rows = append(rows, listRow{
					ID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId(),
					Status:  strings.ToLower(enums.WorkflowExecutionStatus_name[int32(e.GetStatus())][len("WORKFLOW_EXECUTION_STATUS_"):]),
					Version: keyword(e, workflows.SAVersion.GetName()), Stage: keyword(e, workflows.SAStage.GetName()),
					Outcome: keyword(e, workflows.SAOutcome.GetName()),
					Started: e.GetStartTime().AsTime(),
				})
			}
			if g.json() {
				return json.NewEncoder(os.Stdout).Encode(rows)
			}
			if len(rows) == 0 {
				fmt.Println("no releases")
				return nil
			}
			fmt.Printf("%-44s %-12s %-14s %-12s %-12s %s\n", "RELEASE", "STATUS", "VERSION", "STAGE", "OUTCOME", "STARTED")
			for _, r := range rows {
				fmt.Printf("%-44s %-12s %-14s %-12s %-12s %s\n", r.ID, r.Status, r.Version, r.Stage, dash(r.Outcome), r.Started.UTC().Format(time.RFC3339))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only this service")
	cmd.Flags().StringVar(&env, "environment", "", "only this environment")
	cmd.Flags().BoolVar(&all, "all", false, "include finished releases")
	return cmd
}

// listRow is one release in `golive list`; with -o json it is printed with
// snake_case keys, as every -o json output is.
type listRow struct {
	ID      string `json:"release_id"`
	RunID   string `json:"run_id"`
	Status  string `json:"status"`
	Version string `json:"version"`
	Stage   string `json:"stage"`
	// Outcome is GoliveOutcome ("" for releases started before it).
	Outcome string    `json:"outcome,omitempty"`
	Started time.Time `json:"started_at"`
}
