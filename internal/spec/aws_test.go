package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/spec"
)

func TestAWSExamplesLoad(t *testing.T) {
	for _, f := range []string{"ecs.yaml", "s3-static.yaml", "command.yaml"} {
		if _, err := spec.Load("../../examples/" + f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	l, err := spec.Load("../../examples/ecs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	if s.Deploy.ECS == nil || s.Deploy.ECS.Container != "web" || s.Deploy.WaitTimeout.D() != 15*time.Minute {
		t.Errorf("ecs deploy = %+v", s.Deploy)
	}
	if s.Backup.MaxAge.D() != 24*time.Hour || s.Backup.MinRetentionDays != 7 || s.Metrics.CloudWatch.Window.D() != 5*time.Minute {
		t.Errorf("backup %+v, cloudwatch %+v", s.Backup, s.Metrics.CloudWatch)
	}
	l, err = spec.Load("../../examples/s3-static.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s3 := l.Spec.Deploy.S3; s3 == nil || s3.Prefix != "releases" || len(s3.InvalidatePaths) != 1 || l.Spec.Metrics.CloudWatch.Window.D() != spec.DefaultCloudWatchWindow {
		t.Errorf("s3 deploy = %+v, metrics %+v", l.Spec.Deploy.S3, l.Spec.Metrics.CloudWatch)
	}
}

func TestAWSDefaultsAndErrors(t *testing.T) {
	base := strings.Replace(minimal, "deploy:\n  target: demo\n", "", 1)
	l, err := spec.Parse("ecs.yaml", []byte(base+"deploy:\n  target: ecs\n  timeout: 10m\n  ecs: {cluster: prod, service: portal, image: repo/portal}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Spec.Deploy.WaitTimeout.D(); got != 9*time.Minute {
		t.Errorf("default wait_timeout = %s, want 9m (timeout less a tenth)", got)
	}
	for _, c := range []struct{ name, deploy, want string }{
		{"ecs without settings", "deploy:\n  target: ecs\n", "deploy.ecs: is required"},
		{"ecs image with tag", "deploy:\n  target: ecs\n  ecs: {cluster: c, service: s, image: repo/portal:1.0}\n", "already names a tag"},
		{"ecs without service", "deploy:\n  target: ecs\n  ecs: {cluster: c, image: repo/portal}\n", "deploy.ecs.service: is required"},
		{"s3 without settings", "deploy:\n  target: s3-static\n", "deploy.s3: is required"},
		{"s3 bad bucket", "deploy:\n  target: s3-static\n  s3: {bucket: Bad_Bucket, dir: dist, distribution_id: E1}\n", "not an S3 bucket name"},
		{"s3 bad prefix", "deploy:\n  target: s3-static\n  s3: {bucket: web, dir: dist, distribution_id: E1, prefix: /rel/}\n", "deploy.s3.prefix"},
		{"wait above timeout", "deploy:\n  target: demo\n  timeout: 5m\n  wait_timeout: 5m\n", "deploy.wait_timeout"},
	} {
		_, err := spec.Parse(c.name+".yaml", []byte(base+c.deploy))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	_, err = spec.Parse("cw.yaml", []byte(strings.Replace(minimal, "metrics:\n  url: http://127.0.0.1:9/stats\n", "metrics:\n  provider: cloudwatch\n  cloudwatch: {window: 90s}\n", 1)))
	if err == nil || !strings.Contains(err.Error(), "metrics.cloudwatch.window") {
		t.Errorf("window of 90s: %v", err)
	}
}
