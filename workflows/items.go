package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// Step item IDs: the checklist lines golive performs itself. Readiness, prepare,
// review and action items come from the spec (internal/spec/checklist.go).
const (
	itemPlan           = "plan.record"
	itemTeamNotice     = "prepare.team_notification"
	itemMaintenance    = "prepare.maintenance_window"
	itemBackupPre      = "prepare.backup"
	itemFreeze         = "deploy.freeze"
	itemBaseline       = "deploy.baseline"
	itemMigrate        = "deploy.migrations"
	itemDeployApp      = "deploy.app"
	itemVerify         = "deploy.verify"
	itemSmoke          = "deploy.smoke"
	itemErrors         = "deploy.error_rate"
	itemHealth         = "deploy.health"
	itemPostMetrics    = "post.metrics"
	itemPostWorkflows  = "post.workflows"
	itemPostNotify     = "post.notifications"
	itemPostBackup     = "post.backup"
	itemWatch          = "watch.24h"
	itemCompare        = "review.compare"
	itemRegressions    = "review.regressions"
	itemRBDecision     = "rollback.decision"
	itemRBNotify       = "rollback.notify"
	itemRBRevert       = "rollback.revert"
	itemRBMigrations   = "rollback.migrations"
	itemRBVerify       = "rollback.verify"
	itemRBMonitor      = "rollback.monitor"
	itemRBIncident     = "rollback.incident"
	postUATItem        = "post.uat"
	sectionDeployDay   = "Deployment Day"
	sectionPostDeploy  = "Post-Deployment (T+1 hour)"
	sectionRollback    = "Rollback Steps"
	sectionMetricsRev  = "Metrics Review"
	sectionMonitorPlan = "Monitoring Plan"
)

// checklistItems builds the whole filled-checklist skeleton for a spec, in lifecycle order.
func checklistItems(s spec.Spec) []record.Item {
	var items []record.Item
	step := func(stage record.Stage, id, section, title string) {
		items = append(items, record.Item{ID: id, Stage: stage, Section: section, Title: title, Mode: record.ModeStep, State: record.ItemPending})
	}
	fromSpec := func(stage record.Stage, list []spec.Item) {
		for _, it := range list {
			items = append(items, specItem(stage, it))
		}
	}
	step(record.StagePlan, itemPlan, "Plan", "Release planned: requester, version, previous version, window")
	fromSpec(record.StageReadiness, s.Readiness.Items)
	step(record.StagePrepare, itemTeamNotice, "Pre-Deployment (T-4 hours)", "Team notification: Alert all team members of deployment window")
	step(record.StagePrepare, itemMaintenance, "Pre-Deployment (T-4 hours)", "Maintenance window: Schedule and communicate to users")
	step(record.StagePrepare, itemBackupPre, "Pre-Deployment (T-4 hours)", "Backup verification: Confirm latest backup is successful")
	fromSpec(record.StagePrepare, s.Prepare.Items)
	step(record.StageDeploy, itemFreeze, "Deployment (T-0)", "Code freeze: No new code changes during deployment")
	step(record.StageDeploy, itemBaseline, "Deployment (T-0)", "Baseline metrics measured before deploy")
	step(record.StageDeploy, itemMigrate, "Deployment (T-0)", "Deploy database migrations: Apply all pending migrations")
	step(record.StageDeploy, itemDeployApp, "Deployment (T-0)", "Deploy application code: Push to production")
	step(record.StageDeploy, itemVerify, "Deployment (T-0)", "Verify deployment: Confirm new version is live")
	step(record.StageDeploy, itemSmoke, "Deployment (T-0)", "Run smoke tests: Test critical user flows")
	step(record.StageDeploy, itemErrors, "Deployment (T-0)", "Monitor error rates: Check error tracking dashboard")
	step(record.StageDeploy, itemHealth, "Deployment (T-0)", "Check system health: Verify Performance Dashboard shows healthy status")
	step(record.StagePostDeploy, itemPostMetrics, sectionPostDeploy, "Monitor key metrics: error rate, p95 response time, DB connections stable, no slow-query spike")
	items = append(items, record.Item{ID: postUATItem, Stage: record.StagePostDeploy, Section: sectionPostDeploy,
		Title: "User acceptance spot check: Test as end user", Mode: record.ModeAttest, Role: uatRole(s), State: record.ItemPending})
	step(record.StagePostDeploy, itemPostWorkflows, sectionPostDeploy, "Check critical workflows: login, patient records, appointments, clinical notes, billing")
	step(record.StagePostDeploy, itemPostNotify, sectionPostDeploy, "Email/SMS notifications working: Send test notifications")
	step(record.StagePostDeploy, itemPostBackup, sectionPostDeploy, "Backup verification: Ensure post-deployment backup successful")
	step(record.StageWatch, itemWatch, sectionMonitorPlan, fmt.Sprintf("First 24 hours: %d checks on the monitoring plan's cadence", len(s.Watch.Offsets())))
	step(record.StageReview, itemCompare, sectionMetricsRev, "Compare pre/post deployment metrics")
	step(record.StageReview, itemRegressions, sectionMetricsRev, "Identify any performance regressions")
	fromSpec(record.StageReview, s.Review.Items)
	return items
}

// uatRole is who performs the user acceptance spot check: the completion engineer.
func uatRole(s spec.Spec) string {
	if len(s.Completion.Slots) > 0 {
		return s.Completion.Slots[0].Role
	}
	return "engineer"
}

func specItem(stage record.Stage, it spec.Item) record.Item {
	ri := record.Item{ID: it.ID, Stage: stage, Section: it.Section, Title: it.Title, Optional: it.Optional, State: record.ItemPending}
	if it.Auto != nil {
		ri.Mode, ri.Kind = record.ModeAuto, it.Auto.Kind
	} else {
		ri.Mode, ri.Role = record.ModeAttest, it.Attest
	}
	return ri
}

// rollbackItems are the Rollback Steps, added when a rollback starts.
func rollbackItems(s spec.Spec) []record.Item {
	mk := func(id, title string) record.Item {
		return record.Item{ID: id, Stage: record.StageRollback, Section: sectionRollback, Title: title, Mode: record.ModeStep, State: record.ItemPending}
	}
	items := []record.Item{
		mk(itemRBDecision, "Declare rollback decision: Team lead approves"),
		mk(itemRBNotify, "Notify stakeholders: Alert users if necessary"),
		mk(itemRBRevert, "Revert application code: Deploy previous version"),
		mk(itemRBMigrations, "Rollback database migrations (if necessary)"),
		mk(itemRBVerify, "Verify rollback success: Run smoke tests"),
		mk(itemRBMonitor, "Monitor post-rollback: Ensure system stable"),
		mk(itemRBIncident, "Document incident: Create post-mortem"),
	}
	for _, it := range s.Rollback.ActionItems {
		items = append(items, specItem(record.StageRollback, it))
	}
	return items
}

// item returns the record item with the given ID, or nil.
func (r *release) item(id string) *record.Item {
	for i := range r.st.Items {
		if r.st.Items[i].ID == id {
			return &r.st.Items[i]
		}
	}
	return nil
}

// mark sets an item's state and what was measured, as done by golive.
func (r *release) mark(ctx workflow.Context, id string, state record.ItemState, value, detail string) {
	it := r.item(id)
	if it == nil {
		return
	}
	it.State, it.Value, it.Detail = state, value, detail
	if state.Done() {
		it.At = workflow.Now(ctx)
		if it.Actor == "" {
			it.Actor = "golive"
		}
		kind := audit.KindItem
		if it.Stage == record.StageRollback {
			kind = audit.KindRollback
		}
		r.audit(ctx, kind, it.Actor, string(state), detail, map[string]string{"item": id, "value": value})
	}
	r.publish(ctx)
}

// markResult records an activity result on an item.
func (r *release) markResult(ctx workflow.Context, id string, res activities.Result) {
	r.mark(ctx, id, res.State, res.Value, res.Detail)
}

// markErr records an activity failure on an item.
func (r *release) markErr(ctx workflow.Context, id string, err error) {
	r.mark(ctx, id, record.ItemFailed, "", errText(err))
}

// errText is an error's message without the SDK's wrapping noise.
func errText(err error) string {
	var app *temporal.ApplicationError
	if asApp(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// itemsIn returns the IDs of a stage's items in a mode.
func (r *release) itemsIn(stage record.Stage, mode record.Mode) []string {
	var ids []string
	for _, it := range r.st.Items {
		if it.Stage == stage && it.Mode == mode {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

// offenders lists the required items of a stage that did not pass.
func (r *release) offenders(stage record.Stage) []string {
	var out []string
	for _, id := range r.notPassed(stage) {
		it := r.item(id)
		desc := it.ID + " (" + string(it.State)
		if it.Detail != "" {
			desc += ": " + firstLine(it.Detail)
		}
		out = append(out, desc+")")
	}
	return out
}

// notPassed lists the IDs of a stage's required items that did not pass.
func (r *release) notPassed(stage record.Stage) []string {
	var out []string
	for _, it := range r.st.Items {
		if it.Stage == stage && !it.Optional && !it.State.Clears() {
			out = append(out, it.ID)
		}
	}
	return out
}

// attestsDone reports whether every attest item of a stage is final.
func (r *release) attestsDone(stage record.Stage) bool {
	for _, it := range r.st.Items {
		if it.Stage == stage && it.Mode == record.ModeAttest && !it.State.Done() {
			return false
		}
	}
	return true
}

// openAttests marks a stage's attest items as waiting for a person.
func (r *release) openAttests(ctx workflow.Context, stage record.Stage) {
	for i := range r.st.Items {
		it := &r.st.Items[i]
		if it.Stage == stage && it.Mode == record.ModeAttest && it.State == record.ItemPending {
			it.State = record.ItemWaiting
		}
	}
	r.publish(ctx)
}

// waitingRoles lists the roles whose attestations a stage still waits for.
func (r *release) waitingRoles(stage record.Stage) []string {
	seen := map[string]bool{}
	var roles []string
	for _, it := range r.st.Items {
		if it.Stage == stage && it.State == record.ItemWaiting && !seen[it.Role] {
			seen[it.Role] = true
			roles = append(roles, it.Role)
		}
	}
	return roles
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
