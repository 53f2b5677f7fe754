package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

func newStartCmd(g *globals) *cobra.Command {
	var pf preflightFlags
	var wait bool
	var sign signOptions
	cmd := &cobra.Command{
		Use:   "start SPEC",
		Short: "Start a release of the spec's service to its environment",
		Example: `  golive start examples/demo.yaml --version 1.1.0 --as erin --key examples/directory/keys/erin
  golive start release.yaml --version 4.2.0 --window 2026-12-01T22:00:00Z
  golive start release.yaml --version 4.2.0 --window +6h`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := runPreflight(ctx, args[0], pf, time.Now())
			if err != nil {
				return err
			}
			if err := p.err(); err != nil {
				return err
			}
			if g.as == "" {
				return errors.New("who is starting this release? pass --as PERSON or set GOLIVE_USER")
			}
			p.warnOverride()
			c, err := g.dial(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			loaded := p.loaded
			in := workflows.ReleaseInput{Spec: loaded.Spec, SpecFile: args[0], SpecDigest: loaded.Digest, Version: p.version, Requester: g.as, Window: p.window}
			// The requester is whoever signs the start: the workflow checks this
			// signature against the team directory before anything runs.
			if sign.wantSignature() {
				in.StartSignedAt = time.Now().UTC().Truncate(time.Second)
				if in.StartSignature, err = sign.sign(in.StartStatement()); err != nil {
					return err
				}
			}
			run, err := c.ExecuteWorkflow(ctx, startOptions(in, p), workflows.ReleaseWorkflow, in)
			if err != nil {
				return explainStartError(err, in)
			}
			if g.json() {
				return json.NewEncoder(os.Stdout).Encode(startResult{ReleaseID: run.GetID(), RunID: run.GetRunID()})
			}
			fmt.Printf("started %s (run %s): %s %s → %s\n", run.GetID(), run.GetRunID(), in.Spec.Service, in.Spec.Environment, p.version)
			if wait {
				return followRelease(ctx, c, run.GetID(), 2*time.Second)
			}
			fmt.Printf("follow it:  golive status %s --watch\n", run.GetID())
			return nil
		},
	}
	pf.add(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the release until it ends; exit 0 only when it completed (10 rolled_back, 11 rejected, 12 aborted, 13 not_ready, 14 timed_out, 15 failed)")
	addSignFlags(cmd, &sign)
	return cmd
}

// startOptions are the workflow options of a release: one per service and
// environment, refused loudly when one is running, searchable and readable in the UI.
func startOptions(in workflows.ReleaseInput, p *preflight) client.StartWorkflowOptions {
	s := in.Spec
	o := client.StartWorkflowOptions{
		ID:                                       workflows.ReleaseID(s.Service, s.Environment),
		TaskQueue:                                workflows.TaskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    temporalSA(s.Service, s.Environment, in.Version),
		StaticSummary:                            fmt.Sprintf("Release %s %s → %s (requested by %s)", s.Service, s.Environment, in.Version, in.Requester),
		StaticDetails:                            staticDetails(in, p),
	}
	// The workflow does not judge freezes yet: an override is kept in the
	// release's history (memo and details) for ops and the auditors.
	if p != nil && p.override != "" && p.freeze != nil {
		o.Memo = map[string]any{"golive_freeze_override": freezeOverrideNote(in.Requester, p)}
	}
	return o
}

func freezeOverrideNote(requester string, p *preflight) string {
	return fmt.Sprintf("T-0 %s inside freeze %q (%s), overridden by %s: %s",
		p.t0.UTC().Format(time.RFC3339), p.freeze.Period.Name, p.freeze.Period.Reason, requester, p.override)
}

func staticDetails(in workflows.ReleaseInput, p *preflight) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Production release checklist** for %s %s, version %s\n\n", in.Spec.Service, in.Spec.Environment, in.Version)
	fmt.Fprintf(&b, "Spec: %s (sha256 %s)\n\n", in.SpecFile, short(in.SpecDigest))
	if p != nil && p.override != "" && p.freeze != nil {
		fmt.Fprintf(&b, "**Freeze overridden**: %s\n\n", freezeOverrideNote(in.Requester, p))
	}
	for i, st := range record.Stages {
		fmt.Fprintf(&b, "%d. %s\n", i+1, st.Title)
	}
	b.WriteString("\nSign off: `golive approve RELEASE --as YOU` or Send Signal `signoff` with {\"person\":\"ID\",\"decision\":\"approve\"}.\n")
	return b.String()
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func explainStartError(err error, in workflows.ReleaseInput) error {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fmt.Errorf("a release of %s to %s is already running: %s (run %s); see `golive status %s`, or abort it first",
			in.Spec.Service, in.Spec.Environment, workflows.ReleaseID(in.Spec.Service, in.Spec.Environment), started.RunId,
			workflows.ReleaseID(in.Spec.Service, in.Spec.Environment))
	}
	return fmt.Errorf("start release: %w", err)
}

// resolveVersion takes --version, or the spec's version source.
func resolveVersion(s spec.Spec, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	switch s.Version.From {
	case "file":
		b, err := os.ReadFile(s.Version.File)
		if err != nil {
			return "", fmt.Errorf("version file: %w", err)
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("version file %s is empty", s.Version.File)
	case "env":
		if v := os.Getenv(s.Version.Env); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("environment variable %s (the spec's version source) is empty", s.Version.Env)
	}
	return "", errors.New("no version: pass --version (the spec's version.from is flag)")
}

// parseWindow reads "", an RFC 3339 time, or "+2h". A T-0 in the past is
// refused: the release would deploy right after its approvals, with no T-4h lead.
func parseWindow(s string, now time.Time) (time.Time, error) {
	var t time.Time
	switch {
	case s == "":
		return time.Time{}, nil
	case strings.HasPrefix(s, "+"):
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("--window %q: %w", s, err)
		}
		t = now.Add(d)
	default:
		var err error
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, fmt.Errorf("--window %q: want an RFC 3339 time like 2026-12-01T22:00:00Z or +6h", s)
		}
	}
	if t.Before(now) {
		return time.Time{}, fmt.Errorf("--window %s is in the past (now %s): give a T-0 ahead, or leave --window out to release now",
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// startResult is what `golive start -o json` prints.
type startResult struct {
	ReleaseID string `json:"release_id"`
	RunID     string `json:"run_id"`
}
