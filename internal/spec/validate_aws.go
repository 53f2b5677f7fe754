package spec

import (
	"regexp"
	"strings"
	"time"
)

// s3BucketPattern is what an S3 bucket name may look like.
var s3BucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// awsDeploy checks the ecs and s3-static targets' settings, the deploy wait and
// the CloudWatch window.
func (c *checker) awsDeploy() {
	d := c.s.Deploy
	switch d.Target {
	case "ecs":
		if d.ECS == nil {
			c.add("deploy.ecs", "is required when deploy.target is ecs (cluster, service, image)")
			break
		}
		c.required("deploy.ecs.cluster", d.ECS.Cluster, "the ECS cluster name or ARN")
		c.required("deploy.ecs.service", d.ECS.Service, "the ECS service name or ARN")
		if c.required("deploy.ecs.image", d.ECS.Image, "the image repository, or a reference with {version}") {
			img := d.ECS.Image
			if !strings.Contains(img, "{version}") {
				last := img[strings.LastIndexByte(img, '/')+1:]
				if strings.ContainsAny(last, ":@") {
					c.add("deploy.ecs.image", "%q already names a tag or digest; give the repository (the version becomes the tag) or put {version} where it goes", img)
				}
			}
		}
	case "s3-static":
		if d.S3 == nil {
			c.add("deploy.s3", "is required when deploy.target is s3-static (bucket, dir, distribution_id)")
			break
		}
		if c.required("deploy.s3.bucket", d.S3.Bucket, "the bucket receiving the build") && !s3BucketPattern.MatchString(d.S3.Bucket) {
			c.add("deploy.s3.bucket", "%q is not an S3 bucket name", d.S3.Bucket)
		}
		c.required("deploy.s3.dir", d.S3.Dir, "the local build directory to upload")
		c.required("deploy.s3.distribution_id", d.S3.DistributionID, "the CloudFront distribution serving the bucket")
		if p := d.S3.Prefix; strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "..") {
			c.add("deploy.s3.prefix", "%q must not start or end with / nor contain ..", p)
		}
		for i, p := range d.S3.InvalidatePaths {
			if !strings.HasPrefix(p, "/") {
				c.add("deploy.s3.invalidate_paths", "[%d] %q must start with /", i, p)
			}
		}
	}
	if d.WaitTimeout < 0 || (d.Timeout > 0 && d.WaitTimeout >= d.Timeout) {
		c.add("deploy.wait_timeout", "%s must be positive and below deploy.timeout %s, so a target that never settles fails the deploy before the activity times out",
			short(d.WaitTimeout), short(d.Timeout))
	}
	for n := 0; n <= len(c.s.Metrics.Sources); n++ {
		if src := c.s.Metrics.ProviderOf(n); src.CloudWatch != nil && src.Provider == "cloudwatch" {
			if w := src.CloudWatch.Window.D(); w < time.Minute || w%time.Minute != 0 {
				c.add(sourcePath(n)+".cloudwatch.window", "%s must be a whole number of minutes, at least 1m", short(src.CloudWatch.Window))
			}
		}
	}
	if c.s.Backup.Type == "rds" && c.s.Backup.MinRetentionDays < 1 {
		c.add("backup.min_retention_days", "must be at least 1 (automated backups on)")
	}
}
