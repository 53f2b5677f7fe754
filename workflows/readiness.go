package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// readiness runs the Pre-Deployment Checklist gate (stage 2): every automatic
// check in parallel, then the attestations; the gate passes when every required item passed.
func (r *release) readiness(ctx workflow.Context) error {
	r.setStage(ctx, record.StageReadiness)
	// Each kind runs on the activity activities.CheckActivity names; releases
	// recorded before that table sent every non-database kind to Prober.Check.
	byKind := workflow.GetVersion(ctx, "readiness-check-activities", workflow.DefaultVersion, 1) >= 1
	return r.guard(ctx, spec.StepReadiness, func(ctx workflow.Context) error { return r.readinessGate(ctx, byKind) },
		func() []string { return r.notPassed(record.StageReadiness) })
}

// readinessGate runs the automatic checks not passed yet (all of them the
// first time; a retry runs the failed ones again), then waits for the
// attestations; it ends the release not ready when a required item did not pass.
func (r *release) readinessGate(ctx workflow.Context, byKind bool) error {
	type pending struct {
		id  string
		fut workflow.Future
	}
	var futs []pending
	for _, it := range r.spec.Readiness.Items {
		if it.Auto == nil {
			continue
		}
		if st := r.item(it.ID); st != nil && st.State.Clears() {
			continue
		}
		in := activities.CheckInput{ReleaseID: r.st.ReleaseID, ItemID: it.ID, Check: *it.Auto, App: r.spec.App}
		timeout := it.Auto.Timeout.D() + 30*time.Second
		actx := act(ctx, "Readiness: "+it.Title, timeout)
		var f workflow.Future
		if byKind {
			f = workflow.ExecuteActivity(actx, activities.CheckActivity(it.Auto.CheckKind()), in)
		} else if isDatabaseCheck(it.Auto.Kind) {
			f = workflow.ExecuteActivity(actx, database.CheckDatabase, in)
		} else {
			f = workflow.ExecuteActivity(actx, prober.Check, in)
		}
		r.mark(ctx, it.ID, record.ItemRunning, "", "")
		futs = append(futs, pending{it.ID, f})
	}
	r.openAttests(ctx, record.StageReadiness)
	for _, p := range futs {
		var res activities.Result
		if err := p.fut.Get(ctx, &res); err != nil {
			if ctx.Err() != nil {
				return err
			}
			r.markErr(ctx, p.id, err)
			continue
		}
		r.markResult(ctx, p.id, res)
	}
	if _, err := r.collectAttests(ctx, record.StageReadiness, r.spec.Readiness.Timeout.D()); err != nil {
		return err
	}
	if off := r.offenders(record.StageReadiness); len(off) > 0 {
		return end(record.OutcomeNotReady, fmt.Sprintf("readiness gate failed: %d item(s) not passed: %s", len(off), strings.Join(off, "; ")))
	}
	return nil
}

func isDatabaseCheck(kind string) bool {
	return strings.HasPrefix(kind, "postgres.") || kind == "backup" || kind == "sql"
}
