// Package awsfake is a stateful stand-in for the AWS services golive calls,
// for tests: one httptest TLS server that speaks each service's real wire
// protocol, so the real aws-sdk-go-v2 clients talk to it unchanged.
//
//   - ECS and Secrets Manager: awsJson1.1 (X-Amz-Target, JSON bodies)
//   - RDS: awsQuery (form-encoded Action, XML answers)
//   - CloudFront: restXml (REST paths, XML bodies, ETag / If-Match)
//   - CloudWatch: Smithy RPC v2 CBOR
//   - S3: github.com/johannesboyne/gofakes3, with the aws-chunked trailing
//     checksum encoding the SDK uses over TLS decoded in front of it
//
// Requests are routed by the service name in their SigV4 credential scope, so
// every client can share one endpoint (AWS_ENDPOINT_URL or BaseEndpoint).
// The fakes keep state: tests check what a deploy or a rollback left behind
// (the service's task definition, the distribution's origin path), not which
// calls were made. Fail injects throttling, access denied or any other error
// into an operation.
package awsfake

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/golive/golive/internal/awsclient"
)

// Region and Account are what the fakes put into ARNs.
const (
	Region  = "us-east-1"
	Account = "123456789012"
)

// Fault makes calls to one operation fail.
type Fault struct {
	// Code is the AWS error code, e.g. ThrottlingException, AccessDeniedException.
	Code string
	// Message is the error message; a default naming the code is used when empty.
	Message string
	// Status is the HTTP status (default 400).
	Status int
	// Times is how many calls fail before the operation works again; 0 means every call.
	Times int
}

// service is one faked AWS service.
type service interface {
	// operation names the operation a request calls.
	operation(r *http.Request, body []byte) string
	// writeError answers with an error in the service's protocol.
	writeError(w http.ResponseWriter, status int, code, msg string)
	// serve answers a request.
	serve(w http.ResponseWriter, r *http.Request, op string, body []byte)
}

// Cloud is the running fake: one TLS server and the state of every service.
type Cloud struct {
	// Server is the TLS server; its URL is the endpoint of every service.
	Server     *httptest.Server
	ECS        *ECS
	S3         *S3
	CloudFront *CloudFront
	RDS        *RDS
	CloudWatch *CloudWatch
	Secrets    *Secrets

	mu       sync.Mutex
	faults   map[string]*Fault
	calls    map[string]int
	services map[string]service
}

// Start runs a fresh Cloud until the test ends.
func Start(t testing.TB) *Cloud {
	t.Helper()
	c := &Cloud{
		ECS: newECS(), S3: newS3(), CloudFront: newCloudFront(), RDS: newRDS(),
		CloudWatch: newCloudWatch(), Secrets: newSecrets(),
		faults: map[string]*Fault{}, calls: map[string]int{},
	}
	c.services = map[string]service{
		"ecs": c.ECS, "s3": c.S3, "cloudfront": c.CloudFront, "rds": c.RDS,
		"monitoring": c.CloudWatch, "secretsmanager": c.Secrets,
	}
	c.Server = httptest.NewTLSServer(http.HandlerFunc(c.handle))
	t.Cleanup(c.Server.Close)
	return c
}

// URL is the endpoint of every faked service.
func (c *Cloud) URL() string { return c.Server.URL }

// Options returns awsclient options that reach this fake: its endpoint, a
// client trusting its certificate, static credentials, a region and short
// retry backoff. Tests that exercise AWS_ENDPOINT_URL clear BaseEndpoint.
func (c *Cloud) Options() awsclient.Options {
	return awsclient.Options{
		Region:       Region,
		BaseEndpoint: c.Server.URL,
		HTTPClient:   c.Server.Client(),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake-secret-key", ""),
		MaxBackoff:   20 * time.Millisecond,
	}
}

// Config loads an AWS configuration for this fake through awsclient.Load.
func (c *Cloud) Config(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := awsclient.Load(context.Background(), c.Options())
	if err != nil {
		t.Fatalf("awsfake config: %v", err)
	}
	return cfg
}

// Fail makes calls to service's operation fail with f. service is the SigV4
// signing name: ecs, s3, cloudfront, rds, monitoring (CloudWatch), secretsmanager.
func (c *Cloud) Fail(service, operation string, f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Status == 0 {
		f.Status = 400
	}
	if f.Message == "" {
		f.Message = "injected " + f.Code
	}
	c.faults[service+"."+operation] = &f
}

// Calls counts the requests service's operation received, failed ones included.
func (c *Cloud) Calls(service, operation string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[service+"."+operation]
}

func (c *Cloud) handle(w http.ResponseWriter, r *http.Request) {
	name := signingName(r.Header.Get("Authorization"))
	svc := c.services[name]
	if svc == nil {
		http.Error(w, fmt.Sprintf("awsfake: no service for signing name %q", name), http.StatusBadRequest)
		return
	}
	var body []byte
	if name != "s3" { // S3 bodies stream to gofakes3
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, 16<<20)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	op := svc.operation(r, body)
	key := name + "." + op
	c.mu.Lock()
	c.calls[key]++
	f := c.faults[key]
	var fault *Fault
	if f != nil {
		cp := *f
		fault = &cp
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				delete(c.faults, key)
			}
		}
	}
	c.mu.Unlock()
	if fault != nil {
		msg := fault.Message
		if fault.Code == "AccessDeniedException" || fault.Code == "AccessDenied" {
			msg = fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/golive-worker/i-0 is not authorized to perform: %s:%s because no identity-based policy allows the %s:%s action",
				Account, iamPrefix(name), op, iamPrefix(name), op)
		}
		svc.writeError(w, fault.Status, fault.Code, msg)
		return
	}
	svc.serve(w, r, op, body)
}

func iamPrefix(signing string) string {
	if signing == "monitoring" {
		return "cloudwatch"
	}
	return signing
}

// signingName reads the service from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ecs/aws4_request, ...".
func signingName(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
