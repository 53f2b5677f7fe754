package worker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// TestCompletedAndRolledBackReleasesShowApartInTheList runs a release that
// completes and one whose deploy fails and rolls back on one real server, and
// reads them the way the Temporal UI's list does (a visibility query): the
// completed one closes Completed with GoliveOutcome completed, the rolled-back
// one closes Failed (a typed ReleaseRolledBack carrying the result) with
// GoliveOutcome rolled_back.
func TestCompletedAndRolledBackReleasesShowApartInTheList(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var answering sync.WaitGroup
	defer answering.Wait()
	start := func(service string, deploy func(*spec.Spec)) client.WorkflowRun {
		_, url := serveDemoApp(ctx, t)
		s := fastSpec(t, url)
		s.Service = service
		deploy(&s)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment), TaskQueue: workflows.TaskQueue},
			workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"})
		if err != nil {
			t.Fatal(err)
		}
		answering.Go(func() { respond(ctx, t, c, run, s.Members) })
		return run
	}
	good := start("portal-good", func(*spec.Spec) {})
	bad := start("portal-bad", func(s *spec.Spec) {
		s.Deploy = spec.Deploy{Target: "command", Timeout: s.Deploy.Timeout, WaitTimeout: s.Deploy.WaitTimeout,
			Command: []string{"sh", "-c", "exit 1"}, RollbackCommand: []string{"true"}}
	})

	var res workflows.ReleaseResult
	if err := good.Get(ctx, &res); err != nil || res.Outcome != record.OutcomeCompleted {
		t.Fatalf("good release: %v, outcome %s (%s)", err, res.Outcome, res.Reason)
	}
	err := bad.Get(ctx, &res)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != workflows.ErrReleaseRolledBack {
		t.Fatalf("bad release: %v, want a %s failure", err, workflows.ErrReleaseRolledBack)
	}
	if err := workflows.EndedResult(err, &res); err != nil || res.Outcome != record.OutcomeRolledBack || res.LiveVersion != "1.0.0" || res.EvidencePath == "" {
		t.Fatalf("result of the rolled-back release: %v %+v", err, res)
	}

	want := map[string]struct {
		status  enums.WorkflowExecutionStatus
		outcome record.Outcome
	}{
		good.GetID(): {enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, record.OutcomeCompleted},
		bad.GetID():  {enums.WORKFLOW_EXECUTION_STATUS_FAILED, record.OutcomeRolledBack},
	}
	query := workflows.SAOutcome.GetName() + " IN ('completed', 'rolled_back')"
	for ctx.Err() == nil {
		list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range list.GetExecutions() {
			w, ok := want[e.GetExecution().GetWorkflowId()]
			var outcome string
			if f := e.GetSearchAttributes().GetIndexedFields()[workflows.SAOutcome.GetName()]; f != nil {
				_ = converter.GetDefaultDataConverter().FromPayload(f, &outcome)
			}
			if ok && e.GetStatus() == w.status && outcome == string(w.outcome) {
				seen[e.GetExecution().GetWorkflowId()] = true
			}
		}
		if len(seen) == len(want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the list never showed %s Completed/completed and %s Failed/rolled_back", good.GetID(), bad.GetID())
}
