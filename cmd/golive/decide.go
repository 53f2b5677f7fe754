package main

import (
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/golive/golive/workflows"
)

// The decisions on a release that stopped at a failed step (the spec's
// failure policy ask), and the freeze override: see docs/failure.md.

func newRetryCmd(g *globals) *cobra.Command {
	var sign signOptions
	var step, reason string
	cmd := &cobra.Command{
		Use:   "retry RELEASE",
		Short: "Run the failed step a release waits on again (failure policy ask)",
		Long: `Run the failed step again. A release whose spec says on_failure: ask for a
step stops there when it fails and waits for a decision until the step's
decision_timeout; golive status shows what failed and what each choice does.
Only the failed step runs again: nothing it or an earlier step did is repeated.
The requester, a rollback approver or a person the directory lets steer may retry.`,
		Example: `  golive retry release:patient-portal:production --as erin -m "vendor API back"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.RetryName, workflows.Retry{Person: g.as, Step: step, Reason: reason}, sign,
				func(q *workflows.Retry, sig string, at time.Time) { q.Signature, q.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringVar(&step, "step", "", "the failed step you mean (readiness, backup, migrate, deploy, verify, smoke); refused if another one waits")
	cmd.Flags().StringVarP(&reason, "message", "m", "", "why it is retried")
	return cmd
}

func newSkipCmd(g *globals) *cobra.Command {
	var sign signOptions
	var item, reason string
	cmd := &cobra.Command{
		Use:   "skip RELEASE --item ID -m REASON",
		Short: "Consent to skipping a failed item; two distinct rollback approvers make it count",
		Long: `Consent to skipping one failed item of the step a release waits on. The skip
takes effect when a second, distinct person holding a rollback-approver role
sends the same item; both consents, with their reasons, go into the record.
The item shows as skipped in the evidence, never as passed, and the release
goes on from the next step.`,
		Example: `  golive skip release:patient-portal:production --item deploy.smoke --as alice -m "billing sandbox down; checked by hand"
  golive skip release:patient-portal:production --item deploy.smoke --as bob -m "agreed with alice"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			if item == "" || strings.TrimSpace(reason) == "" {
				return errors.New("skip needs --item ID (golive status lists the failed items) and -m REASON")
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.SkipName, workflows.Skip{Person: g.as, Item: item, Reason: reason}, sign,
				func(q *workflows.Skip, sig string, at time.Time) { q.Signature, q.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringVar(&item, "item", "", "the failed item to skip, e.g. deploy.smoke")
	cmd.Flags().StringVarP(&reason, "message", "m", "", "why it is safe to go on without it (required)")
	return cmd
}

func newOverrideFreezeCmd(g *globals) *cobra.Command {
	var sign signOptions
	var freeze, reason string
	cmd := &cobra.Command{
		Use:   "override-freeze RELEASE --freeze NAME -m REASON",
		Short: "Consent to deploying inside a freeze; two distinct rollback approvers make it count",
		Long: `Consent to a release deploying inside one of its spec's freeze windows. A
release never starts its code freeze, migrations or deploy inside a freeze: it
waits until the freeze ends. The override takes effect when a second, distinct
person holding a rollback-approver role sends it for the same freeze; both
consents, with their reasons, go into the audit ledger. It may come before
the freeze holds the release.`,
		Example: `  golive override-freeze release:patient-portal:production --freeze year-end --as alice -m "security fix CVE-2026-1234"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := needAs(g); err != nil {
				return err
			}
			if freeze == "" || strings.TrimSpace(reason) == "" {
				return errors.New("override-freeze needs --freeze NAME (the freeze in the spec) and -m REASON")
			}
			return sendSigned(g, cmd.Context(), args[0], workflows.OverrideFreezeName, workflows.OverrideFreeze{Person: g.as, Freeze: freeze, Reason: reason}, sign,
				func(q *workflows.OverrideFreeze, sig string, at time.Time) { q.Signature, q.SignedAt = sig, at })
		},
	}
	addSignFlags(cmd, &sign)
	cmd.Flags().StringVar(&freeze, "freeze", "", "the name of the freeze in the spec")
	cmd.Flags().StringVarP(&reason, "message", "m", "", "why the release must deploy inside it (required)")
	return cmd
}
