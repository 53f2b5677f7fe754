package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/spec"
)

// Bounds of the AWS waits.
const (
	// defaultWaitMaxDelay caps the pause between two polls of a waiter.
	defaultWaitMaxDelay = 30 * time.Second
	// waitMargin is kept between the end of a wait and the activity's deadline,
	// so a target that never settles fails with ErrDeployTimeout, not an activity timeout.
	waitMargin = 15 * time.Second
	// heartbeatEvery is how often a waiting AWS deploy heartbeats.
	heartbeatEvery = 10 * time.Second
)

// awsConfig returns d.AWS, or the default chain's configuration loaded once.
// A chain without a region or credentials configuration that cannot load is
// a non-retryable ErrNotConfigured.
func (d *Deployer) awsConfig(ctx context.Context) (aws.Config, error) {
	if d.AWS != nil {
		return *d.AWS, nil
	}
	d.awsMu.Lock()
	defer d.awsMu.Unlock()
	if d.awsCfg != nil {
		return *d.awsCfg, nil
	}
	cfg, err := awsclient.Load(ctx, awsclient.Options{})
	if err != nil {
		return aws.Config{}, temporal.NewNonRetryableApplicationError("not configured: "+err.Error(), ErrNotConfigured, err)
	}
	d.awsCfg = &cfg
	return cfg, nil
}

// waits returns the waiter delays: d.Waits, with the pause capped at 30s by default.
func (d *Deployer) waits() awsclient.Waits {
	w := d.Waits
	if w.MaxDelay == 0 {
		w.MaxDelay = defaultWaitMaxDelay
	}
	return w
}

// waitBudget is how long an AWS deploy may wait for its target to settle:
// deploy.wait_timeout (default: deploy.timeout less a tenth), and never past
// the activity's deadline less a margin.
func waitBudget(ctx context.Context, dep spec.Deploy) time.Duration {
	budget := dep.WaitTimeout.D()
	if budget <= 0 {
		budget = dep.Timeout.D() - dep.Timeout.D()/10
	}
	if budget <= 0 {
		budget = 9 * time.Minute
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl) - waitMargin; left < budget {
			budget = left
		}
	}
	if budget < time.Second {
		budget = time.Second
	}
	return budget
}

// keepAlive heartbeats every 10s until stop is called, so long waits are not
// taken for a dead worker.
func keepAlive(ctx context.Context, what string) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				heartbeat(ctx, what)
			}
		}
	}()
	return func() { close(done) }
}

// awsErr turns an AWS error on resource into the activity's error: access
// denied and refusals are non-retryable, throttling and 5xx stay retryable.
func awsErr(err error, resource string) error {
	return awsclient.ActivityError(err, resource, ErrDeployFailed)
}

// timeoutErr is the non-retryable ErrDeployTimeout of a target that did not settle.
func timeoutErr(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrDeployTimeout, nil)
}

// deployFailed is a non-retryable ErrDeployFailed.
func deployFailed(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrDeployFailed, nil)
}

// waitErr classifies the error of an SDK waiter: the activity's own end stays
// a plain error, a waiter that ran out of time is ErrDeployTimeout (with what
// was last seen), an API error is classified by awsErr, anything else (a
// failure state) is ErrDeployFailed.
func waitErr(ctx context.Context, err error, resource, what string, budget time.Duration, lastSeen string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
	}
	if awsclient.IsWaiterTimeout(err) {
		msg := fmt.Sprintf("%s: not %s within %s", resource, what, budget.Round(time.Second))
		if lastSeen != "" {
			msg += "; last seen: " + lastSeen
		}
		return timeoutErr("%s", msg)
	}
	if awsclient.Action(err) != "" {
		return awsErr(err, resource)
	}
	return deployFailed("%s: %s: %v", resource, what, err)
}

// releaseKey identifies one release run: the workflow ID (ReleaseID, reused by
// every release of a service and environment) plus the run ID when called as
// an activity. Retries of an activity share it; the next release does not.
func releaseKey(ctx context.Context, releaseID string) string {
	if activity.IsActivity(ctx) {
		if run := activity.GetInfo(ctx).WorkflowExecution.RunID; run != "" {
			return releaseID + "/" + run
		}
	}
	return releaseID
}
