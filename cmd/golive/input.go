package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/workflows"
)

// sendSigned signs in (see signInput) and sends it as an Update to the run it
// was signed for.
func sendSigned[T statementOf](g *globals, ctx context.Context, release, name string, in T, o signOptions, stamp func(*T, string, time.Time)) error {
	c, err := g.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	runID, err := signInput(ctx, c, release, &in, o, stamp)
	if err != nil {
		return err
	}
	return g.sendOn(ctx, c, release, runID, name, in)
}

// sendOn sends an Update on an open client, to one run when runID is set.
func (g *globals) sendOn(ctx context.Context, c client.Client, release, runID, name string, payload any) error {
	id := releaseID(release)
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, RunID: runID, UpdateName: name, Args: []any{payload}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.InputResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	var spent *serviceerror.FailedPrecondition
	if errors.As(err, &spent) && strings.Contains(spent.Error(), "update") {
		// The run's Update budget is spent (history.maxTotalUpdates, possibly by a
		// flood): the same signed input goes as a Signal, judged the same way.
		if serr := c.SignalWorkflow(ctx, id, runID, name, payload); serr != nil {
			return fmt.Errorf("%s to %s: %w (and as a signal: %v)", name, id, err, serr)
		}
		fmt.Fprintf(os.Stderr, "golive: %s sent as a signal (%v); golive status %s shows whether it was accepted\n", name, err, id)
		return nil
	}
	if err != nil {
		return refusal(id, name, err)
	}
	if g.json() {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	prefix := "accepted"
	if res.Duplicate {
		prefix = "already recorded (counted once)"
	}
	fmt.Printf("%s: %s\n", prefix, res.Message)
	return nil
}

// refusal turns an update error into the reason a person needs.
func refusal(id, name string, err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return fmt.Errorf("%s refused by %s: %s", name, id, app.Message())
	}
	return fmt.Errorf("%s to %s: %w", name, id, err)
}

func needAs(g *globals) error {
	if g.as == "" {
		return errors.New("who are you? pass --as PERSON (your ID in the team directory) or set GOLIVE_USER")
	}
	return nil
}

func newApproveCmd(g *globals, verb string) *cobra.Command {
	var slot, comment string
	var sign signOptions
	cmd := &cobra.Command{
		Use:   verb + " RELEASE",
		Short: map[string]string{"approve": "Sign off a slot of the open sign-off block", "reject": "Reject the release in a sign-off slot (a comment is required)"}[verb],
		Example: "  golive " + verb + " demo-portal:demo --as alice" +
			"\n  golive " + verb + " release:patient-portal:production --slot compliance_officer --as carol -m \"BAAs on file\"",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			s := workflows.Signoff{Slot: slot, Person: g.as, Decision: workflows.Decision(verb), Comment: comment}
			// Signed sign-offs name the run they were made for; it gets exactly that run.
			runID, err := signStatement(ctx, c, args[0], &s, sign)
			if err != nil {
				return err
			}
			return g.sendOn(ctx, c, args[0], runID, workflows.SignoffName, s)
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringVar(&slot, "slot", "", "slot ID (default: the one open slot your roles can fill)")
	cmd.Flags().StringVarP(&comment, "message", "m", "", "comment recorded with the sign-off")
	return cmd
}

func newAttestCmd(g *globals) *cobra.Command {
	var sign signOptions
	var items []string
	var comment string
	cmd := &cobra.Command{
		Use:   "attest RELEASE",
		Short: "Confirm checklist items your role attests (all waiting ones, or --item)",
		Example: `  golive attest demo-portal:demo --as carol
  golive attest demo-portal:demo --item comp.hipaa_review --as carol -m "review 2026-11-20"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.AttestName, workflows.Attest{Person: g.as, Items: items, Comment: comment}, sign,
				func(a *workflows.Attest, sig string, at time.Time) { a.Signature, a.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringSliceVar(&items, "item", nil, "item ID to attest (repeatable; default: every item waiting for your roles)")
	cmd.Flags().StringVarP(&comment, "message", "m", "", "comment recorded with the attestation")
	return cmd
}

func newAckCmd(g *globals) *cobra.Command {
	var sign signOptions
	var comment string
	cmd := &cobra.Command{
		Use:     "ack RELEASE ALERT",
		Short:   "Acknowledge an alert, which stops its escalation",
		Example: "  golive ack demo-portal:demo A1 --as alice",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.AckName, workflows.Ack{Person: g.as, AlertID: args[1], Comment: comment}, sign,
				func(a *workflows.Ack, sig string, at time.Time) { a.Signature, a.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringVarP(&comment, "message", "m", "", "comment recorded with the acknowledgement")
	return cmd
}

func newAbortCmd(g *globals) *cobra.Command {
	var sign signOptions
	var reason string
	cmd := &cobra.Command{
		Use:     "abort RELEASE",
		Short:   "End the release; whatever was done is compensated in reverse order",
		Example: `  golive abort demo-portal:demo --as erin --reason "window moved"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.AbortName, workflows.Abort{Person: g.as, Reason: reason}, sign,
				func(a *workflows.Abort, sig string, at time.Time) { a.Signature, a.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringVar(&reason, "reason", "", "why the release is aborted")
	return cmd
}

func newRollbackCmd(g *globals) *cobra.Command {
	var sign signOptions
	var reason, comment string
	cmd := &cobra.Command{
		Use:     "rollback RELEASE",
		Short:   "Roll a deployed release back (team lead decision): app, then database",
		Example: `  golive rollback demo-portal:demo --as alice --reason data_corruption -m "duplicate appointments"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.RollbackName, workflows.RollbackRequest{
				Person: g.as, Reason: workflows.RollbackReason(reason), Comment: comment}, sign,
				func(q *workflows.RollbackRequest, sig string, at time.Time) { q.Signature, q.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringVar(&reason, "reason", string(workflows.ReasonCriticalBug), "one of: "+workflows.RollbackReasonList(", "))
	cmd.Flags().StringVarP(&comment, "message", "m", "", "what was seen")
	return cmd
}

func newHoldCmd(g *globals) *cobra.Command {
	var sign signOptions
	var reason string
	cmd := &cobra.Command{
		Use:     "hold RELEASE",
		Short:   "Pause the release before its next step",
		Example: `  golive hold demo-portal:demo --as erin --reason "waiting for vendor"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.HoldName, workflows.Hold{Person: g.as, Reason: reason}, sign,
				func(h *workflows.Hold, sig string, at time.Time) { h.Signature, h.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringVar(&reason, "reason", "", "why the release is held")
	return cmd
}

func newResumeCmd(g *globals) *cobra.Command {
	var sign signOptions
	cmd := &cobra.Command{
		Use:     "resume RELEASE",
		Short:   "Lift a hold",
		Example: "  golive resume demo-portal:demo --as erin",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.ResumeName, workflows.Resume{Person: g.as}, sign,
				func(h *workflows.Resume, sig string, at time.Time) { h.Signature, h.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	return cmd
}
