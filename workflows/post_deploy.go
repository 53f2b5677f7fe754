package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// postDeploy is the T+1h stage (stage 6). It starts the 24-hour watch's
// monitoring child first, so the watch's checks run from the deploy time while
// this stage runs the T+1h items and the "Deployment Completed By" sign-off;
// watch waits for the child.
func (r *release) postDeploy(ctx workflow.Context) error {
	r.setStage(ctx, record.StagePostDeploy)
	checks := r.spec.Watch.Checkpoints()
	r.watchChild = r.monitor(ctx, MonitorInput{
		ReleaseID: r.st.ReleaseID, Window: WindowWatch, From: r.st.DeployAt, Checks: checks,
		Metrics: r.spec.Metrics, Thresholds: r.spec.Thresholds, Baseline: r.st.Baseline, StopOnRollback: true,
	})
	r.mark(ctx, itemWatch, record.ItemRunning, fmt.Sprintf("0/%d checks", len(checks)), "")
	if err := r.waitUntil(ctx, r.st.DeployAt.Add(r.spec.Watch.T1H.D()), "T+1h: post-deployment checks"); err != nil {
		return err
	}
	// The monitoring child's T+1h report may have arrived before this timer fired.
	if r.item(itemPostMetrics).State == record.ItemPending {
		r.mark(ctx, itemPostMetrics, record.ItemRunning, "", "")
	}
	r.openAttests(ctx, record.StagePostDeploy)
	smoke := func(ctx workflow.Context) error {
		err := r.smoke(ctx, itemPostWorkflows)
		if err != nil {
			r.alerts.raise(ctx, r.spec.Escalation.RollbackLevel, "critical workflows failing at T+1h", "")
		}
		return err
	}
	if err := r.guard(ctx, spec.StepSmoke, smoke, r.failedItems(itemPostWorkflows)); err != nil {
		return err
	}
	r.mark(ctx, itemPostNotify, record.ItemRunning, "", "")
	res := r.notifyRoles(ctx, notify.EventTestMessage, []string{"full_team"}, 0, "Test notification: Email/SMS notifications working")
	r.markNotify(ctx, itemPostNotify, res)
	if !res.Passed() {
		r.alerts.raise(ctx, r.spec.Escalation.TargetLevel, "test notification failed: "+res.Detail, itemPostNotify)
	}
	if err := r.verifyBackup(ctx, itemPostBackup, "post-deploy"); err != nil {
		r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, err.Error(), itemPostBackup)
	}
	// The T+1h metric check is the monitor's; wait for its report.
	if err := r.awaitT1HReport(ctx); err != nil {
		return err
	}
	if _, err := r.collectAttests(ctx, record.StagePostDeploy, r.spec.Completion.Timeout.D()); err != nil {
		return err
	}
	err := r.collectSignoffs(ctx, BlockCompletion)
	if why, timedOut := signoffTimedOut(err); timedOut {
		// A late completion sign-off does not undo a live release: it is noted and escalated.
		r.st.Reason = why
		r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, "Deployment Completed By sign-off overdue", BlockCompletion)
		return nil
	}
	if err == errRejected {
		return fmt.Errorf("deployment completion rejected by %s: %s", r.rejected.Person, r.rejected.Comment)
	}
	return err
}

// awaitT1HReport waits for the T+1h check's report. Since the team directory
// the wait has a deadline: past it the item is unavailable (never a pass) and
// an alert is raised, so a check that never reports cannot wedge the release.
func (r *release) awaitT1HReport(ctx workflow.Context) error {
	done := func() bool { return r.item(itemPostMetrics).State.Done() }
	if r.v < versionIdentity {
		return workflow.Await(ctx, done)
	}
	deadline := r.st.DeployAt.Add(r.spec.Watch.T1H.D()).Add(spec.CheckGrace)
	defer r.waitFor(ctx, record.WaitWatch, "the T+1h key-metrics check", deadline, "the item is unavailable and an alert is raised")()
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      max(deadline.Sub(workflow.Now(ctx)), time.Millisecond),
		TimerOptions: workflow.TimerOptions{Summary: "T+1h: waiting for the key-metrics check until " + deadline.UTC().Format(time.RFC3339)},
	}, done)
	if err != nil || ok {
		return err
	}
	r.mark(ctx, itemPostMetrics, record.ItemUnavailable, "", "no T+1h metrics report by "+deadline.UTC().Format(time.RFC3339))
	r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, "T+1h key metrics could not be checked", itemPostMetrics)
	return nil
}
