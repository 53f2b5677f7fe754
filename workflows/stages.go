package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
)

// plan records who releases what, and what is live now (stage 1).
func (r *release) plan(ctx workflow.Context) error {
	r.setStage(ctx, record.StagePlan)
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SAService.ValueSet(r.spec.Service), SAEnvironment.ValueSet(r.spec.Environment), SAVersion.ValueSet(r.in.Version))
	if r.v >= versionIdentity {
		if err := r.pinDirectory(ctx); err != nil {
			return err
		}
	}
	var prev string
	err := workflow.ExecuteActivity(act(ctx, "Record the version live before the release", 0), deployer.CurrentVersion, r.deployInput(r.in.Version)).Get(ctx, &prev)
	if err != nil {
		prev = ""
		workflow.GetLogger(ctx).Warn("previous version unknown", "error", err)
	}
	r.st.PreviousVersion, r.st.LiveVersion = prev, prev
	r.mark(ctx, itemPlan, record.ItemPassed,
		fmt.Sprintf("%s → %s by %s, window %s", orUnknown(prev), r.in.Version, r.requesterNote(), r.st.Window.UTC().Format(time.RFC3339)), "")
	return nil
}

// readiness runs the Pre-Deployment Checklist gate (stage 2): every automatic
// check in parallel, then the attestations; the gate passes when every required item passed.
func (r *release) readiness(ctx workflow.Context) error {
	r.setStage(ctx, record.StageReadiness)
	type pending struct {
		id  string
		fut workflow.Future
	}
	var futs []pending
	// Each kind runs on the activity activities.CheckActivity names; releases
	// recorded before that table sent every non-database kind to Prober.Check.
	byKind := workflow.GetVersion(ctx, "readiness-check-activities", workflow.DefaultVersion, 1) >= 1
	for _, it := range r.spec.Readiness.Items {
		if it.Auto == nil {
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
		r.st.Outcome = record.OutcomeNotReady
		r.st.Reason = fmt.Sprintf("readiness gate failed: %d item(s) not passed: %s", len(off), strings.Join(off, "; "))
		return fmt.Errorf("%s", r.st.Reason)
	}
	return nil
}

func isDatabaseCheck(kind string) bool {
	return strings.HasPrefix(kind, "postgres.") || kind == "backup" || kind == "sql"
}

// approvals collects "Deployment Approved By" (stage 3).
func (r *release) approvals(ctx workflow.Context) error {
	r.setStage(ctx, record.StageApprovals)
	err := r.collectSignoffs(ctx, blockApprovals)
	if err == errRejected {
		r.st.Outcome = record.OutcomeRejected
		r.st.Reason = fmt.Sprintf("rejected by %s: %s", r.rejected.Person, r.rejected.Comment)
	}
	return err
}

// prepare is Deployment Day T-4h (stage 4): notices, backup verification and the people's reviews.
func (r *release) prepare(ctx workflow.Context) error {
	at := r.st.Window.Add(-r.spec.Window.PrepareLead.D())
	if err := timerUntil(ctx, at, "T-4h: wait for the pre-deployment window"); err != nil {
		return err
	}
	r.setStage(ctx, record.StagePrepare)
	window := fmt.Sprintf("%s for %s", r.st.Window.UTC().Format(time.RFC3339), r.spec.Window.Duration)
	r.mark(ctx, itemTeamNotice, record.ItemRunning, "", "")
	r.markNotify(ctx, itemTeamNotice, r.notifyRoles(ctx, "team_notification", []string{"full_team"}, 0, "Deployment window "+window))
	r.mark(ctx, itemMaintenance, record.ItemRunning, "", "")
	r.markNotify(ctx, itemMaintenance, r.notifyUsers(ctx, "maintenance_window", "Scheduled maintenance "+window))
	if err := r.verifyBackup(ctx, itemBackupPre, "pre-deploy"); err != nil {
		return err
	}
	if workflow.GetVersion(ctx, changeRehearsal, workflow.DefaultVersion, 1) >= 1 {
		if err := r.rehearseRollback(ctx); err != nil {
			return err
		}
	}
	ok, err := r.collectAttests(ctx, record.StagePrepare, r.spec.Readiness.Timeout.D())
	if err != nil {
		return err
	}
	if off := r.offenders(record.StagePrepare); !ok || len(off) > 0 {
		r.st.Outcome = record.OutcomeNotReady
		r.st.Reason = "T-4h checks not passed: " + strings.Join(off, "; ")
		return fmt.Errorf("%s", r.st.Reason)
	}
	return nil
}

// verifyBackup runs a backup verification item; a failure stops the release.
func (r *release) verifyBackup(ctx workflow.Context, id, phase string) error {
	r.mark(ctx, id, record.ItemRunning, "", "")
	in := activities.BackupInput{ReleaseID: r.st.ReleaseID, Phase: phase, Backup: r.spec.Backup, Database: r.spec.Database}
	var res activities.Result
	if err := workflow.ExecuteActivity(act(ctx, "Backup verification ("+phase+")", 2*time.Hour), database.VerifyBackup, in).Get(ctx, &res); err != nil {
		r.markErr(ctx, id, err)
		return fmt.Errorf("backup verification (%s): %w", phase, err)
	}
	r.markResult(ctx, id, res)
	if res.State == activities.StateFailed || res.State == activities.StateUnavailable {
		return fmt.Errorf("backup verification (%s) %s: %s", phase, res.State, res.Detail)
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func (r *release) deployInput(version string) activities.DeployInput {
	return activities.DeployInput{ReleaseID: r.st.ReleaseID, Deploy: r.spec.Deploy, App: r.spec.App, Version: version, Previous: r.st.PreviousVersion}
}
