package worker_test

import (
	"testing"
	"time"

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
