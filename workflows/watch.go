package workflows

import (
	"fmt"
	"strconv"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// startMonitor starts a monitoring child for one window.
func (r *release) startMonitor(ctx workflow.Context, window string, in MonitorInput) workflow.ChildWorkflowFuture {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:        MonitorID(r.st.ReleaseID, window),
		StaticSummary:     fmt.Sprintf("%s of %s %s: %d checks", window, r.spec.Service, r.in.Version, len(in.Checks)),
		ParentClosePolicy: enums.PARENT_CLOSE_POLICY_TERMINATE,
		TaskQueue:         workflow.GetInfo(ctx).TaskQueueName,
	})
	return workflow.ExecuteChildWorkflow(cctx, MonitorWorkflow, in)
}

// watch is the first 24 hours (stage 7): it waits for the monitoring child
// that postDeploy started, which checks metrics on the fixed cadence from the
// deploy time. It is not holdable (see lifecycleStep).
func (r *release) watch(ctx workflow.Context) error {
	checks := r.spec.Watch.Checkpoints()
	r.setStage(ctx, record.StageWatch)
	child := r.watchChild
	if n := len(checks); n > 0 {
		last := r.st.DeployAt.Add(checks[n-1].Offset)
		defer r.waitFor(ctx, record.WaitWatch, fmt.Sprintf("the 24-hour watch: %d checks on their fixed cadence from the deploy", n), last,
			"the watch ends and the review waits for its time")()
	}
	var res MonitorResult
	if err := child.Get(ctx, &res); err != nil {
		r.markErr(ctx, itemWatch, err)
		return fmt.Errorf("24-hour watch: %w", err)
	}
	if res.Trigger != "" {
		r.mark(ctx, itemWatch, record.ItemFailed, fmt.Sprintf("stopped at check %d/%d", res.Checks, len(checks)), res.Trigger)
		return fmt.Errorf("rollback trigger: %s", res.Trigger)
	}
	state := record.ItemPassed
	if res.Worst != record.VerdictOK {
		state = record.ItemFailed
	}
	r.mark(ctx, itemWatch, state, fmt.Sprintf("%d/%d checks, worst %s, %d alert(s)", res.Checks, len(checks), res.Worst, len(r.st.Alerts)), "")
	return nil
}

// onReport records a monitoring report, judges the T+1h targets, raises alerts,
// and stops the lifecycle on a rollback trigger even while it waits elsewhere.
func (r *release) onReport(ctx workflow.Context, rep record.CheckReport) {
	r.st.Checks = append(r.st.Checks, rep)
	r.reports[rep.Window]++
	if rep.Window == WindowWatch {
		if it := r.item(itemWatch); it != nil && it.State == record.ItemRunning {
			it.Value = fmt.Sprintf("%d checks, last at +%s: %s", r.reports[rep.Window], rep.Offset, rep.Worst)
		}
	}
	if rep.Targets {
		state := record.ItemPassed
		switch rep.Worst {
		case record.VerdictUnavailable:
			state = record.ItemUnavailable
		case record.VerdictTargetMissed, record.VerdictCritical, record.VerdictRollback:
			state = record.ItemFailed
		}
		r.mark(ctx, itemPostMetrics, state, render.Readings(rep.Readings), breaches(rep.Readings))
	}
	for _, rd := range rep.Readings {
		if rd.Verdict != record.VerdictOK {
			r.audit(ctx, audit.KindMetric, "golive", string(rd.Verdict), rd.Detail,
				map[string]string{"metric": rd.Metric, "value": strconv.FormatFloat(rd.Value, 'g', 6, 64), "offset": rd.Offset, "window": rep.Window})
		}
		if rd.DryRun {
			continue
		}
		switch rd.Verdict {
		case record.VerdictTargetMissed:
			r.alerts.raise(ctx, r.spec.Escalation.TargetLevel, rd.Detail, rd.Metric)
		case record.VerdictCritical:
			r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, rd.Detail, rd.Metric)
		}
	}
	for _, msg := range rep.Escalate {
		key := "watch:" + rep.Window
		if rep.Waiting {
			key = inconclusiveKey(rep.Window)
		}
		r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, msg, key)
	}
	if rep.Worst == record.VerdictRollback && rep.Window == WindowWatch && r.stop == nil {
		r.stopLifecycle(record.OutcomeRolledBack, "golive", "rollback trigger at +"+rep.Offset.String()+": "+breaches(rep.Readings))
	}
	r.publish(ctx)
}

// markNotify records a notification result on an item.
func (r *release) markNotify(ctx workflow.Context, id string, res activities.NotifyResult) {
	r.markResult(ctx, id, res.Result)
}

// inconclusiveKey is the alert key of a watch paused on an inconclusive result;
// acknowledging that alert lets the watch go on.
func inconclusiveKey(window string) string { return "inconclusive:" + window }
