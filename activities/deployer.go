package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go.temporal.io/sdk/activity"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/render"
)

// maxOutput bounds the command output kept in DeployResult.Output.
const maxOutput = 4 << 10

// Error types of the AWS deploy targets' non-retryable application errors.
const (
	// ErrDeployTimeout: the target did not settle (steady ECS service, deployed
	// CloudFront distribution, completed invalidation) within deploy.wait_timeout.
	ErrDeployTimeout = "DeployTimeout"
	// ErrAccessDenied: the worker's AWS credentials may not make a call; the
	// message names the IAM action and the resource.
	ErrAccessDenied = awsclient.TypeAccessDenied
)

// Deployer makes a version live on the deploy target and reverts it.
//
// Targets: "demo" (the demo app's idempotent POST /admin/deploy), "command"
// (Deploy.Command / RollbackCommand run without a shell), "ecs" (a task
// definition revision per release, see deploy_ecs.go) and "s3-static" (a
// folder per version behind a CloudFront origin path, see deploy_s3.go).
// Network errors, throttling and 5xx answers are plain (retryable) errors; a
// refusal (4xx) or a failed command is a non-retryable ErrDeployFailed, a
// target that never settles a non-retryable ErrDeployTimeout, missing AWS
// permissions a non-retryable ErrAccessDenied, and unusable input a
// non-retryable ErrBadInput.
type Deployer struct {
	// HTTP is the client for the demo target; nil uses one with a 30s timeout.
	HTTP *http.Client
	// Logger receives one line per deploy; nil uses slog.Default().
	Logger *slog.Logger
	// AWS is the configuration of the ecs and s3-static targets; nil loads
	// the SDK's default chain (awsclient.Load) on first use.
	AWS *aws.Config
	// Waits sets how often the AWS waiters poll; zero fields poll at the
	// SDK's pace, at most every 30s (tests shorten both).
	Waits awsclient.Waits

	awsMu  sync.Mutex
	awsCfg *aws.Config
}

func (d *Deployer) client() *http.Client {
	if d != nil && d.HTTP != nil {
		return d.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (d *Deployer) logger() *slog.Logger {
	if d != nil && d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// CurrentVersion returns the version live now, recorded before a deploy so a
// rollback needs no rebuild. The demo target reads the app's version path;
// the command target reads it the same way when app.url is set; ecs reads the
// image tag its service runs (or the task definition ARN); s3-static reads the
// distribution's origin path (/PREFIX/VERSION reads as VERSION).
func (d *Deployer) CurrentVersion(ctx context.Context, in DeployInput) (string, error) {
	switch in.Deploy.Target {
	case "demo", "command":
		if in.App.URL == "" {
			if in.Deploy.Target == "command" {
				return "", nil // nothing to ask: rollback then needs the version by hand
			}
			return "", badInput("demo target needs app.url")
		}
		path := in.App.VersionPath
		if path == "" {
			path = defaultVersionPath
		}
		v, err := fetchVersion(ctx, d.client(), joinURL(in.App.URL, path))
		var se *statusError
		if errors.As(err, &se) && se.Code >= 400 && se.Code < 500 {
			return "", temporal.NewNonRetryableApplicationError("read live version: "+err.Error(), ErrBadInput, err)
		}
		if err != nil {
			return "", fmt.Errorf("read live version: %w", err)
		}
		return v, nil
	case "ecs":
		return d.ecsCurrent(ctx, in)
	case "s3-static":
		return d.s3Current(ctx, in)
	default:
		return "", targetError(in.Deploy.Target)
	}
}

// Deploy makes in.Version live and records what was live before. On the demo
// target the request carries the key ReleaseID:RunID:deploy:Version, so a
// retried activity is applied once. On the command target Deploy.Command runs
// with GOLIVE_VERSION, GOLIVE_PREVIOUS_VERSION (in.Previous) and GOLIVE_RELEASE set.
func (d *Deployer) Deploy(ctx context.Context, in DeployInput) (DeployResult, error) {
	if in.Version == "" {
		return DeployResult{}, badInput("no version to deploy")
	}
	switch in.Deploy.Target {
	case "demo":
		return d.demoDeploy(ctx, in, in.Version, runKey(ctx, in, "deploy", in.Version))
	case "command":
		if len(in.Deploy.Command) == 0 {
			return DeployResult{}, badInput("deploy target command needs deploy.command")
		}
		out, err := d.run(ctx, "deploy", in.Deploy.Command, in.ReleaseID, in.Version, in.Previous, in.Deploy.Timeout.D())
		return DeployResult{Previous: in.Previous, Live: in.Version, Output: out}, err
	case "ecs":
		return d.ecsDeploy(ctx, in)
	case "s3-static":
		return d.s3Deploy(ctx, in)
	default:
		return DeployResult{}, targetError(in.Deploy.Target)
	}
}

// Revert makes in.Previous (the version recorded before the deploy) live again;
// in.Version names the version being rolled back. On the demo target the key
// is ReleaseID:RunID:revert:Previous; on the command target RollbackCommand runs
// with GOLIVE_VERSION=Previous and GOLIVE_PREVIOUS_VERSION=Version; ecs points
// the service back at the revision that ran Previous and s3-static switches
// the origin path back to its folder, neither building nor uploading anything.
func (d *Deployer) Revert(ctx context.Context, in DeployInput) (DeployResult, error) {
	if in.Previous == "" {
		return DeployResult{}, badInput("no recorded previous version to revert to")
	}
	switch in.Deploy.Target {
	case "demo":
		return d.demoDeploy(ctx, in, in.Previous, runKey(ctx, in, "revert", in.Previous))
	case "command":
		if len(in.Deploy.RollbackCommand) == 0 {
			return DeployResult{}, badInput("deploy target command has no deploy.rollback_command")
		}
		out, err := d.run(ctx, "revert", in.Deploy.RollbackCommand, in.ReleaseID, in.Previous, in.Version, in.Deploy.Timeout.D())
		return DeployResult{Previous: in.Version, Live: in.Previous, Output: out}, err
	case "ecs":
		return d.ecsRevert(ctx, in)
	case "s3-static":
		return d.s3Revert(ctx, in)
	default:
		return DeployResult{}, targetError(in.Deploy.Target)
	}
}

// demoDeploy asks the demo app to make version live under an idempotency key.
func (d *Deployer) demoDeploy(ctx context.Context, in DeployInput, version, key string) (DeployResult, error) {
	base := in.Deploy.URL
	if base == "" {
		base = in.App.URL
	}
	if base == "" {
		return DeployResult{}, badInput("demo target needs deploy.url or app.url")
	}
	body, _ := json.Marshal(map[string]string{"version": version, "key": key})
	u := joinURL(base, "/admin/deploy")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return DeployResult{}, badInput(fmt.Sprintf("deploy url %q: %v", u, err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client().Do(req)
	if err != nil {
		return DeployResult{}, fmt.Errorf("demo deploy %s: %w", version, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := render.Truncate(firstLine(string(raw)), maxValueLen)
	switch {
	case resp.StatusCode >= 500:
		return DeployResult{}, fmt.Errorf("demo deploy %s: %s: %s", version, resp.Status, msg)
	case resp.StatusCode >= 300:
		return DeployResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("demo deploy %s refused: %s: %s", version, resp.Status, msg), ErrDeployFailed, nil)
	}
	var out struct {
		Previous string `json:"previous"`
		Live     string `json:"live"`
		Replayed bool   `json:"replayed"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return DeployResult{}, fmt.Errorf("demo deploy %s: bad answer: %w", version, err)
	}
	d.logger().Info("demo deploy", "release", in.ReleaseID, "key", key, "previous", out.Previous, "live", out.Live, "replayed", out.Replayed)
	return DeployResult{Previous: out.Previous, Live: out.Live, Output: "demo key " + key}, nil
}

// run executes argv without a shell, heartbeating while it runs, and returns
// the tail of its combined output. A non-zero exit is a non-retryable ErrDeployFailed.
func (d *Deployer) run(ctx context.Context, what string, argv []string, release, version, previous string, timeout time.Duration) (string, error) {
	parent := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOLIVE_VERSION="+version, "GOLIVE_PREVIOUS_VERSION="+previous, "GOLIVE_RELEASE="+release)
	cmd.WaitDelay = 5 * time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		return "", badInput(fmt.Sprintf("%s command %s cannot start: %v", what, argv[0], err))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	var err error
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case <-tick.C:
			heartbeat(ctx, what+" running")
		}
	}
	out := tail(buf.String(), maxOutput)
	d.logger().Info(what+" command", "release", release, "version", version, "err", err)
	if err != nil {
		if perr := parent.Err(); perr != nil { // the activity itself was cancelled or timed out
			return out, fmt.Errorf("%s command %s: %w", what, argv[0], perr)
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (timed out after %s)", err, timeout)
		}
		return out, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s command %s failed: %v", what, argv[0], err), ErrDeployFailed, err, out)
	}
	return out, nil
}

// tail keeps the last n bytes of s, where failures are reported.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := len(s) - n + len("…")
	for cut < len(s) && !utf8Start(s[cut]) {
		cut++
	}
	return "…" + s[cut:]
}

func badInput(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrBadInput, nil)
}

func targetError(target string) error {
	switch target {
	case "":
		return badInput("no deploy target")
	default:
		return badInput(fmt.Sprintf("unknown deploy target %q (want demo, command, ecs or s3-static)", target))
	}
}

// runKey is the idempotency key of one deploy or revert: release, run, action and
// version. The run ID keeps a later release of the same service (same workflow
// ID, same versions) from being mistaken for a retry of this one.
func runKey(ctx context.Context, in DeployInput, action, version string) string {
	run := "norun"
	if activity.IsActivity(ctx) {
		run = activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	return in.ReleaseID + ":" + run + ":" + action + ":" + version
}
