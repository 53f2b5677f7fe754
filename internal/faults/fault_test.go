package faults_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/worker"
)

func TestParseFault(t *testing.T) {
	for _, s := range []string{"kill:before:Deploy:1", "kill:after:Notify:9"} {
		f, err := worker.ParseFault(s)
		if err != nil || f.String() != s {
			t.Errorf("ParseFault(%q) = %v, %v", s, f, err)
		}
	}
	for _, s := range []string{"", "kill", "kill:during:Deploy:1", "kill:before::1", "kill:before:Deploy:0", "kill:before:Deploy:x", "crash:before:Deploy:1", "kill:before:Deploy:1:2"} {
		if f, err := worker.ParseFault(s); err == nil {
			t.Errorf("ParseFault(%q) = %v, want an error", s, f)
		}
	}
}

// TestFaultFiresAtTheNthExecution runs an activity three times under a fault
// whose Kill only records: it must fire once, at the 2nd execution, before the
// activity ran (or after it returned).
func TestFaultFiresAtTheNthExecution(t *testing.T) {
	for _, after := range []bool{false, true} {
		var runs, fired atomic.Int64
		var killed atomic.Int64
		f := worker.Fault{Activity: "Step", N: 2, After: after, Kill: func() {
			killed.Store(runs.Load())
			fired.Add(1)
		}}
		step := func(context.Context) error { runs.Add(1); return nil }
		other := func(context.Context) error { return nil }
		wf := func(ctx workflow.Context) error {
			ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
			for i := 0; i < 3; i++ {
				if err := workflow.ExecuteActivity(ctx, "Other").Get(ctx, nil); err != nil {
					return err
				}
				if err := workflow.ExecuteActivity(ctx, "Step").Get(ctx, nil); err != nil {
					return err
				}
			}
			return nil
		}
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.SetWorkerOptions(sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{f.Interceptor()}})
		env.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "wf"})
		env.RegisterActivityWithOptions(step, activity.RegisterOptions{Name: "Step"})
		env.RegisterActivityWithOptions(other, activity.RegisterOptions{Name: "Other"})
		env.ExecuteWorkflow("wf")
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		want := int64(1) // killed before the 2nd Step ran: one run so far
		if after {
			want = 2
		}
		if fired.Load() != 1 || killed.Load() != want {
			t.Errorf("after=%v: fired %d time(s), with %d Step run(s) done; want once with %d", after, fired.Load(), killed.Load(), want)
		}
	}
}
