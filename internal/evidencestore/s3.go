package evidencestore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
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
	// pageSize is the MaxKeys of each ListObjectVersions (0: S3's 1000).
	pageSize int32
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

// Put implements Store. A version already at the key (a retried activity) is
// kept: it is locked, and the first write is the record. That version counts
// even under a delete marker, which a HEAD would answer 404 for.
func (s *S3) Put(ctx context.Context, r Record) (string, error) {
	key := s.key(r.ReleaseID, r.RunID, r.Kind)
	ref := "s3://" + s.Bucket + "/" + key
	vs, err := s.versions(ctx, key)
	if err != nil {
		return "", err
	}
	if _, ok := written(vs[key]); ok {
		return ref, nil
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

// List implements Store: for every key under the release's prefix, the
// version golive wrote (the oldest that is not a delete marker: golive writes a
// key once), with whatever sits above it in Shadowed; oldest first. A key with
// only delete markers has no record.
func (s *S3) List(ctx context.Context, releaseID string) ([]Record, error) {
	prefix := path.Join(s.Prefix, fileStem(releaseID)) + "/"
	byKey, err := s.versions(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		vs := byKey[key]
		v, ok := written(vs)
		if !ok {
			continue
		}
		r, err := s.get(ctx, key, v.id)
		if err != nil {
			return nil, err
		}
		if r.Kind.Valid() {
			r.Shadowed = above(vs, v)
			out = append(out, r)
		}
	}
	sortRecords(out)
	return out, nil
}

// objectVersion is a version or a delete marker of a key.
type objectVersion struct {
	id     string
	marker bool
	latest bool
	at     time.Time
}

// versions lists every version and delete marker under prefix, by key, the
// versions of each key in the order S3 lists them (newest first), then its
// delete markers.
func (s *S3) versions(ctx context.Context, prefix string) (map[string][]objectVersion, error) {
	byKey := map[string][]objectVersion{}
	in := &s3.ListObjectVersionsInput{Bucket: &s.Bucket, Prefix: &prefix}
	if s.pageSize > 0 {
		in.MaxKeys = &s.pageSize
	}
	for {
		page, err := s.Client.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("evidence store s3://%s/%s: versions: %w", s.Bucket, prefix, err)
		}
		for _, v := range page.Versions {
			k := aws.ToString(v.Key)
			byKey[k] = append(byKey[k], objectVersion{id: aws.ToString(v.VersionId), latest: aws.ToBool(v.IsLatest), at: aws.ToTime(v.LastModified)})
		}
		for _, m := range page.DeleteMarkers {
			k := aws.ToString(m.Key)
			byKey[k] = append(byKey[k], objectVersion{id: aws.ToString(m.VersionId), marker: true, latest: aws.ToBool(m.IsLatest), at: aws.ToTime(m.LastModified)})
		}
		if !aws.ToBool(page.IsTruncated) {
			return byKey, nil
		}
		key, vid := page.NextKeyMarker, page.NextVersionIdMarker
		if aws.ToString(key) == "" || (aws.ToString(key) == aws.ToString(in.KeyMarker) && aws.ToString(vid) == aws.ToString(in.VersionIdMarker)) {
			return nil, fmt.Errorf("evidence store s3://%s/%s: versions: truncated listing without a new marker", s.Bucket, prefix)
		}
		in.KeyMarker, in.VersionIdMarker = key, vid
	}
}

// written picks the version golive wrote among a key's versions: the oldest
// that is not a delete marker. Of equal times: not the latest, when there are
// several (golive's then has one above it), and then the one listed last (S3
// lists each key's versions newest first).
func written(vs []objectVersion) (objectVersion, bool) {
	n := 0
	for _, v := range vs {
		if !v.marker {
			n++
		}
	}
	var w objectVersion
	ok := false
	for _, v := range vs {
		if v.marker || (n > 1 && v.latest) {
			continue
		}
		if !ok || !v.at.After(w.at) {
			w, ok = v, true
		}
	}
	return w, ok
}

// above is what sits over version w of a key, oldest first: every other
// version (w is the oldest) and, unless w is the latest, every delete marker
// not older than w (one of the same second may be either side: it is named).
func above(vs []objectVersion, w objectVersion) []Shadow {
	var out []Shadow
	for _, v := range vs {
		if (!v.marker && v.id == w.id) || (v.marker && (w.latest || v.at.Before(w.at))) {
			continue
		}
		out = append(out, Shadow{VersionID: v.id, DeleteMarker: v.marker, At: v.at.UTC()})
	}
	slices.SortStableFunc(out, func(a, b Shadow) int { return a.At.Compare(b.At) })
	return out
}

func (s *S3) get(ctx context.Context, key, versionID string) (Record, error) {
	ref := "s3://" + s.Bucket + "/" + key
	in := &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	o, err := s.Client.GetObject(ctx, in)
	if err != nil {
		return Record{}, fmt.Errorf("evidence store %s version %s: %w", ref, versionID, err)
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	if err != nil {
		return Record{}, fmt.Errorf("evidence store %s version %s: %w", ref, versionID, err)
	}
	m := o.Metadata
	r := Record{ReleaseID: m[metaRelease], RunID: m[metaRun], Kind: evidence.Kind(m[metaKind]), Content: string(b),
		Digest: m[metaDigest], AuditHead: m[metaAuditHead], Ref: ref}
	if versionID != "null" {
		r.VersionID = versionID
	}
	if o.LastModified != nil {
		r.CreatedAt = o.LastModified.UTC()
	}
	if r.Digest == "" {
		// Metadata lost (copied by hand): nothing to compare but the seal; say so.
		r.Digest = "missing"
	}
	return r, nil
}

func preconditionFailed(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed"
}
