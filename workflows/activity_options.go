package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
)

// Activities are called through nil typed pointers so names are checked by the compiler.
var (
	prober   *activities.Prober
	deployer *activities.Deployer
	database *activities.Database
	metrics  *activities.Metrics
	notifier *activities.Notifier
	recorder *activities.Recorder
	teamDir  *activities.Directory
)

// Errors that retrying cannot fix; every activity's retry policy stops on them.
var nonRetryable = []string{activities.ErrNotConfigured, activities.ErrBadInput, activities.ErrDeployFailed, activities.ErrDirectoryRefused}

// act returns a context for one activity with explicit timeouts, a bounded retry
// policy and a summary that reads as the checklist line.
func act(ctx workflow.Context, summary string, timeout time.Duration) workflow.Context {
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    heartbeatFor(timeout),
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

// heartbeatFor asks long activities to heartbeat so a dead worker is noticed quickly.
func heartbeatFor(timeout time.Duration) time.Duration {
	if timeout > 2*time.Minute {
		return time.Minute
	}
	return 0
}
