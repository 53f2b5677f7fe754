package evidencestore_test

import (
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/evidencestore"
	"github.com/golive/golive/internal/pgtest"
)

// versitygwVersion is the versitygw the Makefile installs into
// $(GOLIVE_TOOLS)/bin (VERSITYGW_VERSION): an S3 server whose posix backend
// keeps Object Lock configuration and retention in xattrs and enforces them.
const versitygwVersion = "v1.8.0"

// The gateway's root account, and the bucket the tests lock.
const (
	gwAccess   = "golive-test-root"
	gwSecret   = "golive-test-root-secret"
	lockBucket = "golive-evidence"
)

// versitygwBin is $GOLIVE_TOOLS/bin/versitygw (default GOLIVE_TOOLS: the
// repository's .tools), checked to be versitygwVersion. A missing one fails
// the test: Object Lock enforcement is not optional.
func versitygwBin(t *testing.T) string {
	t.Helper()
	tools := os.Getenv("GOLIVE_TOOLS")
	if tools == "" {
		tools, _ = filepath.Abs(filepath.Join("..", "..", ".tools")) // go test runs in the package's directory
	}
	bin := filepath.Join(tools, "bin", "versitygw")
	how := fmt.Sprintf("run `make tools`, or `GOBIN=%s go install github.com/versity/versitygw/cmd/versitygw@%s`, "+
		"or point GOLIVE_TOOLS at a directory with bin/versitygw", filepath.Dir(bin), versitygwVersion)
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("versitygw (the S3 server that enforces Object Lock) is not installed at %s (%v): %s", bin, err, how)
	}
	if info.Main.Version != versitygwVersion {
		t.Fatalf("%s is versitygw %s, these tests pin %s: delete it and %s", bin, info.Main.Version, versitygwVersion, how)
	}
	return bin
}

// startVersitygw runs versitygw's posix backend with versioning (which S3
// Object Lock implies) on a free loopback port, with fresh root and
// versioning directories, until the test ends. It returns options that reach
// it as its root account.
func startVersitygw(t *testing.T) awsclient.Options {
	t.Helper()
	bin := versitygwBin(t)
	dir := t.TempDir()
	root, versions := filepath.Join(dir, "root"), filepath.Join(dir, "versions")
	for _, d := range []string{root, versions} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	logPath := filepath.Join(dir, "versitygw.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(pgtest.FreePort(t))
	// Stopped at the end with SIGTERM, killed if it has not exited 5 s later.
	stop, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(stop, bin, "--access", gwAccess, "--secret", gwSecret, "--port", addr, "--health", "/health", "--quiet",
		"posix", "--versioning-dir", versions, root)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start versitygw: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	logText := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("versitygw log:\n%s", logText())
		}
	})
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("versitygw exited during start-up (%v):\n%s", cmd.ProcessState, logText())
		default:
		}
		if resp, err := client.Get("http://" + addr + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw on %s not answering /health after 15 s:\n%s", addr, logText())
		}
	}
	return awsclient.Options{
		Region: "us-east-1", BaseEndpoint: "http://" + addr,
		Credentials: credentials.NewStaticCredentialsProvider(gwAccess, gwSecret, ""),
		MaxBackoff:  20 * time.Millisecond,
	}
}

// lockedRecord creates a bucket with Object Lock on a fresh versitygw, opens
// golive's store on it in mode ("" is the default, COMPLIANCE), puts one
// record and returns the store, the record, its key and its version.
func lockedRecord(t *testing.T, mode string) (s *evidencestore.S3, r evidencestore.Record, key, versionID string) {
	t.Helper()
	ctx := context.Background()
	st, err := evidencestore.Open(ctx, evidencestore.Config{Location: "s3://" + lockBucket + "/prod", Mode: mode, AWS: startVersitygw(t)})
	if err != nil {
		t.Fatal(err)
	}
	s = st.(*evidencestore.S3)
	if _, err := s.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(lockBucket), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	v, err := s.Client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(lockBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("bucket created with Object Lock: versioning %q, want Enabled (versitygw turns it on only with --versioning-dir)", v.Status)
	}
	r = evidencestore.New(release, "run-1", evidence.KindMarkdown, docs[evidence.KindMarkdown], "3f9a")
	ref, err := s.Put(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	key = strings.TrimPrefix(ref, "s3://"+lockBucket+"/")
	h, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(lockBucket), Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.VersionId) == "" {
		t.Fatalf("HEAD %s: no version ID, want the version Object Lock protects", key)
	}
	return s, r, key, aws.ToString(h.VersionId)
}

// lockOf is the Object Lock retention S3 reports for version versionID of key.
func lockOf(t *testing.T, s *evidencestore.S3, key, versionID string) (types.ObjectLockRetentionMode, time.Time) {
	t.Helper()
	out, err := s.Client.GetObjectRetention(context.Background(), &s3.GetObjectRetentionInput{Bucket: aws.String(lockBucket), Key: &key, VersionId: &versionID})
	if err != nil {
		t.Fatal(err)
	}
	return out.Retention.Mode, aws.ToTime(out.Retention.RetainUntilDate)
}

// assertIntact reads version versionID of key (the current version when "")
// and checks it is r: the same bytes, the sha256 golive stored in its
// metadata, and S3's own SHA-256 checksum of the upload.
func assertIntact(t *testing.T, s *evidencestore.S3, key, versionID string, r evidencestore.Record) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(lockBucket), Key: &key, ChecksumMode: types.ChecksumModeEnabled}
	if versionID != "" {
		in.VersionId = &versionID
	}
	o, err := s.Client.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GET %s version %q: %v", key, versionID, err)
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if string(b) != r.Content || hex.EncodeToString(sum[:]) != r.Digest || o.Metadata["sha256"] != r.Digest {
		t.Errorf("%s version %q: %d bytes, sha256 %x, metadata sha256 %q; want the %d bytes put, sha256 %s",
			key, versionID, len(b), sum, o.Metadata["sha256"], len(r.Content), r.Digest)
	}
	if got, want := aws.ToString(o.ChecksumSHA256), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("%s version %q: S3's checksum %q, want %q", key, versionID, got, want)
	}
}

// assertRefused checks err is S3's answer to a request Object Lock (or a
// condition) forbids: HTTP status and error code.
func assertRefused(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var re *awshttp.ResponseError
	var ae smithy.APIError
	if err == nil {
		t.Errorf("%s: accepted, want %d %s", what, status, code)
	} else if !errors.As(err, &re) || !errors.As(err, &ae) || re.HTTPStatusCode() != status || ae.ErrorCode() != code {
		t.Errorf("%s: %v, want %d %s", what, err, status, code)
	}
}

// versions lists the versions and delete markers S3 keeps of key.
func versions(t *testing.T, s *evidencestore.S3, key string) (vs []types.ObjectVersion, markers []types.DeleteMarkerEntry) {
	t.Helper()
	out, err := s.Client.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(lockBucket), Prefix: &key})
	if err != nil {
		t.Fatal(err)
	}
	return out.Versions, out.DeleteMarkers
}

func retention(mode types.ObjectLockRetentionMode, until time.Time) *types.ObjectLockRetention {
	return &types.ObjectLockRetention{Mode: mode, RetainUntilDate: aws.Time(until)}
}

// TestS3ComplianceRecordCannotBeDeletedNorItsRetentionWeakenedOnVersitygw: the
// record golive writes is locked in COMPLIANCE mode for six years, and the
// gateway's root account can neither delete that version nor shorten or
// downgrade its retention (bypass header or not); it may only extend it.
func TestS3ComplianceRecordCannotBeDeletedNorItsRetentionWeakenedOnVersitygw(t *testing.T) {
	written := time.Now()
	s, r, key, vid := lockedRecord(t, "")
	ctx := context.Background()
	b, k, v := aws.String(lockBucket), &key, &vid
	mode, until := lockOf(t, s, key, vid)
	if want := written.Add(evidencestore.DefaultRetention); mode != types.ObjectLockRetentionModeCompliance || until.Sub(want).Abs() > time.Minute {
		t.Errorf("retention %s until %v, want COMPLIANCE until about %v (six years)", mode, until, want)
	}

	_, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k, VersionId: v})
	assertRefused(t, "DeleteObject of the locked version", err, http.StatusForbidden, "AccessDenied")
	_, err = s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k, VersionId: v, BypassGovernanceRetention: aws.Bool(true)})
	assertRefused(t, "DeleteObject of the locked version with the governance bypass", err, http.StatusForbidden, "AccessDenied")
	for _, c := range []struct {
		what string
		rt   *types.ObjectLockRetention
	}{
		{"shortening the retention to a day", retention(types.ObjectLockRetentionModeCompliance, written.Add(24*time.Hour))},
		{"switching it to GOVERNANCE", retention(types.ObjectLockRetentionModeGovernance, until)},
	} {
		for _, bypass := range []bool{false, true} {
			_, err = s.Client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: b, Key: k, VersionId: v, Retention: c.rt, BypassGovernanceRetention: aws.Bool(bypass)})
			assertRefused(t, fmt.Sprintf("PutObjectRetention %s (bypass %v)", c.what, bypass), err, http.StatusForbidden, "AccessDenied")
		}
	}
	// The same request that only strengthens the lock is accepted: the refusals above are the lock's.
	longer := until.Add(24 * time.Hour).Truncate(time.Second)
	if _, err := s.Client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: b, Key: k, VersionId: v,
		Retention: retention(types.ObjectLockRetentionModeCompliance, longer)}); err != nil {
		t.Errorf("extending the retention by a day: %v", err)
	}
	if mode, until := lockOf(t, s, key, vid); mode != types.ObjectLockRetentionModeCompliance || !until.Equal(longer) {
		t.Errorf("retention after the attempts: %s until %v, want COMPLIANCE until %v", mode, until, longer)
	}
	assertIntact(t, s, key, vid, r)
	if vs, markers := versions(t, s, key); len(vs) != 1 || len(markers) != 0 {
		t.Errorf("%d versions, %d delete markers of %s; want the one version", len(vs), len(markers), key)
	}
}

// TestS3RetriedPutKeepsTheLockedRecordAndAConditionalOverwriteGets412OnVersitygw:
// a retried activity's Put of the same key writes nothing (the first record
// stays the only version), and the PUT golive sends, If-None-Match: *, is
// refused with the 412 PreconditionFailed golive's Put treats as "already there".
func TestS3RetriedPutKeepsTheLockedRecordAndAConditionalOverwriteGets412OnVersitygw(t *testing.T) {
	s, r, key, vid := lockedRecord(t, "")
	ctx := context.Background()
	retry := evidencestore.New(release, "run-1", evidence.KindMarkdown, "# Production deployment checklist\n\n- [x] written again\n", "0000")
	ref, err := s.Put(ctx, retry)
	if err != nil || ref != "s3://"+lockBucket+"/"+key {
		t.Errorf("second Put: %s (%v), want the first record's s3://%s/%s", ref, err, lockBucket, key)
	}
	_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(lockBucket), Key: &key,
		Body: strings.NewReader(retry.Content), IfNoneMatch: aws.String("*")})
	assertRefused(t, "PutObject If-None-Match: * over the record", err, http.StatusPreconditionFailed, "PreconditionFailed")
	assertIntact(t, s, key, "", r)
	if vs, _ := versions(t, s, key); len(vs) != 1 || aws.ToString(vs[0].VersionId) != vid {
		t.Errorf("versions of %s: %d, want only the first (%s)", key, len(vs), vid)
	}
	rs, err := s.List(ctx, release)
	if err != nil || len(rs) != 1 || rs[0].Content != r.Content || evidencestore.Verify(rs[0]) != nil {
		t.Errorf("List after the retries: %d records (%v), want the first record, verified", len(rs), err)
	}
}

// TestS3ListReadsTheLockedVersionUnderADeleteMarkerOrAForgedVersionOnVersitygw:
// S3 refuses neither a DELETE without a version ID (it adds a delete marker)
// nor an unconditional PUT (it adds a version): that is versioning, not a
// breach. golive's List reads the version golive wrote all the same, and names
// in Shadowed what was put above it; a retried Put under the marker writes
// nothing.
func TestS3ListReadsTheLockedVersionUnderADeleteMarkerOrAForgedVersionOnVersitygw(t *testing.T) {
	s, r, key, vid := lockedRecord(t, "")
	ctx := context.Background()
	b := aws.String(lockBucket)
	ref := "s3://" + lockBucket + "/" + key
	del, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: &key})
	if err != nil {
		t.Fatalf("DeleteObject without a version: %v", err)
	}
	marker := aws.ToString(del.VersionId)
	if !aws.ToBool(del.DeleteMarker) || marker == "" {
		t.Fatalf("DeleteObject without a version: delete marker %v, version %q; want a delete marker", aws.ToBool(del.DeleteMarker), marker)
	}
	// A plain read finds nothing: what golive's List and Put must look past.
	if _, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: &key}); err == nil {
		t.Fatalf("HEAD %s behind the delete marker: found, want not found", key)
	}
	assertListed(t, s, r, ref, vid, []evidencestore.Shadow{{VersionID: marker, DeleteMarker: true}})

	// A retried activity's Put under the marker: the locked version is the record.
	again, err := s.Put(ctx, evidencestore.New(release, "run-1", evidence.KindMarkdown, "# Production deployment checklist\n\n- [x] written again\n", "0000"))
	if err != nil || again != ref {
		t.Errorf("Put under the delete marker: %s (%v), want %s", again, err, ref)
	}
	if vs, markers := versions(t, s, key); len(vs) != 1 || aws.ToString(vs[0].VersionId) != vid || len(markers) != 1 {
		t.Errorf("%s after a Put under the delete marker: %d versions, %d delete markers; want only %s under the marker", key, len(vs), len(markers), vid)
	}

	// A forged copy with a tick changed and golive's metadata copied over it.
	h, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: &key, VersionId: &vid})
	if err != nil {
		t.Fatal(err)
	}
	forgedDoc := strings.Replace(r.Content, "[x]", "[ ]", 1)
	put, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: &key, Body: strings.NewReader(forgedDoc), Metadata: h.Metadata})
	if err != nil {
		t.Fatalf("unconditional PutObject over the record: %v", err)
	}
	forged := aws.ToString(put.VersionId)
	// The forgery is what a plain read gets.
	cur, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(cur.Body)
	cur.Body.Close()
	if err != nil || string(body) != forgedDoc || aws.ToString(cur.VersionId) != forged {
		t.Errorf("GET %s: version %s, %d bytes (%v); want the forgery, version %s", key, aws.ToString(cur.VersionId), len(body), err, forged)
	}
	assertIntact(t, s, key, vid, r)
	if vs, markers := versions(t, s, key); len(vs) != 2 || len(markers) != 1 {
		t.Errorf("%s after an overwrite: %d versions, %d delete markers; want 2 (the locked one kept) and 1", key, len(vs), len(markers))
	}
	assertListed(t, s, r, ref, vid, []evidencestore.Shadow{{VersionID: marker, DeleteMarker: true}, {VersionID: forged}})

	// The same, listed two a page: the forgery and the marker, then golive's
	// version. (One a page never ends on versitygw v1.8.0: a page after the
	// key's current version starts with that version again; List stops with
	// an error there rather than loop.)
	evidencestore.SetListPageSize(s, 2)
	assertListed(t, s, r, ref, vid, []evidencestore.Shadow{{VersionID: marker, DeleteMarker: true}, {VersionID: forged}})
	if again, err := s.Put(ctx, evidencestore.New(release, "run-1", evidence.KindMarkdown, "# again\n", "0000")); err != nil || again != ref {
		t.Errorf("Put listing two a page: %s (%v), want %s", again, err, ref)
	}
	if vs, markers := versions(t, s, key); len(vs) != 2 || len(markers) != 1 {
		t.Errorf("%s after a Put listing two a page: %d versions, %d delete markers; want 2 and 1", key, len(vs), len(markers))
	}
}

// assertListed checks List returns exactly r, read from version vid at ref
// and verified, with shadowed (compared by version ID and kind, in any order
// for equal times) above it, oldest first.
func assertListed(t *testing.T, s *evidencestore.S3, r evidencestore.Record, ref, vid string, shadowed []evidencestore.Shadow) {
	t.Helper()
	rs, err := s.List(context.Background(), release)
	if err != nil || len(rs) != 1 {
		t.Errorf("List: %d records (%v), want 1", len(rs), err)
		return
	}
	got := rs[0]
	if got.Content != r.Content || got.Digest != r.Digest || got.Ref != ref || got.VersionID != vid || got.Kind != r.Kind || got.RunID != r.RunID {
		t.Errorf("List: %s version %s (%s %s, content sha256 %s, %d bytes), want %s version %s, the record put (sha256 %s, %d bytes)",
			got.Ref, got.VersionID, got.RunID, got.Kind, evidence.Digest(got.Content), len(got.Content), ref, vid, r.Digest, len(r.Content))
	}
	if err := evidencestore.Verify(got); err != nil {
		t.Errorf("List: %v", err)
	}
	want := map[evidencestore.Shadow]bool{}
	for _, sh := range shadowed {
		want[sh] = true
	}
	for i, sh := range got.Shadowed {
		if i > 0 && sh.At.Before(got.Shadowed[i-1].At) {
			t.Errorf("shadowed %v before %v: want oldest first", got.Shadowed[i-1], sh)
		}
		if sh.At.IsZero() {
			t.Errorf("shadowed %v: no time", sh)
		}
		sh.At = time.Time{}
		if !want[sh] {
			t.Errorf("shadowed %v: not one of %v", sh, shadowed)
		}
		delete(want, sh)
	}
	for sh := range want {
		t.Errorf("shadowed %v: missing from %v", sh, got.Shadowed)
	}
}

// TestS3GovernanceRecordIsDeletedOnlyWithTheBypassHeaderOnVersitygw: with
// --evidence-lock-mode GOVERNANCE the record is locked the same way until the
// root account asks to bypass governance retention; then it goes.
func TestS3GovernanceRecordIsDeletedOnlyWithTheBypassHeaderOnVersitygw(t *testing.T) {
	s, r, key, vid := lockedRecord(t, "governance")
	ctx := context.Background()
	if mode, _ := lockOf(t, s, key, vid); mode != types.ObjectLockRetentionModeGovernance {
		t.Fatalf("retention %s, want GOVERNANCE", mode)
	}
	_, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(lockBucket), Key: &key, VersionId: &vid})
	assertRefused(t, "DeleteObject of the version without the bypass", err, http.StatusForbidden, "AccessDenied")
	_, err = s.Client.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String(lockBucket), Key: &key, VersionId: &vid,
		Retention: retention(types.ObjectLockRetentionModeGovernance, time.Now().Add(time.Hour))})
	assertRefused(t, "PutObjectRetention shortening it without the bypass", err, http.StatusForbidden, "AccessDenied")
	assertIntact(t, s, key, vid, r)

	if _, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(lockBucket), Key: &key, VersionId: &vid,
		BypassGovernanceRetention: aws.Bool(true)}); err != nil {
		t.Fatalf("DeleteObject with x-amz-bypass-governance-retention as root: %v", err)
	}
	if vs, markers := versions(t, s, key); len(vs) != 0 || len(markers) != 0 {
		t.Errorf("%d versions, %d delete markers left of %s; want none", len(vs), len(markers), key)
	}
}
