package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/drills"
	"github.com/golive/golive/internal/spec"
)

func newDrillCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Recovery drills against staging on Temporal Schedules (backup restore, rollback rehearsal, point-in-time recovery)",
		Long: `A spec's drills section names a staging database (by reference) and a cadence
(weekly by default). Each drill runs as a DrillWorkflow and appends its result
to the audit ledger; the readiness items "Disaster recovery plan tested",
"Rollback plan tested and documented" and "Point-in-time recovery tested"
(check kind drill) pass when the last drill of their kind passed recently enough.`,
	}
	cmd.AddCommand(newDrillScheduleCmd(g), newDrillListCmd(g), newDrillRunCmd(g), newDrillDeleteCmd(g))
	return cmd
}

// withSpecClient loads the spec at path, dials Temporal and runs fn.
func withSpecClient(cmd *cobra.Command, g *globals, path string, fn func(c client.Client, s spec.Spec) error) error {
	l, err := spec.LoadContext(cmd.Context(), path)
	if err != nil {
		return err
	}
	c, err := g.dial(cmd.Context())
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c, l.Spec)
}

func newDrillScheduleCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "schedule SPEC",
		Short:   "Create or update the spec's drill Schedules (one per drill kind, at drills.every)",
		Example: "  golive drill schedule examples/healthcare-production.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSpecClient(cmd, g, args[0], func(c client.Client, s spec.Spec) error {
				out, err := drills.Schedule(cmd.Context(), c, s)
				if g.json() && err == nil {
					return json.NewEncoder(os.Stdout).Encode(out)
				}
				for _, o := range out {
					verb := "updated"
					if o.Created {
						verb = "created"
					}
					fmt.Printf("%s %s: %s drill of %s every %s\n", verb, o.ScheduleID, o.Kind, s.Service, o.Every)
				}
				return err
			})
		},
	}
}

func newDrillListCmd(g *globals) *cobra.Command {
	var service string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List golive's drill Schedules: cadence, last and next run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			entries, err := drills.List(cmd.Context(), c, service)
			if err != nil {
				return err
			}
			if g.json() {
				return json.NewEncoder(os.Stdout).Encode(entries)
			}
			if len(entries) == 0 {
				fmt.Println("no drill schedules")
			}
			for _, e := range entries {
				state := ""
				if e.Paused {
					state = " (paused)"
				}
				fmt.Printf("%s every %s%s, last %s, next %s\n", e.ID, e.Every, state, when(e.Last), when(e.Next))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only this service's drills")
	return cmd
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func newDrillRunCmd(g *globals) *cobra.Command {
	var kind string
	cmd := &cobra.Command{
		Use:     "run SPEC",
		Short:   "Run one drill now (outside its Schedule) and wait for its result, written to the audit ledger",
		Example: "  golive drill run examples/healthcare-production.yaml --kind rollback_rehearsal",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSpecClient(cmd, g, args[0], func(c client.Client, s spec.Spec) error {
				res, err := drills.Run(cmd.Context(), c, s, spec.DrillKind(kind))
				if err != nil {
					return err
				}
				if g.json() {
					return json.NewEncoder(os.Stdout).Encode(res)
				}
				fmt.Printf("%s drill %s: %s\n", kind, res.State, res.Value)
				if res.Detail != "" {
					fmt.Println(res.Detail)
				}
				if !res.Passed() {
					return fmt.Errorf("%s drill %s", kind, res.State)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&kind, "kind", string(spec.DrillRollbackRehearsal), fmt.Sprintf("drill kind: one of %v", spec.DrillKinds))
	return cmd
}

func newDrillDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete SPEC",
		Short: "Delete the spec's drill Schedules (their ledger rows stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withSpecClient(cmd, g, args[0], func(c client.Client, s spec.Spec) error {
				deleted, err := drills.Delete(cmd.Context(), c, s)
				for _, id := range deleted {
					fmt.Println("deleted", id)
				}
				if err == nil && len(deleted) == 0 {
					fmt.Println("no drill schedules of", s.Service)
				}
				return err
			})
		},
	}
}
