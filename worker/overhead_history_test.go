package worker_test

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
)

// span is a stretch of wall-clock time; input marks a workflow task that
// took a person's input (an Update accepted in it).
type span struct {
	from, to time.Time
	input    bool
}

// busySpans are the stretches of a workflow's history during which it had
// work in flight: a workflow task, an activity, a child being started, or a
// signal or cancel request to another workflow, each from the event that
// asks for it to the event that ends it. What is left out is the time it only
// waited: for a timer, a person (an Update or Signal not yet sent), or a
// child already running (whose own work is in the child's history).
func busySpans(hist []*history.HistoryEvent) []span {
	open := map[int64]time.Time{}
	var out []span
	for i, e := range hist {
		if opens(e.GetEventType()) {
			open[e.GetEventId()] = e.GetEventTime().AsTime()
			continue
		}
		id := openedBy(e)
		from, ok := open[id]
		if id == 0 || !ok {
			continue
		}
		delete(open, id)
		input := e.GetEventType() == enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && i+1 < len(hist) &&
			hist[i+1].GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
		out = append(out, span{from, e.GetEventTime().AsTime(), input})
	}
	return out
}

// withoutInputs are spans without the workflow tasks that took people's inputs.
func withoutInputs(spans []span) []span {
	return slices.DeleteFunc(slices.Clone(spans), func(s span) bool { return s.input })
}

// opens reports whether an event starts work in flight (see busySpans).
func opens(t enums.EventType) bool {
	switch t {
	case enums.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
		enums.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
		enums.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
		enums.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
		return true
	}
	return false
}

// openedBy is the event ID of the opener an event ends, or 0.
func openedBy(e *history.HistoryEvent) int64 {
	switch e.GetEventType() {
	case enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
		return e.GetWorkflowTaskCompletedEventAttributes().GetScheduledEventId()
	case enums.EVENT_TYPE_WORKFLOW_TASK_FAILED:
		return e.GetWorkflowTaskFailedEventAttributes().GetScheduledEventId()
	case enums.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
		return e.GetWorkflowTaskTimedOutEventAttributes().GetScheduledEventId()
	case enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		return e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
	case enums.EVENT_TYPE_ACTIVITY_TASK_FAILED:
		return e.GetActivityTaskFailedEventAttributes().GetScheduledEventId()
	case enums.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
		return e.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()
	case enums.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
		return e.GetActivityTaskCanceledEventAttributes().GetScheduledEventId()
	case enums.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
		return e.GetChildWorkflowExecutionStartedEventAttributes().GetInitiatedEventId()
	case enums.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
		return e.GetStartChildWorkflowExecutionFailedEventAttributes().GetInitiatedEventId()
	case enums.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
		return e.GetExternalWorkflowExecutionSignaledEventAttributes().GetInitiatedEventId()
	case enums.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
		return e.GetSignalExternalWorkflowExecutionFailedEventAttributes().GetInitiatedEventId()
	case enums.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
		return e.GetExternalWorkflowExecutionCancelRequestedEventAttributes().GetInitiatedEventId()
	case enums.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
		return e.GetRequestCancelExternalWorkflowExecutionFailedEventAttributes().GetInitiatedEventId()
	}
	return 0
}

// covered is the length of the union of spans: overlapping work counts once.
func covered(spans []span) time.Duration {
	s := slices.Clone(spans)
	slices.SortFunc(s, func(a, b span) int { return a.from.Compare(b.from) })
	var total time.Duration
	var cur span
	for i, x := range s {
		switch {
		case i == 0:
			cur = x
		case !x.from.After(cur.to):
			if x.to.After(cur.to) {
				cur.to = x.to
			}
		default:
			total += cur.to.Sub(cur.from)
			cur = x
		}
	}
	if len(s) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}

// wallTime is from a history's first event to its last.
func wallTime(hist []*history.HistoryEvent) time.Duration {
	if len(hist) == 0 {
		return 0
	}
	return hist[len(hist)-1].GetEventTime().AsTime().Sub(hist[0].GetEventTime().AsTime())
}

// countEvents counts a history's events by type.
func countEvents(hist []*history.HistoryEvent, into map[enums.EventType]int) {
	for _, e := range hist {
		into[e.GetEventType()]++
	}
}

// workflowTask is one workflow task of a history: what woke it (the event
// before it was scheduled), how long it waited for a worker, how long the
// worker took.
type workflowTask struct {
	cause       enums.EventType
	wait, run   time.Duration
	scheduledAt time.Time
	// input: the task took a person's input (an Update accepted in it).
	input bool
}

func workflowTasks(hist []*history.HistoryEvent) []workflowTask {
	var out []workflowTask
	sched := map[int64]*workflowTask{}
	started := map[int64]time.Time{}
	for i, e := range hist {
		at := e.GetEventTime().AsTime()
		switch e.GetEventType() {
		case enums.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
			t := &workflowTask{scheduledAt: at}
			if i > 0 {
				t.cause = hist[i-1].GetEventType()
			}
			sched[e.GetEventId()] = t
		case enums.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			id := e.GetWorkflowTaskStartedEventAttributes().GetScheduledEventId()
			if t := sched[id]; t != nil {
				t.wait, started[id] = at.Sub(t.scheduledAt), at
			}
		case enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			id := e.GetWorkflowTaskCompletedEventAttributes().GetScheduledEventId()
			if t := sched[id]; t != nil && !started[id].IsZero() {
				t.run = at.Sub(started[id])
				t.input = i+1 < len(hist) && hist[i+1].GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
				out = append(out, *t)
			}
		}
	}
	return out
}

// activityLegs sums, over a history's activities, the time from scheduled to
// started (matching and the worker's poll) and from started to closed (the
// activity itself, its payloads and the completion's round trip).
func activityLegs(hist []*history.HistoryEvent) (toStart, toClose time.Duration, n int) {
	sched := map[int64]time.Time{}
	started := map[int64]time.Time{}
	for _, e := range hist {
		at := e.GetEventTime().AsTime()
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			sched[e.GetEventId()], n = at, n+1
		}
		// An activity scheduled before hist (a segment of a history) is not counted.
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && !sched[a.GetScheduledEventId()].IsZero() {
			started[a.GetScheduledEventId()] = at
			toStart += at.Sub(sched[a.GetScheduledEventId()])
		}
		if id := openedBy(e); id != 0 && !started[id].IsZero() && e.GetEventType() != enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			toClose += at.Sub(started[id])
		}
	}
	return toStart, toClose, n
}

// stats are the median, minimum and maximum of a figure over rounds.
type stats struct{ med, lo, hi float64 }

func statsOf(xs []float64) stats {
	s := slices.Clone(xs)
	slices.SortFunc(s, cmp.Compare)
	if len(s) == 0 {
		return stats{}
	}
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{med, s[0], s[len(s)-1]}
}

// segmentStep is the time from scheduling the first of steps (activity names,
// in order) to closing the last, divided by their number. Activities of other
// names scheduled meanwhile (audit appends beside the steps) are not steps.
func segmentStep(hist []*history.HistoryEvent, steps []string) time.Duration {
	from, to := segment(hist, steps)
	if to == 0 {
		return 0
	}
	return hist[to].GetEventTime().AsTime().Sub(hist[from].GetEventTime().AsTime()) / time.Duration(len(steps))
}

// segment finds steps in hist as segmentStep does: the indexes of the first
// step's scheduled event and of the last step's close (to is 0 when absent).
func segment(hist []*history.HistoryEvent, steps []string) (from, to int) {
	if len(steps) == 0 {
		return 0, 0
	}
	var matched int
	var lastID int64
	for i, e := range hist {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && matched < len(steps) && slices.Contains(steps, a.GetActivityType().GetName()) {
			switch name := a.GetActivityType().GetName(); {
			case name == steps[matched]:
				if matched == 0 {
					from = i
				}
				if matched++; matched == len(steps) {
					lastID = e.GetEventId()
				}
			case name == steps[0]:
				from, matched = i, 1
			default:
				matched = 0
			}
			continue
		}
		if lastID != 0 && openedBy(e) == lastID {
			return from, i
		}
	}
	return 0, 0
}

// legs splits the time per step of a segment of steps into its activities
// (scheduled to closed) and its workflow tasks (scheduled to started: matching
// and the worker's poll; started to completed: on the worker).
type legs struct{ activity, taskWait, taskRun time.Duration }

func segmentLegs(hist []*history.HistoryEvent, steps []string) legs {
	from, to := segment(hist, steps)
	if to == 0 {
		return legs{}
	}
	seg := hist[from : to+1]
	toStart, toClose, _ := activityLegs(seg)
	var l legs
	for _, t := range workflowTasks(seg) {
		l.taskWait, l.taskRun = l.taskWait+t.wait, l.taskRun+t.run
	}
	n := time.Duration(len(steps))
	return legs{activity: (toStart + toClose) / n, taskWait: l.taskWait / n, taskRun: l.taskRun / n}
}

// childRuns are the child workflows a history started.
func childRuns(hist []*history.HistoryEvent) []*common.WorkflowExecution {
	var out []*common.WorkflowExecution
	for _, e := range hist {
		if a := e.GetChildWorkflowExecutionStartedEventAttributes(); a != nil {
			out = append(out, a.GetWorkflowExecution())
		}
	}
	return out
}

// sortedTypes are the keys of counts, most frequent first.
func sortedTypes(counts map[enums.EventType]int) []enums.EventType {
	out := slices.Collect(maps.Keys(counts))
	slices.SortFunc(out, func(a, b enums.EventType) int { return cmp.Or(counts[b]-counts[a], cmp.Compare(a, b)) })
	return out
}

func shortType(t enums.EventType) string { return strings.TrimPrefix(t.String(), "EVENT_TYPE_") }
