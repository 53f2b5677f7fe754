package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/spec"
)

// preflightFlags are the flags start and plan share: what to release, when,
// against which team directory, and a reason to deploy inside a freeze.
type preflightFlags struct {
	version, window, dirFile, overrideFreeze string
}

func (f *preflightFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.version, "version", "", "version to release (default: from the spec's version source)")
	cmd.Flags().StringVar(&f.window, "window", "", "T-0: RFC 3339 time, or +DURATION from now (default: now)")
	cmd.Flags().StringVar(&f.overrideFreeze, "override-freeze", "",
		"REASON to start although T-0 falls inside one of the spec's freezes (recorded in the release's details and memo)")
	addDirectoryCheckFlag(cmd, &f.dirFile)
}

// preflight is what start checks before it sends anything, and what plan
// shows: the spec, the team directory and its policy, the version, the window
// and the freezes. Each check's outcome is kept, so plan can list them all
// where start stops at the first that refuses.
type preflight struct {
	loaded *spec.Loaded
	// version is "" when it could not be resolved (see checks).
	version string
	// window is T-0 as given (zero: now); t0 is T-0 as the release resolves it.
	window, t0 time.Time
	// freeze is the freeze T-0 falls in, if any.
	freeze *spec.FreezeHit
	// override is --override-freeze's reason when a freeze was overridden.
	override string
	checks   []preflightCheck
}

// preflightCheck is one thing start checks, passed or not.
type preflightCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	err    error
}

// runPreflight loads the spec and runs every check start makes. Only a spec
// that does not load is an error here: every other refusal is in the checks.
func runPreflight(ctx context.Context, path string, f preflightFlags, now time.Time) (*preflight, error) {
	loaded, err := spec.LoadContext(ctx, path)
	if err != nil {
		return nil, err
	}
	s := loaded.Spec
	p := &preflight{loaded: loaded}
	p.add("spec", nil, fmt.Sprintf("%s %s: %d readiness items, %d watch checks, sha256 %s",
		s.Service, s.Environment, len(s.Readiness.Items), len(s.Watch.Checkpoints()), short(loaded.Digest)))
	dirDetail := "not checked here (no --directory); the worker checks with its own"
	if f.dirFile != "" {
		dirDetail = f.dirFile + ": every person, role and slot the spec names is there, and its policy for " + s.Environment + " holds"
	}
	p.add("directory", checkDirectory(loaded, f.dirFile), dirDetail)
	p.version, err = resolveVersion(s, f.version)
	p.add("version", err, p.version)
	p.window, err = parseWindow(f.window, now)
	p.t0 = spec.ResolveWindow(now, p.window)
	p.add("window", err, windowDetail(p.window, p.t0))
	p.checkFreeze(s.Freeze, f.overrideFreeze)
	return p, nil
}

func (p *preflight) add(name string, err error, detail string) {
	c := preflightCheck{Name: name, OK: err == nil, Detail: detail, err: err}
	if err != nil {
		c.Detail = err.Error()
	}
	p.checks = append(p.checks, c)
}

func windowDetail(window, t0 time.Time) string {
	if window.IsZero() {
		return "T-0 now (" + t0.UTC().Format(time.RFC3339) + "): the release deploys as soon as its approvals are in, with no T-4h lead"
	}
	return "T-0 " + t0.UTC().Format(time.RFC3339)
}

// checkFreeze refuses a T-0 inside a freeze, naming it, its reason and when it
// ends, unless --override-freeze gives a reason.
func (p *preflight) checkFreeze(freezes []spec.Freeze, override string) {
	hit, in := spec.FreezeAt(freezes, p.t0)
	if !in {
		p.add("freeze", nil, fmt.Sprintf("T-0 is outside the spec's %d freeze(s)", len(freezes)))
		return
	}
	p.freeze = &hit
	what := fmt.Sprintf("T-0 %s is inside freeze %q (%s), %s until %s", p.t0.UTC().Format(time.RFC3339), hit.Period.Name, hit.Period.Reason,
		hit.Period.Start.Format(time.RFC3339), hit.Until.Format(time.RFC3339))
	if override == "" {
		p.add("freeze", fmt.Errorf("%s: give a --window from %s on, or --override-freeze REASON", what, hit.Until.UTC().Format(time.RFC3339)), "")
		return
	}
	p.override = override
	p.add("freeze", nil, what+"; overridden: "+override)
}

// err is every refusal of the checks, joined, or nil when start may go on.
func (p *preflight) err() error {
	var errs []error
	for _, c := range p.checks {
		if c.err != nil {
			errs = append(errs, c.err)
		}
	}
	return errors.Join(errs...)
}

// warnOverride tells the person starting a release that it deploys inside a freeze.
func (p *preflight) warnOverride() {
	if p.override != "" && p.freeze != nil {
		fmt.Fprintf(os.Stderr, "warning: T-0 is inside freeze %q (%s); starting anyway: %s\n", p.freeze.Period.Name, p.freeze.Period.Reason, p.override)
	}
}
