package activities_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/awsfake"
	"github.com/golive/golive/internal/spec"
)

const portalRepo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/portal"

// fastWaits polls the fakes every few milliseconds.
var fastWaits = awsclient.Waits{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}

// ecsSetup starts the fake with service prod/portal running portal:1.0.0 on two tasks.
func ecsSetup(t *testing.T) (*awsfake.Cloud, *activities.Deployer, activities.DeployInput, string) {
	t.Helper()
	cloud := awsfake.Start(t)
	first := cloud.ECS.AddService("prod", "portal", "portal", map[string]string{"portal": portalRepo + ":1.0.0", "log-router": "fluent-bit:2"}, 2)
	cfg := cloud.Config(t)
	d := &activities.Deployer{Logger: quiet(), AWS: &cfg, Waits: fastWaits}
	in := activities.DeployInput{
		ReleaseID: "release:portal:production/run-1",
		Deploy: spec.Deploy{Target: "ecs", Timeout: spec.Duration(time.Minute), WaitTimeout: spec.Duration(10 * time.Second),
			ECS: &spec.ECSTarget{Cluster: "prod", Service: "portal", Container: "portal", Image: portalRepo}},
		Version: "2.0.0",
	}
	return cloud, d, in, first
}

func TestECSDeployThenRevert(t *testing.T) {
	cloud, d, in, first := ecsSetup(t)
	ctx := context.Background()

	prev, err := d.CurrentVersion(ctx, in)
	if err != nil || prev != "1.0.0" {
		t.Fatalf("CurrentVersion = %q, %v", prev, err)
	}
	in.Previous = prev
	for attempt := 1; attempt <= 2; attempt++ { // the second call is a retried activity
		res, err := d.Deploy(ctx, in)
		if err != nil || res.Previous != "1.0.0" || res.Live != "2.0.0" {
			t.Fatalf("Deploy attempt %d = %+v, %v", attempt, res, err)
		}
		t.Logf("deploy: %s", res.Output)
	}
	live := cloud.ECS.ServiceTaskDefinition("prod", "portal")
	if live == first || cloud.ECS.Image(live, "portal") != portalRepo+":2.0.0" || !cloud.ECS.Steady("prod", "portal") {
		t.Fatalf("after deploy the service runs %s (%s), steady %v", live, cloud.ECS.Image(live, "portal"), cloud.ECS.Steady("prod", "portal"))
	}
	if img := cloud.ECS.Image(live, "log-router"); img != "fluent-bit:2" {
		t.Errorf("the other container changed: %s", img)
	}
	tags := cloud.ECS.Tags(live)
	if tags["golive:previous-task-definition"] != first || tags["golive:previous-version"] != "1.0.0" || tags["team"] != "portal" {
		t.Errorf("new revision tags = %v", tags)
	}
	if n := cloud.ECS.Revisions("portal"); n != 2 {
		t.Errorf("retried deploy registered %d revisions, want 2", n)
	}
	if got, _ := d.CurrentVersion(ctx, in); got != "2.0.0" {
		t.Errorf("after deploy CurrentVersion = %q", got)
	}

	// Rollback as the workflow asks for it: Version and Previous are the recorded previous version.
	rb := in
	rb.Version = "1.0.0"
	for attempt := 1; attempt <= 2; attempt++ {
		res, err := d.Revert(ctx, rb)
		if err != nil || res.Live != "1.0.0" {
			t.Fatalf("Revert attempt %d = %+v, %v", attempt, res, err)
		}
	}
	if got := cloud.ECS.ServiceTaskDefinition("prod", "portal"); got != first || !cloud.ECS.Steady("prod", "portal") {
		t.Fatalf("after revert the service runs %s, want the recorded %s", got, first)
	}
	if n := cloud.ECS.Revisions("portal"); n != 2 {
		t.Errorf("revert registered a revision: %d", n)
	}
}

func TestECSRevertSearchesOlderRevisions(t *testing.T) {
	cloud, d, in, first := ecsSetup(t)
	ctx := context.Background()
	in.Previous = "1.0.0"
	if _, err := d.Deploy(ctx, in); err != nil {
		t.Fatal(err)
	}
	// A second release, 2.0.1, on top: the live revision's tags point at 2.0.0, not 1.0.0.
	in2 := in
	in2.Version, in2.ReleaseID = "2.0.1", "release:portal:production/run-2"
	if _, err := d.Deploy(ctx, in2); err != nil {
		t.Fatal(err)
	}
	in2.Previous, in2.Version = "1.0.0", "1.0.0" // straight back to 1.0.0: found by its image among older revisions
	if _, err := d.Revert(ctx, in2); err != nil {
		t.Fatal(err)
	}
	if got := cloud.ECS.ServiceTaskDefinition("prod", "portal"); got != first {
		t.Errorf("service runs %s, want %s", got, first)
	}
	in2.Previous = "0.9.0"
	_, err := d.Revert(ctx, in2)
	if typ, nr := appErr(t, err); typ != activities.ErrDeployFailed || !nr || !strings.Contains(err.Error(), "portal:0.9.0") {
		t.Errorf("revert to an image no revision runs = %v (%s, non-retryable %v)", err, typ, nr)
	}
}

func TestECSWaiterTimeoutFailsClearlyThenRollsBack(t *testing.T) {
	cloud, d, in, first := ecsSetup(t)
	ctx := context.Background()
	cloud.ECS.BreakImage(portalRepo + ":2.0.0")
	in.Previous = "1.0.0"
	in.Deploy.WaitTimeout = spec.Duration(300 * time.Millisecond)
	start := time.Now()
	_, err := d.Deploy(ctx, in)
	typ, nonRetryable := appErr(t, err)
	if typ != activities.ErrDeployTimeout || !nonRetryable {
		t.Fatalf("Deploy of a never-steady image = %v (type %q, non-retryable %v)", err, typ, nonRetryable)
	}
	if !strings.Contains(err.Error(), "not steady on portal:2") || !strings.Contains(err.Error(), "PRIMARY portal:2 0/2 running") {
		t.Errorf("timeout message does not say what was seen: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("timeout took %s", took)
	}
	// The saga reverts even a half-applied deploy.
	rb := in
	rb.Version = "1.0.0"
	if _, err := d.Revert(ctx, rb); err != nil {
		t.Fatal(err)
	}
	if got := cloud.ECS.ServiceTaskDefinition("prod", "portal"); got != first || !cloud.ECS.Steady("prod", "portal") {
		t.Errorf("after rollback the service runs %s (steady %v), want %s", got, cloud.ECS.Steady("prod", "portal"), first)
	}
}

func TestECSThrottlingIsRetried(t *testing.T) {
	cloud, d, in, _ := ecsSetup(t)
	cloud.Fail("ecs", "DescribeServices", awsfake.Fault{Code: "ThrottlingException", Message: "Rate exceeded", Times: 2})
	cloud.Fail("ecs", "UpdateService", awsfake.Fault{Code: "ThrottlingException", Message: "Rate exceeded", Times: 1})
	in.Previous = "1.0.0"
	res, err := d.Deploy(context.Background(), in)
	if err != nil || res.Live != "2.0.0" {
		t.Fatalf("Deploy under throttling = %+v, %v", res, err)
	}
	if n := cloud.Calls("ecs", "UpdateService"); n != 2 {
		t.Errorf("UpdateService called %d times, want 2 (one throttled)", n)
	}
	if n := cloud.Calls("ecs", "DescribeServices"); n < 3 {
		t.Errorf("DescribeServices called %d times, want the 2 throttled + more", n)
	}
}

func TestECSThrottlingBeyondRetriesStaysRetryable(t *testing.T) {
	cloud, d, in, _ := ecsSetup(t)
	cloud.Fail("ecs", "DescribeServices", awsfake.Fault{Code: "ThrottlingException", Message: "Rate exceeded"})
	_, err := d.CurrentVersion(context.Background(), in)
	if typ, nr := appErr(t, err); err == nil || nr {
		t.Fatalf("endless throttling = %v (%s): want a retryable error so Temporal backs off", err, typ)
	}
	if n := cloud.Calls("ecs", "DescribeServices"); n != awsclient.DefaultMaxAttempts {
		t.Errorf("DescribeServices tried %d times, want %d", n, awsclient.DefaultMaxAttempts)
	}
}

func TestECSAccessDeniedIsNotRetried(t *testing.T) {
	cloud, d, in, first := ecsSetup(t)
	cloud.Fail("ecs", "UpdateService", awsfake.Fault{Code: "AccessDeniedException"})
	in.Previous = "1.0.0"
	_, err := d.Deploy(context.Background(), in)
	typ, nonRetryable := appErr(t, err)
	if typ != activities.ErrAccessDenied || !nonRetryable {
		t.Fatalf("Deploy without ecs:UpdateService = %v (type %q, non-retryable %v)", err, typ, nonRetryable)
	}
	for _, want := range []string{"ecs:UpdateService", "service prod/portal", "access denied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if n := cloud.Calls("ecs", "UpdateService"); n != 1 {
		t.Errorf("UpdateService tried %d times, want 1", n)
	}
	if got := cloud.ECS.ServiceTaskDefinition("prod", "portal"); got != first {
		t.Errorf("service changed to %s", got)
	}
}

func TestECSBadInput(t *testing.T) {
	_, d, in, _ := ecsSetup(t)
	ctx := context.Background()
	bad := in
	bad.Deploy.ECS = &spec.ECSTarget{Cluster: "prod", Service: "missing", Image: portalRepo}
	if _, err := d.CurrentVersion(ctx, bad); !isType(t, err, activities.ErrBadInput) || !strings.Contains(err.Error(), "MISSING") {
		t.Errorf("missing service: %v", err)
	}
	bad.Deploy.ECS = &spec.ECSTarget{Cluster: "prod", Service: "portal", Container: "web", Image: portalRepo}
	if _, err := d.CurrentVersion(ctx, bad); !isType(t, err, activities.ErrBadInput) || !strings.Contains(err.Error(), "[log-router, portal]") {
		t.Errorf("ambiguous container: %v", err)
	}
	bad = in
	bad.Version = "2.0.0+build 7"
	if _, err := d.Deploy(ctx, bad); !isType(t, err, activities.ErrBadInput) {
		t.Errorf("bad tag: %v", err)
	}
}

func isType(t *testing.T, err error, typ string) bool {
	t.Helper()
	got, nr := appErr(t, err)
	return got == typ && nr
}

// TestECSAsActivity runs deploy and revert through the SDK's activity
// environment: real activity context (run ID in the release key, heartbeats)
// and errors as the workflow receives them.
func TestECSAsActivity(t *testing.T) {
	cloud, d, in, first := ecsSetup(t)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	in.Previous = "1.0.0"
	val, err := env.ExecuteActivity(d.Deploy, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.DeployResult
	if err := val.Get(&res); err != nil || res.Previous != "1.0.0" {
		t.Fatalf("Deploy = %+v, %v", res, err)
	}
	live := cloud.ECS.ServiceTaskDefinition("prod", "portal")
	if key := cloud.ECS.Tags(live)["golive:release"]; !strings.HasPrefix(key, in.ReleaseID+"/") || key == in.ReleaseID+"/" {
		t.Errorf("release tag %q lacks the run ID", key)
	}
	cloud.ECS.BreakImage(portalRepo + ":2.1.0")
	in.Version, in.Previous, in.Deploy.WaitTimeout = "2.1.0", "2.0.0", spec.Duration(100*time.Millisecond)
	_, err = env.ExecuteActivity(d.Deploy, in)
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != activities.ErrDeployTimeout || !ae.NonRetryable() {
		t.Fatalf("stuck deploy through the SDK = %v", err)
	}
	in.Version, in.Previous = "1.0.0", "1.0.0"
	if _, err := env.ExecuteActivity(d.Revert, in); err != nil {
		t.Fatal(err)
	}
	if got := cloud.ECS.ServiceTaskDefinition("prod", "portal"); got != first {
		t.Errorf("after revert %s, want %s", got, first)
	}
}
