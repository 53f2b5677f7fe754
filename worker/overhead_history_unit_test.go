package worker_test

import (
	"testing"
	"time"

	"go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ev is one history event at ms milliseconds, set up by with.
func ev(id int64, ms int, t enums.EventType, with func(*history.HistoryEvent)) *history.HistoryEvent {
	e := &history.HistoryEvent{EventId: id, EventType: t, EventTime: timestamppb.New(time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond))}
	if with != nil {
		with(e)
	}
	return e
}

func wftDone(sched int64) func(*history.HistoryEvent) {
	return func(e *history.HistoryEvent) {
		e.Attributes = &history.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &history.WorkflowTaskCompletedEventAttributes{ScheduledEventId: sched}}
	}
}

func actDone(sched int64) func(*history.HistoryEvent) {
	return func(e *history.HistoryEvent) {
		e.Attributes = &history.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &history.ActivityTaskCompletedEventAttributes{ScheduledEventId: sched}}
	}
}

func TestBusyTimeCountsWorkInFlightOnceAndLeavesOutTimersAndPeople(t *testing.T) {
	hist := []*history.HistoryEvent{
		ev(1, 0, enums.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, nil),
		ev(2, 4, enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, wftDone(1)), // 0-4
		ev(3, 4, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, nil),
		ev(4, 4, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, nil),
		ev(5, 6, enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, actDone(3)),  // 4-6
		ev(6, 9, enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, actDone(4)),  // 4-9, side by side: once
		ev(7, 9, enums.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, nil),         //
		ev(8, 12, enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, wftDone(7)), // 9-12
		ev(9, 12, enums.EVENT_TYPE_TIMER_STARTED, nil),                  // a timer: nothing in flight
		ev(10, 500, enums.EVENT_TYPE_TIMER_FIRED, nil),
		ev(11, 500, enums.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, nil),
		ev(12, 503, enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, wftDone(11)), // 500-503; then a wait for a person
		ev(13, 900, enums.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, nil),
		ev(14, 905, enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, wftDone(13)), // 900-905: an Update's task
		ev(15, 905, enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, nil),
	}
	spans := busySpans(hist)
	if got, want := covered(spans), 20*time.Millisecond; got != want {
		t.Errorf("busy %s, want %s (4 + 5 + 3 + 3 + 5 ms)", got, want)
	}
	if got, want := covered(withoutInputs(spans)), 15*time.Millisecond; got != want {
		t.Errorf("busy without the Update's task %s, want %s", got, want)
	}
	if got := wallTime(hist); got != 905*time.Millisecond {
		t.Errorf("wall %s, want 905ms", got)
	}
}

func actScheduled(name string) func(*history.HistoryEvent) {
	return func(e *history.HistoryEvent) {
		e.Attributes = &history.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: &history.ActivityTaskScheduledEventAttributes{ActivityType: &common.ActivityType{Name: name}}}
	}
}

func actStarted(sched int64) func(*history.HistoryEvent) {
	return func(e *history.HistoryEvent) {
		e.Attributes = &history.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &history.ActivityTaskStartedEventAttributes{ScheduledEventId: sched}}
	}
}

func wftStarted(sched int64) func(*history.HistoryEvent) {
	return func(e *history.HistoryEvent) {
		e.Attributes = &history.HistoryEvent_WorkflowTaskStartedEventAttributes{WorkflowTaskStartedEventAttributes: &history.WorkflowTaskStartedEventAttributes{ScheduledEventId: sched}}
	}
}

// A segment of two steps, with an append scheduled before it that closes
// inside: per step, its activities, workflow task waits and runs; the append
// is not counted.
func TestSegmentLegsSplitsAStepAndLeavesOutWhatStartedBefore(t *testing.T) {
	hist := []*history.HistoryEvent{
		ev(1, 0, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, actScheduled("Append")),
		ev(2, 10, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, actScheduled("Migrate")),
		ev(3, 11, enums.EVENT_TYPE_ACTIVITY_TASK_STARTED, actStarted(2)),
		ev(4, 12, enums.EVENT_TYPE_ACTIVITY_TASK_STARTED, actStarted(1)),
		ev(5, 13, enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, actDone(1)),
		ev(6, 14, enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, actDone(2)), // Migrate: 10-14
		ev(7, 14, enums.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, nil),
		ev(8, 16, enums.EVENT_TYPE_WORKFLOW_TASK_STARTED, wftStarted(7)), // waits 2
		ev(9, 19, enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, wftDone(7)),  // runs 3
		ev(10, 19, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, actScheduled("Deploy")),
		ev(11, 20, enums.EVENT_TYPE_ACTIVITY_TASK_STARTED, actStarted(10)),
		ev(12, 25, enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, actDone(10)), // Deploy: 19-25
	}
	steps := []string{"Migrate", "Deploy"}
	if got, want := segmentStep(hist, steps), 7500*time.Microsecond; got != want {
		t.Errorf("per step %s, want %s (10 to 25 ms over 2)", got, want)
	}
	l := segmentLegs(hist, steps)
	want := legs{activity: 5 * time.Millisecond, taskWait: time.Millisecond, taskRun: 1500 * time.Microsecond}
	if l != want {
		t.Errorf("legs per step %+v, want %+v (activities 4 + 6 ms, one task waiting 2 and running 3, over 2 steps)", l, want)
	}
}
