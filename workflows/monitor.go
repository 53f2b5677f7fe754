package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/internal/telemetry"
)

// Checkpoint is one scheduled check, at an exact offset from the deploy time.
type Checkpoint = spec.Checkpoint

// MonitorInput starts a monitoring child for one watch window.
type MonitorInput struct {
	// ReleaseID is the parent release, which receives a CheckReport after each check.
	ReleaseID  string           `json:"release_id"`
	Window     string           `json:"window"`
	From       time.Time        `json:"from"`
	Checks     []Checkpoint     `json:"checks"`
	Metrics    spec.Metrics     `json:"metrics"`
	Thresholds spec.Thresholds  `json:"thresholds"`
	Baseline   []record.Reading `json:"baseline,omitempty"`
	// StopOnRollback ends the watch at the first rollback trigger.
	StopOnRollback bool `json:"stop_on_rollback"`
}

// MonitorResult is what a watch window found.
type MonitorResult struct {
	Checks int `json:"checks"`
	// Trigger is set when a rollback trigger ended the watch.
	Trigger string `json:"trigger,omitempty"`
	// Worst is the most severe verdict seen.
	Worst record.Verdict `json:"worst"`
}

// WatchDecisionName is the signal a release sends its monitoring child when a
// person has decided on an inconclusive result (the alert was acknowledged).
const WatchDecisionName = "watch-decision"

// MonitorWorkflow runs one watch window: each check sleeps on a durable timer
// until From+Offset (never "now + interval", so the cadence cannot drift), reads
// every metric, judges it and reports to the parent release. Per metric it
// applies the analysis limits: failures past failure_limit roll back, measurement
// errors past consecutive_error_limit escalate (an unreadable metric is never
// healthy), inconclusive results past inconclusive_limit pause the watch until a
// person decides.
func MonitorWorkflow(ctx workflow.Context, in MonitorInput) (MonitorResult, error) {
	res := MonitorResult{Worst: record.VerdictOK}
	a := newAnalyzer(in.Metrics)
	decisions := workflow.GetSignalChannel(ctx, WatchDecisionName)
	for i, cp := range in.Checks {
		rep, err := measure(ctx, in, i, cp)
		if err != nil {
			return res, err
		}
		trigger := a.tally(ctx, &rep, &res)
		pause := a.needsPerson
		rep.Waiting = pause
		if err := workflow.SignalExternalWorkflow(ctx, in.ReleaseID, "", CheckReportName, rep).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("report to release failed", "release", in.ReleaseID, "error", err)
		}
		if in.StopOnRollback && trigger != "" {
			res.Trigger = trigger
			return res, nil
		}
		if pause {
			// Inconclusive: wait for a person instead of guessing. A rollback request
			// cancels this workflow; an acknowledgement lets the watch go on.
			var decision string
			decisions.Receive(ctx, &decision)
			a.needsPerson = false
		}
	}
	return res, nil
}

// tally judges one check against the limits across checks, counts it in res
// and returns the rollback trigger, if any.
func (a *analyzer) tally(ctx workflow.Context, rep *record.CheckReport, res *MonitorResult) string {
	trigger := a.judge(rep)
	for _, rd := range rep.Readings {
		telemetry.CheckVerdict(workflow.GetMetricsHandler(ctx), rd.Metric, string(rd.Verdict))
	}
	if rank(rep.Worst) > rank(res.Worst) {
		res.Worst = rep.Worst
	}
	res.Checks++
	return trigger
}

// measure is one watch check: a durable timer until From+Offset (never "now +
// interval", so the cadence cannot drift), then every metric read and judged
// against the thresholds and conditions. The limits across checks (judge) are
// the caller's.
func measure(ctx workflow.Context, in MonitorInput, i int, cp Checkpoint) (record.CheckReport, error) {
	label := checkLabel(i, len(in.Checks), cp)
	due := in.From.Add(cp.Offset)
	if err := timerUntil(ctx, due, label); err != nil {
		return record.CheckReport{}, err
	}
	rep := record.CheckReport{Window: in.Window, Index: i + 1, Offset: cp.Offset, Phase: cp.Phase, At: workflow.Now(ctx), Targets: cp.Targets}
	var s activities.Sample
	err := workflow.ExecuteActivity(act(ctx, label+": error rate, response time, DB, slow queries, failed logins", time.Minute),
		metrics.Sample, activities.SampleInput{ReleaseID: in.ReleaseID, Metrics: in.Metrics, At: due}).Get(ctx, &s)
	if err != nil {
		rep.Readings = unavailableAll(in.Metrics, rep.At, cp, errText(err))
	} else {
		rep.Readings = readings(s, cp.Phase, cp.Offset, in.Window)
		evaluate(rep.Readings, in.Thresholds, in.Baseline, cp.Targets)
		applyConditions(rep.Readings, s.Values)
	}
	return rep, nil
}

func checkLabel(i, n int, cp Checkpoint) string {
	return fmt.Sprintf("Watch check %d/%d at +%s (%s)", i+1, n, cp.Offset, cp.Phase)
}

// unavailableAll marks every configured metric unreadable for one check.
func unavailableAll(m spec.Metrics, at time.Time, cp Checkpoint, why string) []record.Reading {
	names := m.Names()
	out := make([]record.Reading, 0, len(names))
	for _, name := range names {
		out = append(out, record.Reading{At: at, Offset: cp.Offset.String(), Phase: cp.Phase, Metric: name, Verdict: record.VerdictUnavailable, Detail: why})
	}
	return out
}

// rollbackCheckpoints checks every Every until Until after the rollback.
func rollbackCheckpoints(p spec.Phase) []Checkpoint {
	var out []Checkpoint
	if p.Every <= 0 {
		return out
	}
	for o := p.Every.D(); o <= p.Until.D(); o += p.Every.D() {
		out = append(out, Checkpoint{Offset: o, Phase: WindowRollback})
	}
	return out
}
