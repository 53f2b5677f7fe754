package awsclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/awsfake"
)

// TestEndpointOverridesFromEnvironment reaches the fake through the SDK's own
// endpoint variables: AWS_ENDPOINT_URL for every service, and
// AWS_ENDPOINT_URL_<SERVICE> winning over it for one service.
func TestEndpointOverridesFromEnvironment(t *testing.T) {
	cloud := awsfake.Start(t)
	cloud.ECS.AddService("prod", "portal", "portal", map[string]string{"portal": "portal:1"}, 1)
	cloud.Secrets.Put("db", "v")
	ctx := context.Background()
	opts := cloud.Options()
	opts.BaseEndpoint = ""
	t.Setenv("AWS_REGION", awsfake.Region)

	t.Setenv("AWS_ENDPOINT_URL", cloud.URL())
	cfg, err := awsclient.Load(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ecs.NewFromConfig(cfg).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"portal"}}); err != nil {
		t.Fatalf("ECS through AWS_ENDPOINT_URL: %v", err)
	}
	if !awsclient.S3PathStyle(cfg) {
		t.Error("an endpoint override should switch S3 to path-style addressing")
	}

	t.Setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:1") // nothing listens there
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", cloud.URL())
	cfg, err = awsclient.Load(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("db")}); err != nil {
		t.Fatalf("Secrets Manager through AWS_ENDPOINT_URL_SECRETS_MANAGER: %v", err)
	}
	before := cloud.Calls("ecs", "DescribeServices")
	if _, err := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.RetryMaxAttempts = 1 }).DescribeServices(ctx,
		&ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"portal"}}); err == nil || cloud.Calls("ecs", "DescribeServices") != before {
		t.Errorf("ECS should have gone to AWS_ENDPOINT_URL (closed port): %v", err)
	}
}

func TestNoRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	if _, err := awsclient.Load(context.Background(), awsclient.Options{}); !errors.Is(err, awsclient.ErrNoRegion) {
		t.Errorf("Load without a region = %v", err)
	}
}

func TestClassifyAndActivityError(t *testing.T) {
	cloud := awsfake.Start(t)
	cfg := cloud.Config(t)
	c := ecs.NewFromConfig(cfg)
	ctx := context.Background()
	call := func() error {
		_, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("portal"), TaskDefinition: aws.String("portal:1")})
		return err
	}
	cases := []struct {
		fault       awsfake.Fault
		kind        awsclient.Kind
		typ         string
		nonRetrying bool
	}{
		{awsfake.Fault{Code: "AccessDeniedException"}, awsclient.AccessDenied, awsclient.TypeAccessDenied, true},
		{awsfake.Fault{Code: "ExpiredTokenException"}, awsclient.AccessDenied, awsclient.TypeAccessDenied, true},
		{awsfake.Fault{Code: "ServiceNotFoundException"}, awsclient.NotFound, "DeployFailed", true},
		{awsfake.Fault{Code: "InvalidParameterException"}, awsclient.Rejected, "DeployFailed", true},
		{awsfake.Fault{Code: "ThrottlingException"}, awsclient.Throttled, "AWSTransient", false},
		{awsfake.Fault{Code: "ServerException", Status: 500}, awsclient.Transient, "AWSTransient", false},
	}
	for _, tc := range cases {
		cloud.Fail("ecs", "UpdateService", tc.fault)
		err := call()
		if k := awsclient.Classify(err); k != tc.kind {
			t.Errorf("%s: Classify = %s, want %s", tc.fault.Code, k, tc.kind)
		}
		if a := awsclient.Action(err); a != "ecs:UpdateService" {
			t.Errorf("%s: Action = %q", tc.fault.Code, a)
		}
		aerr := awsclient.ActivityError(err, "service prod/portal", "DeployFailed")
		var ae *temporal.ApplicationError
		if !errors.As(aerr, &ae) || ae.Type() != tc.typ || ae.NonRetryable() != tc.nonRetrying {
			t.Errorf("%s: ActivityError = %v", tc.fault.Code, aerr)
		}
		if !strings.HasPrefix(aerr.Error(), "ecs:UpdateService on service prod/portal: "+tc.kind.String()+" ("+tc.fault.Code) {
			t.Errorf("%s: message %q", tc.fault.Code, aerr.Error())
		}
	}
	if awsclient.IAMPrefix("Secrets Manager") != "secretsmanager" || awsclient.IAMPrefix("CloudWatch") != "cloudwatch" || awsclient.IAMPrefix("CloudFront") != "cloudfront" {
		t.Error("IAMPrefix")
	}
}
