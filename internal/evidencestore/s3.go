package evidencestore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/golive/golive/internal/evidence"
)

// DefaultRetention is how long S3 keeps evidence locked: six years, what
// HIPAA asks of compliance documentation (45 CFR 164.316(b)(2)).
const DefaultRetention = 6 * 365 * 24 * time.Hour

// Object metadata S3 keeps with each record (x-amz-meta-*).
const (
	metaDigest    = "sha256"
	metaAuditHead = "audit-head"
	metaRelease   = "release-id"
	metaRun       = "run-id"
	metaKind      = "kind"
)

// S3 keeps each record as one object, PRefix/RELEASE/RUN/KIND, written with
// Object Lock retention (Mode, default COMPLIANCE: nobody, the root account
// included, can delete or overwrite it before RetainUntil) and S3's own
// SHA-256 checksum. The bucket must have been created with Object Lock
// enabled (which turns versioning on); S3 refuses the retention otherwise.
type S3 struct {
	Client *s3.Client
	Bucket string
	Prefix string
	// Mode is the Object Lock mode (default COMPLIANCE).
	Mode types.ObjectLockMode
	// Retention is how long from writing each object stays locked (default DefaultRetention).
	Retention time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
}

// Backend implements Store.
func (s *S3) Backend() Backend { return BackendS3 }

func (s *S3) key(releaseID, run string, kind evidence.Kind) string {
	return path.Join(s.Prefix, fileStem(releaseID), run, string(kind))
}

// RetainUntil is when an object written at t may be deleted.
func (s *S3) RetainUntil(t time.Time) time.Time {
	r := s.Retention
	if r <= 0 {
		r = DefaultRetention
	}
	return t.Add(r).UTC()
}

func (s *S3) mode() types.ObjectLockMode {
	if s.Mode == "" {
		return types.ObjectLockModeCompliance
	}
	return s.Mode
}

// Put implements Store. An object already at the key (a retried activity) is
// kept: it is locked, and the first write is the record.
func (s *S3) Put(ctx context.Context, r Record) (string, error) {
	key := s.key(r.ReleaseID, r.RunID, r.Kind)
	ref := "s3://" + s.Bucket + "/" + key
	_, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.Bucket, Key: &key})
	if err == nil {
		return ref, nil
	}
	if !notFound(err) {
		return "", fmt.Errorf("evidence store %s: %w", ref, err)
	}
	sum := sha256.Sum256([]byte(r.Content))
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ct := "text/markdown; charset=utf-8"
	if r.Kind.HTML() {
		ct = "text/html; charset=utf-8"
	}
	_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.Bucket, Key: &key, Body: strings.NewReader(r.Content), ContentType: &ct,
		ContentLength:             aws.Int64(int64(len(r.Content))),
		ChecksumAlgorithm:         types.ChecksumAlgorithmSha256,
		ChecksumSHA256:            aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		ObjectLockMode:            s.mode(),
		ObjectLockRetainUntilDate: aws.Time(s.RetainUntil(now())),
		IfNoneMatch:               aws.String("*"),
		Metadata: map[string]string{
			metaDigest: hex.EncodeToString(sum[:]), metaAuditHead: r.AuditHead,
			metaRelease: r.ReleaseID, metaRun: r.RunID, metaKind: string(r.Kind),
		},
	})
	if err != nil && !preconditionFailed(err) {
		return "", fmt.Errorf("evidence store %s: %w", ref, err)
	}
	return ref, nil
}

// List implements Store: every object under the release's prefix, oldest first.
func (s *S3) List(ctx context.Context, releaseID string) ([]Record, error) {
	prefix := path.Join(s.Prefix, fileStem(releaseID)) + "/"
	var out []Record
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: &s.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("evidence store s3://%s/%s: %w", s.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			r, err := s.get(ctx, aws.ToString(o.Key))
			if err != nil {
				return nil, err
			}
			if r.Kind.Valid() {
				out = append(out, r)
			}
		}
	}
	sortRecords(out)
	return out, nil
}

func (s *S3) get(ctx context.Context, key string) (Record, error) {
	ref := "s3://" + s.Bucket + "/" + key
	o, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		return Record{}, fmt.Errorf("evidence store %s: %w", ref, err)
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	if err != nil {
		return Record{}, fmt.Errorf("evidence store %s: %w", ref, err)
	}
	m := o.Metadata
	r := Record{ReleaseID: m[metaRelease], RunID: m[metaRun], Kind: evidence.Kind(m[metaKind]), Content: string(b),
		Digest: m[metaDigest], AuditHead: m[metaAuditHead], Ref: ref}
	if o.LastModified != nil {
		r.CreatedAt = o.LastModified.UTC()
	}
	if r.Digest == "" {
		// Metadata lost (copied by hand): nothing to compare but the seal; say so.
		r.Digest = "missing"
	}
	return r, nil
}

func notFound(err error) bool {
	var nf *types.NotFound
	var nk *types.NoSuchKey
	var ae smithy.APIError
	return errors.As(err, &nf) || errors.As(err, &nk) || (errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey"))
}

func preconditionFailed(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed"
}
