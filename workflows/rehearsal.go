package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
)

// changeRehearsal is the workflow change that added the rollback rehearsal
// at T-4h; releases recorded before it replay without the activity.
const changeRehearsal = "rollback-rehearsal"

// itemRehearsal proves "Rollback plan tested and documented" on this
// release's own migrations and a restore of the production backup.
const itemRehearsal = "prepare.rollback_rehearsal"

// rehearseRollback runs the rollback rehearsal on a verified restore of the
// pre-deploy backup (Database.RehearseRollback): the pending migrations up,
// down, schema compared with the restore, up again. The item is added to the
// checklist here, after the backup verification, so releases started before
// the change never show it pending. A failed or unavailable rehearsal stops
// the release at T-4h, as a failed backup verification does.
func (r *release) rehearseRollback(ctx workflow.Context) error {
	r.addStep(itemBackupPre, record.Item{ID: itemRehearsal, Stage: record.StagePrepare, Section: "Pre-Deployment (T-4 hours)",
		Title: "Rollback rehearsal on the verified backup: migrations up, down, schema compared, up again"})
	r.mark(ctx, itemRehearsal, record.ItemRunning, "", "")
	in := activities.BackupInput{ReleaseID: r.st.ReleaseID, Phase: "pre-deploy", Backup: r.spec.Backup, Database: r.spec.Database}
	var res activities.Result
	if err := workflow.ExecuteActivity(act(ctx, "Rollback rehearsal on the verified backup", 2*time.Hour), database.RehearseRollback, in).Get(ctx, &res); err != nil {
		r.markErr(ctx, itemRehearsal, err)
		return fmt.Errorf("rollback rehearsal: %w", err)
	}
	r.markResult(ctx, itemRehearsal, res)
	if res.State == record.ItemFailed || res.State == record.ItemUnavailable {
		return fmt.Errorf("rollback rehearsal %s: %s", res.State, res.Value)
	}
	return nil
}

// addStep inserts a step item, once: right after the item named after, or
// with after empty, before the first item of its stage. Versioned steps are
// added when they run, so releases started before them never show them pending.
func (r *release) addStep(after string, it record.Item) {
	if r.item(it.ID) != nil {
		return
	}
	it.Mode, it.State = record.ModeStep, record.ItemPending
	var i int
	if after == "" {
		i = slices.IndexFunc(r.st.Items, func(x record.Item) bool { return x.Stage == it.Stage })
	} else if i = slices.IndexFunc(r.st.Items, func(x record.Item) bool { return x.ID == after }); i >= 0 {
		i++
	}
	if i < 0 {
		i = len(r.st.Items)
	}
	r.st.Items = slices.Insert(r.st.Items, i, it)
}
