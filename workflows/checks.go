package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// CheckInput runs one watch check as a child workflow of the release.
type CheckInput struct {
	// Monitor is the watch window the check belongs to (its Checks list all of them).
	Monitor MonitorInput `json:"monitor"`
	// Index is the check's position in Monitor.Checks.
	Index int `json:"index"`
}

// CheckWorkflow is one watch check: it sleeps until its due time, reads every
// metric and judges it against the thresholds. Its result is the report: only
// the release that started it gets it, so nobody else can add a check to a
// release (signals to a release can come from anyone with Temporal access).
func CheckWorkflow(ctx workflow.Context, in CheckInput) (record.CheckReport, error) {
	if in.Index < 0 || in.Index >= len(in.Monitor.Checks) {
		return record.CheckReport{}, fmt.Errorf("check %d of %d does not exist", in.Index, len(in.Monitor.Checks))
	}
	return measure(ctx, in.Monitor, in.Index, in.Monitor.Checks[in.Index])
}

// monitor watches one window. Releases started before the team directory run
// it as one monitoring child that signals each report; newer ones run each
// check as a child and take its result, so parent and child talk through a
// channel only they can use, which no flood of outside signals can exhaust.
// The future resolves with the window's MonitorResult.
func (r *release) monitor(ctx workflow.Context, in MonitorInput) workflow.Future {
	if r.v < versionIdentity {
		return r.startMonitor(ctx, in.Window, in)
	}
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		res, err := r.monitorWindow(ctx, in)
		set.Set(res, err)
	})
	return f
}

// monitorWindow runs the checks of one window in order and applies the
// analysis limits across them: failures past failure_limit roll back,
// measurement errors past consecutive_error_limit escalate, inconclusive
// results past inconclusive_limit pause the watch until a person acknowledges
// the alert; with no decision by the window's end, the window ends there.
//
// Up to checkLookahead check children run at once, each asleep until its own
// due time, so the cadence does not wait on the previous check's round trip
// (after a server outage the overdue checks run side by side and the next one
// is on time); their results are still judged one by one, in order.
func (r *release) monitorWindow(ctx workflow.Context, in MonitorInput) (MonitorResult, error) {
	res := MonitorResult{Worst: record.VerdictOK}
	a := newAnalyzer(in.Metrics)
	cctx, cancel := workflow.WithCancel(ctx)
	defer cancel() // a trigger or an undecided pause ends the window: stop the checks still asleep
	var inflight []workflow.ChildWorkflowFuture
	next := 0
	fill := func() {
		for ; next < len(in.Checks) && len(inflight) < checkLookahead; next++ {
			inflight = append(inflight, r.startCheck(cctx, in, next))
		}
	}
	fill()
	for i, cp := range in.Checks {
		f := inflight[0]
		inflight = inflight[1:]
		rep, err := r.checkResult(ctx, f, in, i, cp)
		if err != nil {
			return res, err
		}
		trigger := a.tally(ctx, &rep, &res)
		rep.Waiting = a.needsPerson
		r.onReport(ctx, rep)
		if in.StopOnRollback && trigger != "" {
			res.Trigger = trigger
			return res, nil
		}
		if a.needsPerson {
			decided, err := r.awaitDecision(ctx, in)
			if err != nil || !decided {
				return res, err
			}
			a.needsPerson = false
		}
		fill()
	}
	return res, nil
}

// checkLookahead is how many check children of a window run at once.
const checkLookahead = 3

// startCheck starts check i as a child, asleep until its due time.
func (r *release) startCheck(ctx workflow.Context, in MonitorInput, i int) workflow.ChildWorkflowFuture {
	cp := in.Checks[i]
	due := in.From.Add(cp.Offset)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:               CheckID(r.st.ReleaseID, in.Window, i+1),
		StaticSummary:            fmt.Sprintf("%s of %s %s", checkLabel(i, len(in.Checks), cp), r.spec.Service, r.in.Version),
		ParentClosePolicy:        enums.PARENT_CLOSE_POLICY_TERMINATE,
		TaskQueue:                workflow.GetInfo(ctx).TaskQueueName,
		WorkflowExecutionTimeout: max(due.Sub(workflow.Now(ctx)), 0) + spec.CheckGrace,
	})
	return workflow.ExecuteChildWorkflow(cctx, CheckWorkflow, CheckInput{Monitor: in, Index: i})
}

// checkResult is check i's report. A check child that fails or overruns its
// due time by spec.CheckGrace counts as a check whose metrics could not be read:
// never a pass, and counted toward the limits.
func (r *release) checkResult(ctx workflow.Context, f workflow.ChildWorkflowFuture, in MonitorInput, i int, cp Checkpoint) (record.CheckReport, error) {
	var rep record.CheckReport
	err := f.Get(ctx, &rep)
	if err == nil {
		return rep, nil
	}
	if ctx.Err() != nil {
		return rep, err
	}
	now := workflow.Now(ctx)
	return record.CheckReport{Window: in.Window, Index: i + 1, Offset: cp.Offset, Phase: cp.Phase, At: now, Targets: cp.Targets,
		Readings: unavailableAll(in.Metrics, now, cp, "check did not complete: "+errText(err))}, nil
}

// awaitDecision pauses the watch after an inconclusive result until a person
// acknowledges its alert (which escalates on its ladder meanwhile). The wait
// ends at the window's last planned check at the latest: then the watch window
// ends undecided (its worst verdict stays inconclusive, so the watch item does
// not pass) and a critical alert says so.
func (r *release) awaitDecision(ctx workflow.Context, in MonitorInput) (bool, error) {
	deadline := in.From.Add(in.Checks[len(in.Checks)-1].Offset)
	key := inconclusiveKey(in.Window)
	defer r.waitFor(ctx, record.WaitDecision, "a decision on the inconclusive "+in.Window+" result: acknowledge its alert (golive status lists it; golive ack)",
		deadline, "the "+in.Window+" window ends undecided and does not pass")()
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      max(deadline.Sub(workflow.Now(ctx)), time.Millisecond),
		TimerOptions: workflow.TimerOptions{Summary: "Watch paused on an inconclusive result: waiting for a decision until " + deadline.UTC().Format(time.RFC3339)},
	}, func() bool { return r.alertAcked(key) })
	if err != nil || ok {
		return ok, err
	}
	r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, "no decision on the inconclusive "+in.Window+" result by its end: the watch window ended undecided", "undecided:"+in.Window)
	return false, nil
}

// alertAcked reports whether the latest alert with key has been acknowledged.
func (r *release) alertAcked(key string) bool {
	for i := len(r.st.Alerts) - 1; i >= 0; i-- {
		if r.st.Alerts[i].Key == key {
			return r.st.Alerts[i].AckedBy != ""
		}
	}
	return true
}
