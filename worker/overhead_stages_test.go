package worker_test

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"

	"github.com/golive/golive/workflows"
)

// appendActivity is the audit ledger's append (activities.Audit.Append) as
// the history names it: golive's own bookkeeping, not a checklist step.
const appendActivity = "Append"

// group is a set of activities a workflow scheduled together (in one
// workflow task), with the release stage it was scheduled in.
type group struct {
	names []string
	stage string
}

// activityGroups are the groups of activities a history scheduled, in
// order. A release's groups carry the stage of its last GoliveStage upsert;
// other histories' carry label.
func activityGroups(hist []*history.HistoryEvent, label string) []group {
	var out []group
	stage := label
	last := int64(-1)
	for _, e := range hist {
		if st, ok := stageSet(e); ok && label == "" {
			stage = st
		}
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil {
			continue
		}
		if wft := a.GetWorkflowTaskCompletedEventId(); wft != last {
			out, last = append(out, group{stage: stage}), wft
		}
		out[len(out)-1].names = append(out[len(out)-1].names, a.GetActivityType().GetName())
	}
	return out
}

// sizes are the groups' sizes, leaving out the activities named in without
// (and the groups left empty).
func sizes(groups []group, without ...string) []int {
	var out []int
	for _, g := range groups {
		n := 0
		for _, name := range g.names {
			if !slices.Contains(without, name) {
				n++
			}
		}
		if n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// stageSet is the stage a GoliveStage upsert sets.
func stageSet(e *history.HistoryEvent) (string, bool) {
	p := e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()[workflows.SAStage.GetName()]
	var stage string
	if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &stage) != nil {
		return "", false
	}
	return stage, true
}

// clip is the parts of spans between from and to.
func clip(spans []span, from, to time.Time) []span {
	var out []span
	for _, s := range spans {
		if s.from.Before(from) {
			s.from = from
		}
		if s.to.After(to) {
			s.to = to
		}
		if s.to.After(s.from) {
			out = append(out, s)
		}
	}
	return out
}

// stageRow is one stage of a release: its busy time (without people's
// Updates, and theirs apart), its workflow tasks and activities, and the
// busy time of the same groups of activities in the bare workflow.
type stageRow struct {
	stage                   string
	busy, inputs, bare      time.Duration
	tasks, inputTasks       int
	steps, appends, notices int
}

// byStage splits a round's busy time by release stage (from one GoliveStage
// upsert to the next); the check children are one row of their own. bare is
// the bareBatches history of groups (the release's, then the children's).
func byStage(release []*history.HistoryEvent, children []span, bare []*history.HistoryEvent, groups []group) []*stageRow {
	var rows []*stageRow
	row := func(stage string) *stageRow {
		for _, r := range rows {
			if r.stage == stage {
				return r
			}
		}
		rows = append(rows, &stageRow{stage: stage})
		return rows[len(rows)-1]
	}
	spans := busySpans(release)
	inputs := slices.DeleteFunc(slices.Clone(spans), func(s span) bool { return !s.input })
	var cur *stageRow
	var from time.Time
	closeStage := func(to time.Time) {
		if cur != nil {
			cur.busy += covered(clip(withoutInputs(spans), from, to))
			cur.inputs += covered(clip(inputs, from, to))
		}
	}
	for i, e := range release {
		if st, ok := stageSet(e); ok {
			closeStage(e.GetEventTime().AsTime())
			cur, from = row(st), e.GetEventTime().AsTime()
		}
		if cur == nil {
			continue
		}
		switch a := e.GetActivityTaskScheduledEventAttributes(); {
		case a != nil && a.GetActivityType().GetName() == appendActivity:
			cur.appends++
		case a != nil && a.GetActivityType().GetName() == "Notify":
			cur.notices++
		case a != nil:
			cur.steps++
		case e.GetEventType() == enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			if i+1 < len(release) && release[i+1].GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
				cur.inputTasks++
			} else {
				cur.tasks++
			}
		}
	}
	closeStage(release[len(release)-1].GetEventTime().AsTime())
	row(checksRow).busy = covered(children)

	// The bare workflow's k-th group runs from its scheduling to the next one's.
	bareSpans := busySpans(bare)
	var starts []time.Time
	last := int64(-1)
	for _, e := range bare {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetWorkflowTaskCompletedEventId() != last {
			starts, last = append(starts, e.GetEventTime().AsTime()), a.GetWorkflowTaskCompletedEventId()
		}
	}
	starts = append(starts, bare[len(bare)-1].GetEventTime().AsTime())
	for k := 0; k < len(groups) && k+1 < len(starts); k++ {
		row(groups[k].stage).bare += covered(clip(bareSpans, starts[k], starts[k+1]))
	}
	return rows
}

// checksRow labels the watch's check children, in activityGroups and byStage.
const checksRow = "watch checks (children)"

// printT0Timeline prints a history's events from the first T-0 step
// scheduled to the last one closed, in ms from the first (go test -v).
func printT0Timeline(hist []*history.HistoryEvent) {
	names := map[int64]string{}
	var t0 time.Time
	for _, e := range hist {
		at := e.GetEventTime().AsTime()
		name := ""
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			name = a.GetActivityType().GetName()
			names[e.GetEventId()] = name
			if name == t0Steps()[0] && t0.IsZero() {
				t0 = at
			}
		} else if id := openedBy(e); id != 0 {
			name = names[id]
		} else if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
			name = names[a.GetScheduledEventId()]
		}
		if t0.IsZero() {
			continue
		}
		fmt.Printf("    %7.2f ms  %3d %s %s\n", ms(at.Sub(t0)), e.GetEventId(), shortType(e.GetEventType()), name)
		if name == "Health" && e.GetEventType() == enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED {
			return
		}
	}
}
