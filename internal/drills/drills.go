// Package drills puts a spec's recovery drills on Temporal Schedules: one
// Schedule per drill kind, starting workflows.DrillWorkflow against the
// staging target on the spec's cadence. The CLI's `golive drill` commands
// are thin over it.
package drills

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// ErrNoStaging means the spec schedules no drill (no drills.staging).
var ErrNoStaging = errors.New("the spec has no drills.staging: no drill to schedule")

// Plan is one drill a spec schedules.
type Plan struct {
	ScheduleID string               `json:"schedule_id"`
	Kind       spec.DrillKind       `json:"kind"`
	Every      spec.Duration        `json:"every"`
	Input      workflows.DrillInput `json:"input"`
}

// Plans lists the drills of a spec (completed with defaults).
func Plans(s spec.Spec) ([]Plan, error) {
	kinds := s.Drills.Scheduled()
	if len(kinds) == 0 {
		return nil, ErrNoStaging
	}
	var out []Plan
	for _, k := range kinds {
		in := workflows.DrillInput{Service: s.Service, Kind: k, Staging: *s.Drills.Staging}
		if k == spec.DrillPITR {
			in.PITRCommand = s.Drills.PITRCommand
		}
		out = append(out, Plan{ScheduleID: workflows.DrillScheduleID(s.Service, k), Kind: k, Every: s.Drills.Every, Input: in})
	}
	return out, nil
}

// Outcome says what Schedule did with one plan.
type Outcome struct {
	Plan
	// Created is false when an existing Schedule was updated.
	Created bool `json:"created"`
}

// Schedule creates the spec's drill Schedules, or updates the ones that exist
// to the spec's cadence and staging target.
func Schedule(ctx context.Context, c client.Client, s spec.Spec) ([]Outcome, error) {
	plans, err := Plans(s)
	if err != nil {
		return nil, err
	}
	var out []Outcome
	for _, p := range plans {
		created, err := upsert(ctx, c, p)
		if err != nil {
			return out, fmt.Errorf("schedule %s: %w", p.ScheduleID, err)
		}
		out = append(out, Outcome{Plan: p, Created: created})
	}
	return out, nil
}

func action(p Plan) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:                       workflows.DrillWorkflowID(p.Input.Service, p.Kind),
		Workflow:                 workflows.DrillWorkflow,
		Args:                     []any{p.Input},
		TaskQueue:                workflows.TaskQueue,
		WorkflowExecutionTimeout: 6 * time.Hour,
	}
}

func scheduleSpec(p Plan) client.ScheduleSpec {
	return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: p.Every.D()}}}
}

func upsert(ctx context.Context, c client.Client, p Plan) (bool, error) {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:     p.ScheduleID,
		Spec:   scheduleSpec(p),
		Action: action(p),
		// A drill still running when the next is due is not doubled.
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Note:    fmt.Sprintf("golive %s drill of %s every %s", p.Kind, p.Input.Service, p.Every),
	})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return false, err
	}
	h := c.ScheduleClient().GetHandle(ctx, p.ScheduleID)
	return false, h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		sch := in.Description.Schedule
		sp := scheduleSpec(p)
		sch.Spec, sch.Action = &sp, action(p)
		return &client.ScheduleUpdate{Schedule: &sch}, nil
	}})
}

// Entry is a drill Schedule as listed.
type Entry struct {
	ID     string        `json:"schedule_id"`
	Every  spec.Duration `json:"every"`
	Paused bool          `json:"paused"`
	// Last is when the last drill started (zero: never); Next when the next is due.
	Last time.Time `json:"last,omitzero"`
	Next time.Time `json:"next,omitzero"`
}

// List lists golive's drill Schedules (of one service when service is set), by ID.
func List(ctx context.Context, c client.Client, service string) ([]Entry, error) {
	prefix := workflows.DrillSchedulePrefix
	if service != "" {
		prefix += service + "-"
	}
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	var out []Entry
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		if !strings.HasPrefix(e.ID, prefix) {
			continue
		}
		en := Entry{ID: e.ID, Paused: e.Paused}
		if e.Spec != nil && len(e.Spec.Intervals) > 0 {
			en.Every = spec.Duration(e.Spec.Intervals[0].Every)
		}
		if n := len(e.RecentActions); n > 0 {
			en.Last = e.RecentActions[n-1].ActualTime
		}
		if len(e.NextActionTimes) > 0 {
			en.Next = e.NextActionTimes[0]
		}
		out = append(out, en)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Delete deletes the spec's drill Schedules; ones already gone are skipped.
func Delete(ctx context.Context, c client.Client, s spec.Spec) ([]string, error) {
	var deleted []string
	for _, k := range spec.DrillKinds {
		id := workflows.DrillScheduleID(s.Service, spec.DrillKind(k))
		err := c.ScheduleClient().GetHandle(ctx, id).Delete(ctx)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return deleted, fmt.Errorf("delete schedule %s: %w", id, err)
		}
		deleted = append(deleted, id)
	}
	return deleted, nil
}

// Run runs one drill of the spec now, outside its Schedule, and waits for its result.
func Run(ctx context.Context, c client.Client, s spec.Spec, kind spec.DrillKind) (workflows.DrillResult, error) {
	plans, err := Plans(s)
	if err != nil {
		return workflows.DrillResult{}, err
	}
	i := slices.IndexFunc(plans, func(p Plan) bool { return p.Kind == kind })
	if i < 0 {
		return workflows.DrillResult{}, fmt.Errorf("the spec schedules no %s drill (drills: %v)", kind, s.Drills.Scheduled())
	}
	p := plans[i]
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       fmt.Sprintf("%s-manual-%d", workflows.DrillWorkflowID(s.Service, kind), time.Now().UnixMilli()),
		TaskQueue:                                workflows.TaskQueue,
		WorkflowExecutionTimeout:                 6 * time.Hour,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.DrillWorkflow, p.Input)
	if err != nil {
		return workflows.DrillResult{}, fmt.Errorf("start drill: %w", err)
	}
	var res workflows.DrillResult
	if err := run.Get(ctx, &res); err != nil {
		return res, fmt.Errorf("drill %s: %w", run.GetID(), err)
	}
	return res, nil
}
