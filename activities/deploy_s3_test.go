package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/awsfake"
	"github.com/golive/golive/internal/spec"
)

// spaBuild writes a single-page app build for version into a fresh directory.
func spaBuild(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":                  "<!doctype html><title>portal " + version + "</title><script src=/assets/index-DiwrgTda.js></script>",
		"version.json":                `{"version":"` + version + `"}`,
		"favicon.ico":                 "\x00\x00\x01\x00",
		"assets/index-DiwrgTda.js":    "console.log('" + version + "')",
		"assets/main.3f2a9c1b.css":    "body{color:#333}",
		"assets/fonts/inter.woff2":    "wOF2",
		"static/js/chunk-5JQ7XZ2D.js": "export{}",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func s3Setup(t *testing.T) (*awsfake.Cloud, *activities.Deployer, activities.DeployInput) {
	t.Helper()
	cloud := awsfake.Start(t)
	if err := cloud.S3.CreateBucket("portal-web"); err != nil {
		t.Fatal(err)
	}
	cloud.CloudFront.AddDistribution("E2PORTAL", "portal-web", "")
	cfg := cloud.Config(t)
	d := &activities.Deployer{Logger: quiet(), AWS: &cfg, Waits: fastWaits}
	in := activities.DeployInput{
		ReleaseID: "release:portal-web:production/run-1",
		Deploy: spec.Deploy{Target: "s3-static", Timeout: spec.Duration(time.Minute), WaitTimeout: spec.Duration(10 * time.Second),
			S3: &spec.S3Target{Bucket: "portal-web", Prefix: "releases", DistributionID: "E2PORTAL", InvalidatePaths: []string{"/*"}}},
	}
	// 1.0.0 is live: deployed the same way, from the bucket root.
	first := in
	first.Version, first.Deploy.S3 = "1.0.0", &spec.S3Target{Bucket: "portal-web", Dir: spaBuild(t, "1.0.0"), Prefix: "releases", DistributionID: "E2PORTAL"}
	res, err := d.Deploy(context.Background(), first)
	if err != nil || res.Previous != "/" || res.Live != "1.0.0" {
		t.Fatalf("first deploy = %+v, %v", res, err)
	}
	in.Deploy.S3.Dir = spaBuild(t, "2.0.0")
	in.Version = "2.0.0"
	return cloud, d, in
}

func TestS3StaticDeployThenRevert(t *testing.T) {
	cloud, d, in := s3Setup(t)
	ctx := context.Background()

	prev, err := d.CurrentVersion(ctx, in)
	if err != nil || prev != "1.0.0" {
		t.Fatalf("CurrentVersion = %q, %v", prev, err)
	}
	in.Previous = prev
	puts := cloud.Calls("s3", "PutObject")
	for attempt := 1; attempt <= 2; attempt++ { // the second call is a retried activity
		res, err := d.Deploy(ctx, in)
		if err != nil || res.Previous != "1.0.0" || res.Live != "2.0.0" {
			t.Fatalf("Deploy attempt %d = %+v, %v", attempt, res, err)
		}
		t.Logf("deploy: %s", res.Output)
	}
	if n := cloud.Calls("s3", "PutObject") - puts; n != 7 {
		t.Errorf("deploy and its retry uploaded %d files, want the build's 7 once", n)
	}
	if got := cloud.CloudFront.OriginPath("E2PORTAL"); got != "/releases/2.0.0" {
		t.Fatalf("origin path after deploy = %q", got)
	}
	keys := cloud.S3.Keys("portal-web", "releases/2.0.0/")
	sort.Strings(keys)
	if len(keys) != 7 || keys[0] != "releases/2.0.0/assets/fonts/inter.woff2" {
		t.Errorf("uploaded keys = %v", keys)
	}
	for key, want := range map[string][2]string{
		"index.html":                  {"text/html; charset=utf-8", "no-cache"},
		"version.json":                {"application/json", "no-cache"},
		"favicon.ico":                 {"image/x-icon", "no-cache"},
		"assets/index-DiwrgTda.js":    {"text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		"assets/main.3f2a9c1b.css":    {"text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		"assets/fonts/inter.woff2":    {"font/woff2", "no-cache"},
		"static/js/chunk-5JQ7XZ2D.js": {"text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
	} {
		o, ok := cloud.S3.Get("portal-web", "releases/2.0.0/"+key)
		if !ok || o.ContentType != want[0] || o.CacheControl != want[1] {
			t.Errorf("%s: %v type %q cache %q, want %q %q", key, ok, o.ContentType, o.CacheControl, want[0], want[1])
		}
	}
	if o, _ := cloud.S3.Get("portal-web", "releases/2.0.0/version.json"); string(o.Body) != `{"version":"2.0.0"}` {
		t.Errorf("stored body %q (aws-chunked not decoded?)", o.Body)
	}
	if inv := cloud.CloudFront.Invalidations("E2PORTAL"); len(inv) != 2 || inv[1][0] != "/*" {
		t.Errorf("invalidations = %v, want one per switch (the retry reuses its caller reference)", inv)
	}

	puts = cloud.Calls("s3", "PutObject")
	rb := in
	rb.Version = "1.0.0"
	for attempt := 1; attempt <= 2; attempt++ {
		res, err := d.Revert(ctx, rb)
		if err != nil || res.Live != "1.0.0" {
			t.Fatalf("Revert attempt %d = %+v, %v", attempt, res, err)
		}
	}
	if got := cloud.CloudFront.OriginPath("E2PORTAL"); got != "/releases/1.0.0" {
		t.Errorf("origin path after revert = %q, want the recorded /releases/1.0.0", got)
	}
	if n := cloud.Calls("s3", "PutObject") - puts; n != 0 {
		t.Errorf("revert uploaded %d files", n)
	}
	if inv := cloud.CloudFront.Invalidations("E2PORTAL"); len(inv) != 3 {
		t.Errorf("invalidations after revert = %d, want 3", len(inv))
	}

	// A recorded folder that is gone is refused rather than served empty.
	rb.Previous = "0.9.0"
	if _, err := d.Revert(ctx, rb); !isType(t, err, activities.ErrDeployFailed) || !strings.Contains(err.Error(), "releases/0.9.0/") {
		t.Errorf("revert to an empty folder = %v", err)
	}
	if got := cloud.CloudFront.OriginPath("E2PORTAL"); got != "/releases/1.0.0" {
		t.Errorf("origin path moved to %q", got)
	}
}

func TestS3StaticInvalidationTimeoutThenRollsBack(t *testing.T) {
	cloud, d, in := s3Setup(t)
	ctx := context.Background()
	in.Previous = "1.0.0"
	cloud.CloudFront.StuckInvalidations = true
	in.Deploy.WaitTimeout = spec.Duration(200 * time.Millisecond)
	_, err := d.Deploy(ctx, in)
	typ, nonRetryable := appErr(t, err)
	if typ != activities.ErrDeployTimeout || !nonRetryable || !strings.Contains(err.Error(), "invalidated") {
		t.Fatalf("Deploy with a stuck invalidation = %v (type %q, non-retryable %v)", err, typ, nonRetryable)
	}
	cloud.CloudFront.StuckInvalidations = false
	rb := in
	rb.Version = "1.0.0"
	if _, err := d.Revert(ctx, rb); err != nil {
		t.Fatal(err)
	}
	if got := cloud.CloudFront.OriginPath("E2PORTAL"); got != "/releases/1.0.0" {
		t.Errorf("origin path after rollback = %q", got)
	}
}

func TestS3StaticThrottlingAndAccessDenied(t *testing.T) {
	cloud, d, in := s3Setup(t)
	ctx := context.Background()
	in.Previous = "1.0.0"
	updates := cloud.Calls("cloudfront", "UpdateDistribution")
	cloud.Fail("cloudfront", "UpdateDistribution", awsfake.Fault{Code: "Throttling", Message: "Rate exceeded", Times: 2})
	cloud.Fail("s3", "PutObject", awsfake.Fault{Code: "SlowDown", Message: "Please reduce your request rate.", Status: 503, Times: 1})
	if _, err := d.Deploy(ctx, in); err != nil {
		t.Fatalf("Deploy under throttling: %v", err)
	}
	if n := cloud.Calls("cloudfront", "UpdateDistribution") - updates; n != 3 {
		t.Errorf("UpdateDistribution called %d times, want 3", n)
	}

	in.Version, in.Deploy.S3.Dir = "3.0.0", spaBuild(t, "3.0.0")
	cloud.Fail("s3", "PutObject", awsfake.Fault{Code: "AccessDenied", Message: "Access Denied", Status: 403})
	before := cloud.Calls("s3", "PutObject")
	_, err := d.Deploy(ctx, in)
	typ, nonRetryable := appErr(t, err)
	if typ != activities.ErrAccessDenied || !nonRetryable || !strings.Contains(err.Error(), "s3:PutObject on s3://portal-web/releases/3.0.0/") {
		t.Fatalf("Deploy without s3:PutObject = %v (type %q, non-retryable %v)", err, typ, nonRetryable)
	}
	if n := cloud.Calls("s3", "PutObject") - before; n > 8 {
		t.Errorf("PutObject tried %d times: access denied must not be retried", n)
	}
	if got := cloud.CloudFront.OriginPath("E2PORTAL"); got != "/releases/2.0.0" {
		t.Errorf("origin path moved to %q after a failed upload", got)
	}
}

func TestS3StaticBadInput(t *testing.T) {
	_, d, in := s3Setup(t)
	ctx := context.Background()
	bad := in
	bad.Deploy.S3 = &spec.S3Target{Bucket: "portal-web", Dir: t.TempDir(), DistributionID: "E2PORTAL"}
	if _, err := d.Deploy(ctx, bad); !isType(t, err, activities.ErrBadInput) || !strings.Contains(err.Error(), "index.html") {
		t.Errorf("build without index.html: %v", err)
	}
	bad = in
	bad.Version = "../etc"
	if _, err := d.Deploy(ctx, bad); !isType(t, err, activities.ErrBadInput) {
		t.Errorf("version with a path: %v", err)
	}
}
