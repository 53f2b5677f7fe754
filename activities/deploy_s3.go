package activities

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/spec"
)

// Cache-Control values of uploaded files.
const (
	// cacheImmutable is for files whose name carries a content hash: a new
	// build gives them new names, so they never change.
	cacheImmutable = "public, max-age=31536000, immutable"
	// cacheRevalidate is for everything else (index.html first): browsers and
	// the CDN ask again each time, so a switch or a rollback shows at once.
	cacheRevalidate = "no-cache"
)

// s3Uploads is how many files upload at once.
const s3Uploads = 8

// s3VersionPattern is what a version may look like to become a key prefix.
var s3VersionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$`)

// hashSegment matches a file-name segment that is a build hash: 8 or more
// letters, digits, '_' or '-' between dots or dashes (main.3f2a9c1b.js,
// index-DiwrgTda.js, chunk-5JQ7XZ2D.js).
var hashSegment = regexp.MustCompile(`^[A-Za-z0-9_]{8,64}$`)

// webTypes are the content types of a web build, independent of the machine's mime.types.
var webTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json",
	".webmanifest": "application/manifest+json", ".txt": "text/plain; charset=utf-8", ".xml": "application/xml",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon", ".woff": "font/woff", ".woff2": "font/woff2",
	".ttf": "font/ttf", ".otf": "font/otf", ".wasm": "application/wasm", ".pdf": "application/pdf", ".mp4": "video/mp4",
}

// contentType returns the content type of a file name.
func contentType(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if t, ok := webTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// cacheControl returns the Cache-Control of a file name: immutable for
// hashed assets, revalidate for HTML and anything unhashed.
func cacheControl(name string) string {
	base := path.Base(name)
	if strings.HasSuffix(strings.ToLower(base), ".html") || strings.HasSuffix(strings.ToLower(base), ".htm") {
		return cacheRevalidate
	}
	stem := strings.TrimSuffix(base, path.Ext(base))
	for _, seg := range strings.FieldsFunc(stem, func(r rune) bool { return r == '.' || r == '-' }) {
		if !hashSegment.MatchString(seg) {
			continue
		}
		digit, upper, lower := false, false, false
		for _, r := range seg {
			digit = digit || r >= '0' && r <= '9'
			upper = upper || r >= 'A' && r <= 'Z'
			lower = lower || r >= 'a' && r <= 'z'
		}
		if digit || (upper && lower) {
			return cacheImmutable
		}
	}
	return cacheRevalidate
}

func s3Target(in DeployInput) (*spec.S3Target, error) {
	t := in.Deploy.S3
	if t == nil || t.Bucket == "" || t.DistributionID == "" {
		return nil, badInput("deploy target s3-static needs deploy.s3.bucket and .distribution_id")
	}
	return t, nil
}

func s3Prefix(t *spec.S3Target) string {
	if t.Prefix == "" {
		return spec.DefaultS3Prefix
	}
	return t.Prefix
}

// originPathFor is the origin path serving a recorded version: /PREFIX/VERSION,
// or the recorded path itself when it starts with / ("/" is the bucket root, "").
func originPathFor(t *spec.S3Target, version string) string {
	if strings.HasPrefix(version, "/") {
		if version == "/" {
			return ""
		}
		return version
	}
	return "/" + s3Prefix(t) + "/" + version
}

// versionOfPath is the inverse of originPathFor: the version of /PREFIX/VERSION,
// else the path itself ("/" for the bucket root).
func versionOfPath(t *spec.S3Target, p string) string {
	if p == "" {
		return "/"
	}
	if rest, ok := strings.CutPrefix(p, "/"+s3Prefix(t)+"/"); ok && rest != "" && !strings.Contains(rest, "/") {
		return rest
	}
	return p
}

func (d *Deployer) s3Clients(ctx context.Context) (*s3.Client, *cloudfront.Client, error) {
	cfg, err := d.awsConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	pathStyle := awsclient.S3PathStyle(cfg)
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }), cloudfront.NewFromConfig(cfg), nil
}

// s3Current returns the version the distribution serves: the VERSION of its
// origin path /PREFIX/VERSION, or the origin path itself.
func (d *Deployer) s3Current(ctx context.Context, in DeployInput) (string, error) {
	t, err := s3Target(in)
	if err != nil {
		return "", err
	}
	_, cf, err := d.s3Clients(ctx)
	if err != nil {
		return "", err
	}
	out, err := cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(t.DistributionID)})
	if err != nil {
		return "", awsErr(err, "distribution "+t.DistributionID)
	}
	o, err := pickOrigin(out.DistributionConfig, t)
	if err != nil {
		return "", err
	}
	return versionOfPath(t, aws.ToString(o.OriginPath)), nil
}

// s3Deploy uploads deploy.s3.dir to s3://BUCKET/PREFIX/VERSION/ (files already
// there with the same content are skipped, so a retry uploads only what is
// missing), switches the distribution's origin path to /PREFIX/VERSION, waits
// for the distribution to deploy, then invalidates and waits for the
// invalidation.
func (d *Deployer) s3Deploy(ctx context.Context, in DeployInput) (DeployResult, error) {
	t, err := s3Target(in)
	if err != nil {
		return DeployResult{}, err
	}
	if !s3VersionPattern.MatchString(in.Version) {
		return DeployResult{}, badInput(fmt.Sprintf("version %q cannot name an S3 folder", in.Version))
	}
	s3c, cf, err := d.s3Clients(ctx)
	if err != nil {
		return DeployResult{}, err
	}
	prefix := s3Prefix(t) + "/" + in.Version + "/"
	stop := keepAlive(ctx, "uploading to s3://"+t.Bucket+"/"+prefix)
	uploaded, kept, err := d.s3Upload(ctx, s3c, t, prefix)
	stop()
	if err != nil {
		return DeployResult{}, err
	}
	want := originPathFor(t, in.Version)
	old, inv, err := d.cfSwitch(ctx, cf, t, want, in, "deploy")
	if err != nil {
		return DeployResult{}, err
	}
	previous := versionOfPath(t, old)
	if old == want && in.Previous != "" {
		previous = in.Previous // a retried attempt: the plan recorded what was live
	}
	d.logger().Info("s3-static deploy", "release", in.ReleaseID, "bucket", t.Bucket, "distribution", t.DistributionID, "from", old, "to", want)
	return DeployResult{Previous: previous, Live: in.Version, Output: fmt.Sprintf(
		"uploaded %d file(s) to s3://%s/%s (%d unchanged); distribution %s origin path %q → %q; invalidation %s completed",
		uploaded, t.Bucket, prefix, kept, t.DistributionID, old, want, inv)}, nil
}

// s3Revert switches the origin path back to the recorded version's folder,
// after checking that folder still holds files; nothing is uploaded.
func (d *Deployer) s3Revert(ctx context.Context, in DeployInput) (DeployResult, error) {
	t, err := s3Target(in)
	if err != nil {
		return DeployResult{}, err
	}
	s3c, cf, err := d.s3Clients(ctx)
	if err != nil {
		return DeployResult{}, err
	}
	want := originPathFor(t, in.Previous)
	if want != "" {
		key := strings.TrimPrefix(want, "/") + "/"
		out, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(t.Bucket), Prefix: aws.String(key), MaxKeys: aws.Int32(1)})
		if err != nil {
			return DeployResult{}, awsErr(err, "s3://"+t.Bucket+"/"+key)
		}
		if len(out.Contents) == 0 {
			return DeployResult{}, deployFailed("nothing at s3://%s/%s: refusing to point distribution %s at an empty folder", t.Bucket, key, t.DistributionID)
		}
	}
	old, inv, err := d.cfSwitch(ctx, cf, t, want, in, "revert")
	if err != nil {
		return DeployResult{}, err
	}
	d.logger().Info("s3-static revert", "release", in.ReleaseID, "distribution", t.DistributionID, "from", old, "to", want)
	return DeployResult{Previous: versionOfPath(t, old), Live: in.Previous, Output: fmt.Sprintf(
		"distribution %s origin path %q → %q; invalidation %s completed", t.DistributionID, old, want, inv)}, nil
}

// localFile is one file of the build directory.
type localFile struct {
	path, key string
}

// s3Upload puts every file of t.Dir under prefix with its content type and
// cache header, skipping files whose MD5 equals the stored object's ETag.
func (d *Deployer) s3Upload(ctx context.Context, c *s3.Client, t *spec.S3Target, prefix string) (uploaded, kept int, err error) {
	var files []localFile
	walkErr := filepath.WalkDir(t.Dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		if e.Type()&fs.ModeSymlink != 0 {
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		} else if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(t.Dir, p)
		if err != nil {
			return err
		}
		files = append(files, localFile{path: p, key: prefix + filepath.ToSlash(rel)})
		return nil
	})
	if walkErr != nil {
		return 0, 0, badInput(fmt.Sprintf("deploy.s3.dir %s: %v", t.Dir, walkErr))
	}
	hasIndex := false
	for _, f := range files {
		hasIndex = hasIndex || f.key == prefix+"index.html"
	}
	if !hasIndex {
		return 0, 0, badInput(fmt.Sprintf("deploy.s3.dir %s has no index.html at its root", t.Dir))
	}
	stored := map[string]string{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(t.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, 0, awsErr(err, "s3://"+t.Bucket+"/"+prefix)
		}
		for _, o := range page.Contents {
			stored[aws.ToString(o.Key)] = strings.Trim(aws.ToString(o.ETag), `"`)
		}
	}
	var nUp, nKept atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s3Uploads)
	for _, f := range files {
		g.Go(func() error {
			put, err := putFile(gctx, c, t.Bucket, f, stored[f.key])
			if err != nil {
				return err
			}
			if put {
				nUp.Add(1)
			} else {
				nKept.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, err
	}
	return int(nUp.Load()), int(nKept.Load()), nil
}

// putFile uploads one file unless its MD5 is storedETag; Content-MD5 lets S3
// check what arrived.
func putFile(ctx context.Context, c *s3.Client, bucket string, f localFile, storedETag string) (bool, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return false, badInput(fmt.Sprintf("read %s: %v", f.path, err))
	}
	defer fh.Close()
	h := md5.New()
	size, err := io.Copy(h, fh)
	if err != nil {
		return false, badInput(fmt.Sprintf("read %s: %v", f.path, err))
	}
	sum := h.Sum(nil)
	if storedETag == hex.EncodeToString(sum) {
		return false, nil
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return false, badInput(fmt.Sprintf("read %s: %v", f.path, err))
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(f.key), Body: fh, ContentLength: aws.Int64(size),
		ContentType: aws.String(contentType(f.key)), CacheControl: aws.String(cacheControl(f.key)),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum)),
	})
	if err != nil {
		return false, awsErr(err, "s3://"+bucket+"/"+f.key)
	}
	return true, nil
}

// pickOrigin finds the origin to switch: deploy.s3.origin_id, else the
// bucket's origin, else the only origin.
func pickOrigin(cfg *cftypes.DistributionConfig, t *spec.S3Target) (*cftypes.Origin, error) {
	if cfg == nil || cfg.Origins == nil || len(cfg.Origins.Items) == 0 {
		return nil, deployFailed("distribution %s has no origins", t.DistributionID)
	}
	items := cfg.Origins.Items
	var ids []string
	var byBucket []int
	for i := range items {
		id := aws.ToString(items[i].Id)
		ids = append(ids, id)
		if t.OriginID != "" && id == t.OriginID {
			return &items[i], nil
		}
		if strings.HasPrefix(aws.ToString(items[i].DomainName), t.Bucket+".") {
			byBucket = append(byBucket, i)
		}
	}
	switch {
	case t.OriginID != "":
	case len(byBucket) == 1:
		return &items[byBucket[0]], nil
	case len(items) == 1:
		return &items[0], nil
	}
	return nil, badInput(fmt.Sprintf("distribution %s: cannot tell which origin serves the release among [%s]: set deploy.s3.origin_id",
		t.DistributionID, strings.Join(ids, ", ")))
}

// cfSwitch points the origin at path want (UpdateDistribution with the
// config's ETag; skipped when it points there already), waits until the
// distribution is deployed, then invalidates deploy.s3.invalidate_paths
// under a caller reference derived from the release run, the action and the
// path (a retried attempt gets the same invalidation back, the next release a
// new one) and waits for it.
// It returns the origin path that was set before and the invalidation ID.
func (d *Deployer) cfSwitch(ctx context.Context, cf *cloudfront.Client, t *spec.S3Target, want string, in DeployInput, action string) (string, string, error) {
	res := "distribution " + t.DistributionID
	id := aws.String(t.DistributionID)
	got, err := cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: id})
	if err != nil {
		return "", "", awsErr(err, res)
	}
	origin, err := pickOrigin(got.DistributionConfig, t)
	if err != nil {
		return "", "", err
	}
	old := aws.ToString(origin.OriginPath)
	if old != want {
		origin.OriginPath = aws.String(want)
		_, err := cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: id, IfMatch: got.ETag, DistributionConfig: got.DistributionConfig})
		if err != nil {
			if awsclient.Code(err) == "PreconditionFailed" { // changed by someone else meanwhile: read again on the next attempt
				return "", "", fmt.Errorf("%s changed while switching its origin path: %w", res, err)
			}
			return "", "", awsErr(err, res)
		}
	}
	budget := waitBudget(ctx, in.Deploy)
	deadline := time.Now().Add(budget)
	stop := keepAlive(ctx, "waiting for CloudFront")
	defer stop()
	var status string
	dw := cloudfront.NewDistributionDeployedWaiter(cf, func(o *cloudfront.DistributionDeployedWaiterOptions) {
		d.waits().Apply(&o.MinDelay, &o.MaxDelay)
		deployed := o.Retryable
		o.Retryable = func(ctx context.Context, in *cloudfront.GetDistributionInput, out *cloudfront.GetDistributionOutput, err error) (bool, error) {
			if out != nil && out.Distribution != nil {
				status = aws.ToString(out.Distribution.Status)
			}
			return deployed(ctx, in, out, err)
		}
	})
	if err := dw.Wait(ctx, &cloudfront.GetDistributionInput{Id: id}, time.Until(deadline)); err != nil {
		return "", "", waitErr(ctx, err, res, "deployed with origin path "+fmt.Sprintf("%q", want), budget, "status "+status)
	}
	sum := sha256.Sum256([]byte(releaseKey(ctx, in.ReleaseID) + "\x00" + action + "\x00" + want))
	ref := "golive-" + action + "-" + hex.EncodeToString(sum[:12])
	paths := t.InvalidatePaths
	if len(paths) == 0 {
		paths = []string{"/*"}
	}
	inv, err := cf.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{DistributionId: id, InvalidationBatch: &cftypes.InvalidationBatch{
		CallerReference: aws.String(ref), Paths: &cftypes.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths}}})
	if err != nil {
		return "", "", awsErr(err, res)
	}
	invID := aws.ToString(inv.Invalidation.Id)
	iw := cloudfront.NewInvalidationCompletedWaiter(cf, func(o *cloudfront.InvalidationCompletedWaiterOptions) {
		d.waits().Apply(&o.MinDelay, &o.MaxDelay)
	})
	left := time.Until(deadline)
	if left < time.Second {
		left = time.Second
	}
	if err := iw.Wait(ctx, &cloudfront.GetInvalidationInput{DistributionId: id, Id: aws.String(invID)}, left); err != nil {
		return "", "", waitErr(ctx, err, res, "invalidated (invalidation "+invID+")", budget, "")
	}
	return old, invID, nil
}
