package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// prepare is Deployment Day T-4h (stage 4): notices, backup verification and the people's reviews.
func (r *release) prepare(ctx workflow.Context) error {
	at := r.st.Window.Add(-r.spec.Window.PrepareLead.D())
	if err := r.waitUntil(ctx, at, "T-4h: wait for the pre-deployment window"); err != nil {
		return err
	}
	r.setStage(ctx, record.StagePrepare)
	window := fmt.Sprintf("%s for %s", r.st.Window.UTC().Format(time.RFC3339), r.spec.Window.Duration)
	r.mark(ctx, itemTeamNotice, record.ItemRunning, "", "")
	r.markNotify(ctx, itemTeamNotice, r.notifyRoles(ctx, notify.EventTeamNotification, []string{"full_team"}, 0, "Deployment window "+window))
	r.mark(ctx, itemMaintenance, record.ItemRunning, "", "")
	r.markNotify(ctx, itemMaintenance, r.notifyUsers(ctx, notify.EventMaintenanceWindow, "Scheduled maintenance "+window))
	if err := r.guard(ctx, spec.StepBackup, func(ctx workflow.Context) error { return r.verifyBackup(ctx, itemBackupPre, "pre-deploy") },
		r.failedItems(itemBackupPre)); err != nil {
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
		return end(record.OutcomeNotReady, "T-4h checks not passed: "+strings.Join(off, "; "))
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
	if res.State == record.ItemFailed || res.State == record.ItemUnavailable {
		return fmt.Errorf("backup verification (%s) %s: %s", phase, res.State, res.Detail)
	}
	return nil
}
