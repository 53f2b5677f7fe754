package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// actualMoment is when a release's history says it waited for one moment:
// the target of a durable timer (workflow time of the task that set it plus
// its duration), or the due time of a watch check child.
type actualMoment struct {
	summary string
	// at is the timer's target; wait its duration (from the task that set it).
	at   time.Time
	wait time.Duration
}

// TestPlanTimelineEqualsWhatTheReleaseDid runs a whole release on a real
// server with a compressed cadence and a T-0 ahead, then checks every moment
// spec.Timeline (what golive plan prints) planned against the history: T-4h
// and T-0 from the window, T+1h, its report deadline, each watch check and the
// review from the deploy, each sign-off and attestation deadline from when its
// step opened.
func TestPlanTimelineEqualsWhatTheReleaseDid(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, appURL := serveDemoApp(ctx, t)
	s := fastSpec(t, appURL)
	s.Service = "plan-timeline"
	// Leads long enough for each step before a timer to end first, so every
	// timer is set (a wait already past is no wait): T-4h after the readiness
	// gate and approvals, T-0 after the T-4h backup verification, the review
	// after the watch's last check (4 s).
	s.Window.PrepareLead = spec.Duration(12 * time.Second)
	s.Review.After = spec.Duration(8 * time.Second)
	// No reminders or escalations: each block's first wait is then its deadline.
	for _, b := range []*spec.SignoffBlock{&s.Approvals, &s.Completion, &s.Review.Signoffs} {
		b.RemindEvery, b.EscalateAfter = 0, 0
	}
	window := time.Now().Add(40 * time.Second).UTC().Truncate(time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment), TaskQueue: workflows.TaskQueue},
		workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin", Window: window})
	if err != nil {
		t.Fatal(err)
	}
	respond(ctx, t, c, run, s.Members)
	var res workflows.ReleaseResult
	if err := workflows.EndedResult(run.Get(ctx, &res), &res); err != nil || res.Outcome != record.OutcomeCompleted {
		t.Fatalf("release %s %v: %s", res.Outcome, err, res.Reason)
	}
	st, err := queryStatus(ctx, c, run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Window.Equal(window) {
		t.Fatalf("release T-0 %s, want %s", st.Window, window)
	}
	timers, checks := actualMoments(t, historyOf(ctx, t, c, run.GetID(), run.GetRunID()))

	planned := spec.Timeline(s, st.StartedAt, window)
	matched := 0
	for _, e := range planned {
		got, found, required := actualFor(e, timers, checks)
		if !found {
			if required {
				t.Errorf("%s (%s %s): planned at %s, no such wait in the history", e.Title, e.Kind, e.Block, e.At)
			} else {
				t.Logf("%s: no wait in the history (answered before its step began)", e.Title)
			}
			continue
		}
		matched++
		switch e.Anchor {
		case spec.AnchorWindow:
			if !got.at.Equal(e.At) || got.at.Sub(st.Window) != e.Offset {
				t.Errorf("%s: planned %s (T-0 %+d s), the release waited until %s", e.Title, e.At, int(e.Offset.Seconds()), got.at)
			}
		case spec.AnchorDeploy:
			if d := got.at.Sub(st.DeployAt); d != e.Offset {
				t.Errorf("%s: planned deploy+%s, the release waited until deploy+%s", e.Title, e.Offset, d)
			}
		default: // counted from when the step opened: the wait set then is the offset
			if got.wait != e.Offset {
				t.Errorf("%s: planned %s after %s opens, the release waited %s (%s)", e.Title, e.Offset, e.Anchor, got.wait, got.summary)
			}
		}
	}
	// The plan places the deploy at T-0; the release deployed once its T-0 step ran.
	if d := st.DeployAt.Sub(st.Window); d < 0 || d > 30*time.Second {
		t.Errorf("deployed %s after T-0", d)
	}
	if want := len(s.Watch.Checkpoints()); len(checks) != want {
		t.Errorf("%d watch check children, planned %d", len(checks), want)
	}
	t.Logf("%d planned moments, %d of them found in the history (and compared)", len(planned), matched)
}

// actualMoments reads every timer of the history (by summary, in order) and
// each watch check child's due time (its execution timeout is its wait plus
// spec.CheckGrace), both from the workflow time of the task that set them.
func actualMoments(t *testing.T, events []*history.HistoryEvent) ([]actualMoment, []actualMoment) {
	t.Helper()
	taskTime := map[int64]time.Time{} // workflow task completed event ID -> workflow time of that task
	var started time.Time
	var timers, checks []actualMoment
	for _, e := range events {
		switch e.GetEventType() {
		case enums.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			started = e.GetEventTime().AsTime()
		case enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			taskTime[e.GetEventId()] = started
		case enums.EVENT_TYPE_TIMER_STARTED:
			a := e.GetTimerStartedEventAttributes()
			var summary string
			if p := e.GetUserMetadata().GetSummary(); p != nil {
				if err := converter.GetDefaultDataConverter().FromPayload(p, &summary); err != nil {
					t.Fatalf("timer summary: %v", err)
				}
			}
			wait := a.GetStartToFireTimeout().AsDuration()
			timers = append(timers, actualMoment{summary: summary, at: taskTime[a.GetWorkflowTaskCompletedEventId()].Add(wait), wait: wait})
		case enums.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			a := e.GetStartChildWorkflowExecutionInitiatedEventAttributes()
			if a.GetWorkflowType().GetName() != "CheckWorkflow" {
				continue
			}
			wait := a.GetWorkflowExecutionTimeout().AsDuration() - spec.CheckGrace
			checks = append(checks, actualMoment{summary: a.GetWorkflowId(), at: taskTime[a.GetWorkflowTaskCompletedEventId()].Add(wait), wait: wait})
		}
	}
	return timers, checks
}

// actualFor finds the wait of the history a planned event stands for, and
// whether every release must have it (attestation and T+1h report waits are
// only set when nobody answered before the step began).
func actualFor(e spec.Event, timers, checks []actualMoment) (actualMoment, bool, bool) {
	first := func(prefix string) (actualMoment, bool) {
		for _, m := range timers {
			if strings.HasPrefix(m.summary, prefix) {
				return m, true
			}
		}
		return actualMoment{}, false
	}
	var m actualMoment
	var ok bool
	switch e.Kind {
	case spec.EventPrepare:
		m, ok = first("T-4h: wait for the pre-deployment window")
	case spec.EventDeploy:
		m, ok = first("T-0: wait for the deployment window")
	case spec.EventPostDeploy:
		m, ok = first("T+1h: post-deployment checks")
	case spec.EventT1HReportDue:
		m, ok = first("T+1h: waiting for the key-metrics check")
		return m, ok, false
	case spec.EventReview:
		m, ok = first("Post-Deployment Review opens")
	case spec.EventSignoffDue:
		m, ok = first("Waiting for " + e.Block + " sign-offs until")
	case spec.EventAttestationsDue:
		m, ok = first("Waiting up to " + e.Offset.String() + " for " + e.Block + " attestations")
		return m, ok, false
	case spec.EventWatchCheck:
		if e.Check <= len(checks) {
			m, ok = checks[e.Check-1], true
		}
	}
	return m, ok, true
}
