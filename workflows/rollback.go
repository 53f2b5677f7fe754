package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
)

// rollback is the saga (stage 8): record the decision, notify, undo what was
// done in reverse order, verify, watch, and document the incident. It runs on a
// disconnected context so that a cancelled release still rolls back.
func (r *release) rollback(ctx workflow.Context, trigger, by string) {
	r.setStage(ctx, record.StageRollback)
	r.st.Rollback = &record.RollbackState{Trigger: trigger, By: by, At: workflow.Now(ctx)}
	r.st.Items = append(r.st.Items, rollbackItems(r.spec)...)
	decidedBy := by
	if by == "golive" {
		decidedBy = "golive (rollback trigger approved in the spec by " + fmt.Sprint(r.spec.Rollback.Approvers) + ")"
	}
	r.mark(ctx, itemRBDecision, record.ItemPassed, decidedBy, trigger)
	if it := r.item(itemRBDecision); it != nil {
		it.Actor = by
	}
	r.alerts.raise(ctx, r.spec.Escalation.RollbackLevel, "rollback: "+trigger, "rollback")
	r.markNotify(ctx, itemRBNotify, r.notifyUsers(ctx, notify.EventRollbackDeclared, "Rollback of "+r.in.Version+": "+trigger))

	var errs []error
	for i := len(r.comps) - 1; i >= 0; i-- {
		c := r.comps[i]
		if err := c.run(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	r.comps = nil
	if it := r.item(itemRBMigrations); it != nil && it.State == record.ItemPending {
		r.mark(ctx, itemRBMigrations, record.ItemSkipped, "no migrations applied by this release", "")
	}
	if r.st.PreviousVersion != "" && r.item(itemRBRevert).State == record.ItemPassed {
		if err := r.verifyLive(ctx, itemRBVerify, r.st.PreviousVersion); err == nil {
			if err := r.smoke(ctx, itemRBVerify); err != nil {
				errs = append(errs, err)
			}
		} else {
			errs = append(errs, err)
		}
	} else {
		r.mark(ctx, itemRBVerify, record.ItemSkipped, "application was not reverted", "")
	}
	r.postRollbackWatch(ctx)
	r.incident(ctx)

	r.st.Rollback.Completed = len(errs) == 0
	if len(errs) > 0 {
		r.st.Rollback.Error = errors.Join(errs...).Error()
		r.alerts.raise(ctx, r.spec.Escalation.RollbackLevel, "rollback incomplete: "+r.st.Rollback.Error, "rollback-failed")
	}
	r.notifyRoles(ctx, notify.EventRollbackCompleted, []string{"full_team"}, 0, "Rollback of "+r.in.Version+" finished; live: "+orUnknown(r.st.LiveVersion))
}

// revertApp deploys the recorded previous version again (no rebuild).
func (r *release) revertApp(ctx workflow.Context) error {
	r.mark(ctx, itemRBRevert, record.ItemRunning, "", "")
	if r.st.PreviousVersion == "" {
		r.mark(ctx, itemRBRevert, record.ItemFailed, "", "previous version unknown: revert by hand")
		return errors.New("previous version unknown")
	}
	var res activities.DeployResult
	err := workflow.ExecuteActivity(act(ctx, "Revert application code to "+r.st.PreviousVersion, r.spec.Deploy.Timeout.D()),
		deployer.Revert, r.deployInput(r.st.PreviousVersion)).Get(ctx, &res)
	if err != nil {
		r.markErr(ctx, itemRBRevert, err)
		return err
	}
	r.st.LiveVersion = r.st.PreviousVersion
	r.mark(ctx, itemRBRevert, record.ItemPassed, r.st.PreviousVersion+" live again", res.Output)
	return nil
}

// migrateDown migrates to the recorded version. A migration without a down part
// stops it: the schema is left as it is (frozen) and the problem escalated.
func (r *release) migrateDown(ctx workflow.Context, to int64) error {
	r.mark(ctx, itemRBMigrations, record.ItemRunning, "", "")
	in := activities.MigrateInput{ReleaseID: r.st.ReleaseID, Database: r.spec.Database, TargetVersion: to}
	var res activities.MigrateResult
	err := workflow.ExecuteActivity(act(ctx, fmt.Sprintf("Rollback database migrations to version %d", to), r.spec.Database.StatementTimeout.D()*4),
		database.MigrateDown, in).Get(ctx, &res)
	if err != nil {
		r.markErr(ctx, itemRBMigrations, err)
		return err
	}
	if res.Blocking != "" {
		r.st.Rollback.Frozen = true
		msg := fmt.Sprintf("migration %s has no down part: schema frozen at version %d", res.Blocking, res.After)
		r.mark(ctx, itemRBMigrations, record.ItemFailed, fmt.Sprintf("version %d → %d", res.Before, res.After), msg)
		r.alerts.raise(ctx, r.spec.Escalation.RollbackLevel, "database rollback blocked: "+msg, "db-frozen")
		return errors.New(msg)
	}
	r.mark(ctx, itemRBMigrations, res.State, fmt.Sprintf("version %d → %d", res.Before, res.After), res.Detail)
	return nil
}

// postRollbackWatch watches the system after the rollback ("Monitor post-rollback").
func (r *release) postRollbackWatch(ctx workflow.Context) {
	checks := rollbackCheckpoints(r.spec.Rollback.Watch)
	if len(checks) == 0 {
		r.mark(ctx, itemRBMonitor, record.ItemSkipped, "no post-rollback watch in the spec", "")
		return
	}
	r.mark(ctx, itemRBMonitor, record.ItemRunning, "", "")
	from := workflow.Now(ctx)
	done := r.waitFor(ctx, record.WaitWatch, fmt.Sprintf("the post-rollback watch: %d checks", len(checks)), from.Add(checks[len(checks)-1].Offset), "")
	defer done()
	var res MonitorResult
	err := r.monitor(ctx, MonitorInput{
		ReleaseID: r.st.ReleaseID, Window: WindowRollback, From: from, Checks: checks,
		Metrics: r.spec.Metrics, Thresholds: r.spec.Thresholds,
	}).Get(ctx, &res)
	if err != nil {
		r.markErr(ctx, itemRBMonitor, err)
		return
	}
	state := record.ItemPassed
	if res.Worst != record.VerdictOK {
		state = record.ItemFailed
	}
	r.mark(ctx, itemRBMonitor, state, fmt.Sprintf("%d checks, worst %s", res.Checks, res.Worst), "")
}

// incident writes the incident record (post-mortem skeleton) through the recorder.
func (r *release) incident(ctx workflow.Context) {
	r.mark(ctx, itemRBIncident, record.ItemRunning, "", "")
	var path string
	in := activities.RecordInput{Dir: r.spec.Evidence.Dir, Status: r.st}
	if err := workflow.ExecuteActivity(act(ctx, "Document incident: create post-mortem", 0), recorder.Incident, in).Get(ctx, &path); err != nil {
		r.markErr(ctx, itemRBIncident, err)
		return
	}
	r.mark(ctx, itemRBIncident, record.ItemPassed, path, "")
}

// postRollbackReview waits for the post-rollback action items and the review sign-offs.
func (r *release) postRollbackReview(ctx workflow.Context) {
	r.setStage(ctx, record.StageReview)
	ok, err := r.collectAttests(ctx, record.StageRollback, r.spec.Review.Timeout.D())
	if err != nil || !ok {
		r.st.Reason += "; post-rollback action items still open: " + fmt.Sprint(r.openItems(record.StageRollback))
		return
	}
	r.reviewSignoffs(ctx)
}
