package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// DrillInput is one recovery drill against a staging target. Schedules
// created by `golive drill schedule` start DrillWorkflow with it.
type DrillInput struct {
	Service string         `json:"service"`
	Kind    spec.DrillKind `json:"kind"`
	Staging spec.Staging   `json:"staging"`
	// PITRCommand is the point-in-time restore of a pitr drill.
	PITRCommand []string `json:"pitr_command,omitempty"`
}

// DrillResult is a drill's verdict, as written to the audit ledger.
type DrillResult struct {
	activities.Result
	// LedgerHead is the ledger's hash after the drill's row.
	LedgerHead string `json:"ledger_head"`
}

// DrillSchedulePrefix starts the ID of every drill Schedule.
const DrillSchedulePrefix = "golive-drill-"

// DrillScheduleID is the Schedule that runs one service's drills of a kind.
func DrillScheduleID(service string, kind spec.DrillKind) string {
	return DrillSchedulePrefix + service + "-" + string(kind)
}

// DrillWorkflowID is the ID of a drill's run (a Schedule appends its time to it).
func DrillWorkflowID(service string, kind spec.DrillKind) string {
	return audit.DrillRelease(service, string(kind))
}

// drillSummaries are the activity summaries of each drill kind.
var drillSummaries = map[spec.DrillKind]string{
	spec.DrillBackupRestore:     "Drill: restore the staging backup and compare (Disaster recovery plan tested)",
	spec.DrillRollbackRehearsal: "Drill: rollback rehearsal on a restore of staging (Rollback plan tested and documented)",
	spec.DrillPITR:              "Drill: point-in-time restore into staging (Point-in-time recovery tested)",
}

// DrillWorkflow runs one drill and appends its result to the audit ledger,
// where the drill check reads it. A drill that failed is a result, not a
// workflow failure; a result the ledger could not take fails the workflow,
// since an unrecorded drill proves nothing to the readiness gate.
func DrillWorkflow(ctx workflow.Context, in DrillInput) (DrillResult, error) {
	summary, ok := drillSummaries[in.Kind]
	if !ok {
		return DrillResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown drill kind %q", in.Kind), activities.ErrBadInput, nil)
	}
	actx := act(ctx, summary, 2*time.Hour)
	backupIn := activities.BackupInput{ReleaseID: DrillWorkflowID(in.Service, in.Kind), Phase: "drill", Backup: in.Staging.Backup, Database: in.Staging.Database}
	var f workflow.Future
	switch in.Kind {
	case spec.DrillBackupRestore:
		f = workflow.ExecuteActivity(actx, database.VerifyBackup, backupIn)
	case spec.DrillRollbackRehearsal:
		f = workflow.ExecuteActivity(actx, database.RehearseRollback, backupIn)
	case spec.DrillPITR:
		f = workflow.ExecuteActivity(actx, database.DrillPITR, activities.DrillPITRInput{Command: in.PITRCommand, Database: in.Staging.Database, Timeout: time.Hour})
	}
	var res DrillResult
	if err := f.Get(ctx, &res.Result); err != nil {
		res.Result = activities.Result{State: record.ItemFailed, Value: "drill could not run", Detail: errText(err)}
	}
	info := workflow.GetInfo(ctx)
	ev := audit.Event{At: workflow.Now(ctx), Kind: audit.KindDrill, Actor: "golive", Action: string(res.State), Reason: res.Detail,
		Data: map[string]string{"drill": string(in.Kind), "service": in.Service, "value": res.Value, "workflow_id": info.WorkflowExecution.ID}}
	lctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             "Audit ledger: append the drill's result",
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 10, MaximumInterval: time.Minute, NonRetryableErrorTypes: nonRetryable},
	})
	var app activities.AppendResult
	appendIn := activities.AppendInput{ReleaseID: DrillWorkflowID(in.Service, in.Kind) + "/" + info.WorkflowExecution.RunID, Events: []audit.Event{ev}}
	if err := workflow.ExecuteActivity(lctx, auditor.Append, appendIn).Get(ctx, &app); err != nil {
		return res, fmt.Errorf("drill %s %s, not recorded in the audit ledger: %w", in.Kind, res.State, err)
	}
	res.LedgerHead = app.Head
	return res, nil
}
