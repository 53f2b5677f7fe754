package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/worker"
)

// A worker told to stop while an activity runs lets it finish within its
// StopTimeout (golive worker --stop-timeout): the result reaches the server on
// the first attempt. Without one the activity is cancelled at once and has to
// wait for its timeout and a retry on another worker.
func TestStoppingWorkerLetsRunningActivitiesFinish(t *testing.T) {
	c := startServer(t)
	for _, tc := range []struct {
		stopTimeout  time.Duration
		wantAttempts int32
	}{{5 * time.Second, 1}, {0, 2}} {
		t.Run(fmt.Sprintf("stop-timeout=%s", tc.stopTimeout), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			queue := "stop-" + tc.stopTimeout.String()
			started := make(chan struct{}, 2)
			step := func(ctx context.Context) (string, error) {
				started <- struct{}{}
				select {
				case <-time.After(time.Second):
					return "finished", nil
				case <-ctx.Done():
					return "", ctx.Err()
				}
			}
			newWorker := func(stop time.Duration) interface{ Stop() } {
				w := worker.New(c, worker.Options{Logger: testLogger(), TaskQueue: queue, StopTimeout: stop})
				w.RegisterWorkflow(stepWorkflow)
				w.RegisterActivityWithOptions(step, activity.RegisterOptions{Name: "SlowStep"})
				if err := w.Start(); err != nil {
					t.Fatal(err)
				}
				return w
			}
			w1 := newWorker(tc.stopTimeout)
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, stepWorkflow)
			if err != nil {
				t.Fatal(err)
			}
			<-started
			w1.Stop() // returns once the activity finished, or at once when cancelled
			w2 := newWorker(0)
			defer w2.Stop()
			var out string
			if err := run.Get(ctx, &out); err != nil || out != "finished" {
				t.Fatalf("workflow: %q %v", out, err)
			}
			var attempts int32
			for _, e := range historyOf(ctx, t, c, run.GetID(), run.GetRunID()) {
				if e.GetEventType() == enums.EVENT_TYPE_ACTIVITY_TASK_STARTED {
					attempts = e.GetActivityTaskStartedEventAttributes().GetAttempt()
				}
			}
			if attempts != tc.wantAttempts {
				t.Errorf("the activity completed on attempt %d, want %d", attempts, tc.wantAttempts)
			}
		})
	}
}

// stepWorkflow runs SlowStep once, with a short timeout so a cancelled attempt is retried quickly.
func stepWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
	})
	var out string
	err := workflow.ExecuteActivity(ctx, "SlowStep").Get(ctx, &out)
	return out, err
}
