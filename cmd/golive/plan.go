package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

func newPlanCmd(g *globals) *cobra.Command {
	var pf preflightFlags
	var tz string
	var checkTimeout time.Duration
	var noChecks bool
	cmd := &cobra.Command{
		Use:   "plan SPEC",
		Short: "Show what a release would do and when, without starting it: start's checks, readiness now, migrations, timeline",
		Long: `plan runs every check start makes (spec, team directory and policy, version, window, freezes),
runs the readiness gate's automatic checks now, read-only, lists the migrations T-0 would apply
with their checksums, and prints the timeline (T-4h, T-0, T+1h, each watch check, the review,
each sign-off deadline) in --tz and UTC. It exits 1 when start would refuse the release.`,
		Example: `  golive plan examples/demo.yaml --version 1.1.0 --window +6h
  golive plan release.yaml --version 4.2.0 --window 2026-12-01T22:00:00Z --tz America/New_York -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := zoneFlag(tz)
			if err != nil {
				return err
			}
			now := time.Now()
			p, err := runPreflight(cmd.Context(), args[0], pf, now)
			if err != nil {
				return err
			}
			out := planResult{
				File: args[0], Service: p.loaded.Spec.Service, Environment: p.loaded.Spec.Environment, Version: p.version,
				SpecDigest: p.loaded.Digest, TimeZone: loc.String(), StartAllowed: p.err() == nil, Checks: p.checks,
				Start: now.UTC(), T0: p.t0.UTC(), Freeze: p.freeze, FreezeOverride: p.override,
			}
			if !noChecks {
				out.Readiness = runReadinessChecks(cmd.Context(), p.loaded.Spec, checkTimeout, cmd.ErrOrStderr())
				out.Migrations = pendingMigrations(out.Readiness)
			}
			out.Timeline = planTimeline(p.loaded.Spec, now, p.t0, loc)
			out.Freezes = spec.FreezesBetween(p.loaded.Spec.Freeze, now, p.t0.Add(p.loaded.Spec.Window.Duration.D()))
			if g.json() {
				if err := json.NewEncoder(cmd.OutOrStdout()).Encode(out); err != nil {
					return err
				}
			} else {
				printPlan(cmd.OutOrStdout(), out, loc)
			}
			if err := p.err(); err != nil {
				return fmt.Errorf("start would refuse this release:\n%w", err)
			}
			return nil
		},
	}
	pf.add(cmd)
	cmd.Flags().StringVar(&tz, "tz", "", "IANA time zone the timeline is shown in beside UTC (default: the local one)")
	cmd.Flags().DurationVar(&checkTimeout, "check-timeout", 2*time.Minute, "bound on all the readiness checks together")
	cmd.Flags().BoolVar(&noChecks, "no-checks", false, "do not run the readiness checks (and so list no pending migrations)")
	return cmd
}

// zoneFlag reads a --tz flag: an IANA zone, or the local one when empty.
func zoneFlag(tz string) (*time.Location, error) {
	if tz == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("--tz %q: want an IANA time zone such as America/New_York: %w", tz, err)
	}
	return loc, nil
}

// planResult is what `golive plan -o json` prints.
type planResult struct {
	File        string `json:"spec_file"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Version     string `json:"version"`
	SpecDigest  string `json:"spec_digest"`
	TimeZone    string `json:"time_zone"`
	// StartAllowed is false when golive start would refuse the release (see Checks).
	StartAllowed bool             `json:"start_allowed"`
	Checks       []preflightCheck `json:"checks"`
	// Start is when the plan was made: the timeline places the release's start there.
	Start          time.Time       `json:"start"`
	T0             time.Time       `json:"t0"`
	Freeze         *spec.FreezeHit `json:"freeze,omitempty"`
	FreezeOverride string          `json:"freeze_override,omitempty"`
	Readiness      []planCheck     `json:"readiness"`
	Migrations     *planCheck      `json:"pending_migrations,omitempty"`
	Timeline       []planEvent     `json:"timeline"`
	// Freezes are the freeze occurrences between now and the end of the
	// deployment window: the release waits inside any of them before its
	// code freeze, migrations and deploy (unless two rollback approvers override it).
	Freezes []spec.FreezePeriod `json:"freezes"`
}

// planEvent is one moment of the timeline, placed from T-0 and in both zones.
type planEvent struct {
	spec.Event
	// FromT0 is the moment's distance from T-0 (negative before it).
	FromT0 time.Duration `json:"from_t0_ns"`
	// Local is At in the plan's time zone.
	Local string `json:"at_local"`
}

func planTimeline(s spec.Spec, start, t0 time.Time, loc *time.Location) []planEvent {
	events := spec.Timeline(s, start, t0)
	out := make([]planEvent, len(events))
	for i, e := range events {
		e.At = e.At.UTC()
		out[i] = planEvent{Event: e, FromT0: e.At.Sub(t0), Local: e.At.In(loc).Format(time.RFC3339)}
	}
	return out
}

func printPlan(w io.Writer, p planResult, loc *time.Location) {
	fmt.Fprintf(w, "plan: %s %s → %s (%s, sha256 %s)\n\n", p.Service, p.Environment, dash(p.Version), p.File, short(p.SpecDigest))
	fmt.Fprintln(w, "what golive start checks:")
	for _, c := range p.Checks {
		mark := "ok     "
		if !c.OK {
			mark = "REFUSED"
		}
		fmt.Fprintf(w, "  %s %-9s %s\n", mark, c.Name, c.Detail)
	}
	printReadiness(w, p.Readiness, p.Migrations)
	fmt.Fprintf(w, "\ntimeline (%s and UTC; \"≥\": at the earliest, later if the step before takes longer):\n", loc)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\tUTC\tfrom T-0\twhat\n", loc)
	for _, e := range p.Timeline {
		mark := " "
		if e.Earliest {
			mark = "≥"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", mark, e.At.In(loc).Format("Mon 2006-01-02 15:04:05 MST"), e.At.Format("2006-01-02 15:04:05Z"), signed(e.FromT0), e.Title)
	}
	_ = tw.Flush()
	if len(p.Freezes) > 0 {
		fmt.Fprintf(w, "\nfreezes from now to the end of the deployment window (the code freeze, migrations and deploy wait inside one):\n")
		for _, f := range p.Freezes {
			fmt.Fprintf(w, "  %-16s %s → %s  %s\n", f.Name, render.When(f.Start, loc), render.When(f.End, loc), f.Reason)
		}
	}
	if prep := firstOf(p.Timeline, spec.EventPrepare); !prep.At.IsZero() && prep.At.Before(p.Start) {
		fmt.Fprintln(w, "\nnote: T-4h is already past: the T-4h stage runs as soon as the approvals are in, with less lead than the spec asks")
	}
}

func printReadiness(w io.Writer, checks []planCheck, migrations *planCheck) {
	if checks == nil {
		fmt.Fprintln(w, "\nreadiness checks: not run (--no-checks)")
		return
	}
	failed := 0
	fmt.Fprintf(w, "\nreadiness checks, run now (%d):\n", len(checks))
	for _, c := range checks {
		if !c.State.Clears() && !c.Optional {
			failed++
		}
		fmt.Fprintf(w, "  %-11s %-28s %s %s\n", c.State, c.ItemID, c.Value, truncate(c.Detail, 160))
	}
	if failed > 0 {
		fmt.Fprintf(w, "  %d required check(s) would not pass the gate now\n", failed)
	}
	switch {
	case migrations == nil:
		fmt.Fprintln(w, "\npending migrations: the spec has no postgres.pending_migrations readiness item")
	default:
		fmt.Fprintf(w, "\npending migrations (%s): %s\n", migrations.State, migrations.Value)
		if d := strings.TrimPrefix(migrations.Detail, "to apply at T-0: "); d != "" {
			for _, m := range strings.Split(d, ", ") {
				fmt.Fprintf(w, "  %s\n", m)
			}
		}
	}
}

func firstOf(events []planEvent, kind spec.EventKind) planEvent {
	for _, e := range events {
		if e.Kind == kind {
			return e
		}
	}
	return planEvent{}
}

// signed formats a distance from T-0, to the second, as T-4h, T-0, T+1h15m, T+10s.
func signed(d time.Duration) string {
	sign := "+"
	if d == 0 {
		return "T-0"
	}
	if d < 0 {
		sign, d = "-", -d
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return "T" + sign + s
}
