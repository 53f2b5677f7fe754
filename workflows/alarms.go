package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// changeT0Alarms is the workflow change that re-checks the watched alarms
// right before the deploy; releases recorded before it replay without it.
const changeT0Alarms = "t0-alarm-recheck"

// itemT0Alarms is "no watched alarm firing at T-0".
const itemT0Alarms = "deploy.alarms"

// recheckAlarms runs the readiness alerts checks again at T-0, before the
// code freeze and the first change: an alarm that started firing since the
// readiness gate would be taken as the new normal by the watch, which then
// never rolls back on it. A firing alarm (or alarms that cannot be read,
// which is never a pass) stops the release before anything is deployed,
// with the reason recorded; an optional alerts item is reported only.
func (r *release) recheckAlarms(ctx workflow.Context) error {
	var checks []spec.Item
	for _, it := range r.spec.Readiness.Items {
		if it.Auto != nil && it.Auto.CheckKind() == spec.KindAlerts {
			checks = append(checks, it)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	r.addStep("", record.Item{ID: itemT0Alarms, Stage: record.StageDeploy, Section: "Deployment (T-0)",
		Title: "No watched alarm firing at T-0 (alert rules and alarms read again before deploy)"})
	r.mark(ctx, itemT0Alarms, record.ItemRunning, "", "")
	futs := make([]workflow.Future, len(checks))
	for i, it := range checks {
		in := activities.CheckInput{ReleaseID: r.st.ReleaseID, ItemID: itemT0Alarms, Check: *it.Auto, App: r.spec.App}
		futs[i] = workflow.ExecuteActivity(act(ctx, "T-0: watched alarms again ("+it.ID+")", 0), activities.CheckActivity(spec.KindAlerts), in)
	}
	var values, blocking, notes []string
	for i, f := range futs {
		var res activities.Result
		if err := f.Get(ctx, &res); err != nil {
			if ctx.Err() != nil {
				return err
			}
			res = activities.Result{State: record.ItemUnavailable, Detail: errText(err)}
		}
		values = append(values, res.Value)
		if res.State != record.ItemPassed {
			why := fmt.Sprintf("%s %s: %s", checks[i].ID, res.State, res.Detail)
			if checks[i].Optional {
				notes = append(notes, why+" (optional)")
			} else {
				blocking = append(blocking, why)
			}
		}
	}
	state := record.ItemPassed
	if len(blocking) > 0 {
		state = record.ItemFailed
	}
	r.mark(ctx, itemT0Alarms, state, strings.Join(values, "; "), strings.Join(append(blocking, notes...), "; "))
	if len(blocking) > 0 {
		return end(record.OutcomeNotReady, "T-0: stopped before deploy, watched alarms not quiet: "+strings.Join(blocking, "; "))
	}
	return nil
}
