// Package awsclient loads the AWS configuration that golive's AWS integrations
// (deploy targets ecs and s3-static, RDS backups, CloudWatch metrics, Secrets
// Manager) share, and turns AWS errors into activity errors.
//
// Credentials and region come from the SDK's default chain (environment,
// shared config and credentials files, SSO, web identity, ECS task role, EC2
// instance role). Endpoints are overridden the SDK's standard way, which it
// reads natively: AWS_ENDPOINT_URL for every service, AWS_ENDPOINT_URL_<SERVICE>
// (AWS_ENDPOINT_URL_ECS, _S3, _CLOUDFRONT, _RDS, _CLOUDWATCH, _SECRETS_MANAGER)
// for one, or endpoint_url in a profile; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
// turns them off.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Defaults of the SDK retryer golive configures.
const (
	// DefaultMaxAttempts is how many times one AWS call is tried, throttling included.
	DefaultMaxAttempts = 5
	// DefaultMaxBackoff caps the exponential, jittered delay between two attempts.
	DefaultMaxBackoff = 20 * time.Second
)

// Options adjusts Load. The zero value uses the default chain unchanged.
type Options struct {
	// Region overrides the region of the default chain.
	Region string
	// BaseEndpoint sends every service to one endpoint (tests, local stacks);
	// AWS_ENDPOINT_URL does the same from the environment.
	BaseEndpoint string
	// HTTPClient's timeout and TLS settings replace the SDK's (tests pass an
	// httptest TLS client). They are carried over to the SDK's buildable
	// client, so AWS_CA_BUNDLE still applies on top.
	HTTPClient *http.Client
	// Credentials replaces the default credential chain.
	Credentials aws.CredentialsProvider
	// MaxAttempts of one call, retries on throttling and 5xx included (default 5).
	MaxAttempts int
	// MaxBackoff caps the delay between attempts (default 20s; tests shorten it).
	MaxBackoff time.Duration
}

// Load returns the AWS configuration from the default chain with golive's
// retry policy: the SDK's standard retryer (exponential backoff with jitter,
// throttling and 5xx retried, client-side retry quota) with o's attempts and
// backoff cap. A configuration without a region is an error wrapping
// ErrNoRegion.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	maxAttempts, maxBackoff := o.MaxAttempts, o.MaxBackoff
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	if maxBackoff <= 0 {
		maxBackoff = DefaultMaxBackoff
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = maxAttempts
				so.MaxBackoff = maxBackoff
			})
		}),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.BaseEndpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(o.BaseEndpoint))
	}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(buildable(o.HTTPClient)))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	return cfg, nil
}

// buildable copies c's timeout and TLS configuration into the SDK's own
// client type, the only one to which the SDK can add AWS_CA_BUNDLE.
func buildable(c *http.Client) *awshttp.BuildableClient {
	b := awshttp.NewBuildableClient()
	if c.Timeout > 0 {
		b = b.WithTimeout(c.Timeout)
	}
	if tr, ok := c.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		tlsCfg := tr.TLSClientConfig.Clone()
		b = b.WithTransportOptions(func(t *http.Transport) { t.TLSClientConfig = tlsCfg })
	}
	return b
}

// ErrNoRegion means the default chain names no region.
var ErrNoRegion = errors.New("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the profile)")

// S3PathStyle reports whether S3 requests should use path-style addressing
// (https://endpoint/bucket/key): true when an endpoint override is in force
// (local stacks and fakes rarely serve bucket subdomains), or when
// GOLIVE_S3_PATH_STYLE=true.
func S3PathStyle(cfg aws.Config) bool {
	if v := os.Getenv("GOLIVE_S3_PATH_STYLE"); v != "" {
		return strings.EqualFold(v, "true") || v == "1"
	}
	if strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return false
	}
	return (cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "") ||
		os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
}

// Waits sets how often an SDK waiter polls. Zero fields keep the SDK's
// defaults for that waiter; tests shorten both.
type Waits struct {
	MinDelay time.Duration
	MaxDelay time.Duration
}

// Apply copies the non-zero delays onto a waiter's MinDelay and MaxDelay.
func (w Waits) Apply(minDelay, maxDelay *time.Duration) {
	if w.MinDelay > 0 {
		*minDelay = w.MinDelay
	}
	if w.MaxDelay > 0 {
		*maxDelay = w.MaxDelay
	}
	if *maxDelay < *minDelay {
		*maxDelay = *minDelay
	}
}

// IsWaiterTimeout reports whether err is an SDK waiter giving up after its
// maximum wait time (the resource never reached the wanted state): the
// waiter's own error, or its deadline ending a poll or a pause. Check the
// caller's context first: its end looks the same.
func IsWaiterTimeout(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "exceeded max wait time") || errors.Is(err, context.DeadlineExceeded))
}
