package evidencestore_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/awsfake"
	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/evidencestore"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/secrets"
)

const release = "release:patient-portal:production"

var docs = map[evidence.Kind]string{
	evidence.KindMarkdown: "# Production deployment checklist\n\n- [x] Staging tests passed\n",
	evidence.KindHTML:     "<!doctype html><html><body><h1>Checklist</h1>\n</body></html>\n",
}

// roundTrip puts both documents of run-1 twice (a retried activity) and one of
// run-2, then checks List, Latest and Verify.
func roundTrip(t *testing.T, s evidencestore.Store) []evidencestore.Record {
	t.Helper()
	ctx := context.Background()
	refs := map[evidence.Kind]string{}
	for range 2 {
		for _, k := range []evidence.Kind{evidence.KindMarkdown, evidence.KindHTML} {
			ref, err := s.Put(ctx, evidencestore.New(release, "run-1", k, docs[k], "3f9a"))
			if err != nil {
				t.Fatal(err)
			}
			if refs[k] != "" && refs[k] != ref {
				t.Fatalf("a second Put of %s went to %s, the first to %s", k, ref, refs[k])
			}
			refs[k] = ref
		}
	}
	time.Sleep(10 * time.Millisecond) // distinct creation times on stores that keep only those
	if _, err := s.Put(ctx, evidencestore.New(release, "run-2", evidence.KindIncident, "# Incident\n", "77b0")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, evidencestore.New("release:patient-portal:staging", "run-9", evidence.KindMarkdown, "# other\n", "")); err != nil {
		t.Fatal(err)
	}
	rs, err := s.List(ctx, release)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("%s: %d records, want 3: %+v", s.Backend(), len(rs), rs)
	}
	for _, r := range rs {
		if err := evidencestore.Verify(r); err != nil {
			t.Errorf("%s: %v", s.Backend(), err)
		}
		if !strings.Contains(r.Content, "Evidence seal: sha256") || r.AuditHead == "" {
			t.Errorf("%s: %s has no seal or audit head: %q", s.Backend(), r.Ref, r.AuditHead)
		}
	}
	if l := evidencestore.Latest(rs); len(l) != 1 || l[0].RunID != "run-2" || l[0].AuditHead != "77b0" {
		t.Errorf("%s: latest %+v", s.Backend(), l)
	}
	tampered := rs[0]
	tampered.Content = strings.Replace(tampered.Content, "[x]", "[ ]", 1)
	if err := evidencestore.Verify(tampered); !errors.Is(err, evidencestore.ErrTampered) {
		t.Errorf("%s: a changed tick verified: %v", s.Backend(), err)
	}
	return rs
}

func TestDirStoreKeepsSealedFilesAndNoticesAChangedOne(t *testing.T) {
	s := evidencestore.Dir{Root: t.TempDir()}
	rs := roundTrip(t, s)
	b, _ := os.ReadFile(rs[0].Ref)
	if err := os.WriteFile(rs[0].Ref, []byte(strings.Replace(string(b), "Staging", "Stage", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	again, _ := s.List(context.Background(), release)
	for _, r := range again {
		if err := evidencestore.Verify(r); (r.Ref == rs[0].Ref) != errors.Is(err, evidencestore.ErrTampered) {
			t.Errorf("%s after editing %s: %v", r.Ref, rs[0].Ref, err)
		}
	}
}

func TestPostgresStoreIsAppendOnlyAndChecksEachDigest(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s, err := evidencestore.Open(context.Background(), evidencestore.Config{Location: "postgres", DatabaseURL: url, Secrets: &secrets.Resolver{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.(*evidencestore.Postgres).Close()
	roundTrip(t, s)
	conn := pgtest.Connect(t, url) // the database's owner: the triggers refuse it too
	ctx := context.Background()
	for _, q := range []string{
		"UPDATE golive_evidence SET content = 'x'",
		"DELETE FROM golive_evidence",
		"TRUNCATE golive_evidence",
		"INSERT INTO golive_evidence (release_id, run_id, kind, content, sha256) VALUES ('r', 'x', 'evidence.md', 'forged', repeat('0', 64))",
	} {
		if _, err := conn.Exec(ctx, q); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM golive_evidence").Scan(&n); err != nil || n != 4 {
		t.Errorf("%d rows (%v), want 4", n, err)
	}
}

func TestDBInitGrantsTheWriterInsertAndSelectOnEvidenceOnly(t *testing.T) {
	url := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, url)
	ctx := context.Background()
	writer := pgutil.RandomName("golive_test_writer_")
	if _, err := conn.Exec(ctx, "CREATE ROLE "+writer+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), "DROP OWNED BY "+writer+"; DROP ROLE "+writer); err != nil {
			t.Errorf("drop role %s: %v", writer, err)
		}
	})
	if err := evidencestore.Init(ctx, conn, "", writer); err != nil {
		t.Fatal(err)
	}
	var ins, upd, del bool
	err := conn.QueryRow(ctx, "SELECT has_table_privilege($1, 'golive_evidence', 'INSERT'), has_table_privilege($1, 'golive_evidence', 'UPDATE'), has_table_privilege($1, 'golive_evidence', 'DELETE')", writer).Scan(&ins, &upd, &del)
	if err != nil || !ins || upd || del {
		t.Errorf("writer insert %v update %v delete %v (%v): want insert only", ins, upd, del, err)
	}
}

// TestS3StoreWritesObjectLockRetention checks what golive sends, on gofakes3:
// it implements no Object Lock (no bucket lock configuration, no retention
// enforcement, no GetObjectRetention), but keeps every x-amz-* header of a PUT
// and returns it on HEAD, so the mode and retain-until date are visible there.
// That S3 then refuses to delete the object or weaken its retention is shown
// against a server that enforces Object Lock, versitygw (objectlock_test.go);
// AWS S3 itself is not tested.
func TestS3StoreWritesObjectLockRetention(t *testing.T) {
	cloud, s := fakeS3Store(t)
	ctx := context.Background()
	written := time.Now()
	rs := roundTrip(t, s)
	if puts := cloud.Calls("s3", "PutObject"); puts != 4 {
		t.Errorf("%d PutObject calls for 4 documents (2 of them put twice): a retry wrote again", puts)
	}
	key := strings.TrimPrefix(rs[0].Ref, "s3://golive-evidence/")
	if !strings.HasPrefix(key, "prod/release_patient-portal_production/run-1/") {
		t.Errorf("key %s", key)
	}
	h, err := s.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("golive-evidence"), Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	want := written.Add(evidencestore.DefaultRetention)
	if h.ObjectLockMode != types.ObjectLockModeCompliance || h.ObjectLockRetainUntilDate == nil ||
		h.ObjectLockRetainUntilDate.Sub(want).Abs() > time.Minute {
		t.Errorf("object lock %q until %v; want COMPLIANCE until about %v (6 years)", h.ObjectLockMode, h.ObjectLockRetainUntilDate, want)
	}
	if h.Metadata["sha256"] != rs[0].Digest || h.Metadata["audit-head"] != "3f9a" {
		t.Errorf("metadata %v", h.Metadata)
	}
}

// fakeS3Store is golive's store at s3://golive-evidence/prod on gofakes3.
func fakeS3Store(t *testing.T) (*awsfake.Cloud, *evidencestore.S3) {
	t.Helper()
	cloud := awsfake.Start(t)
	if err := cloud.S3.CreateBucket("golive-evidence"); err != nil {
		t.Fatal(err)
	}
	st, err := evidencestore.Open(context.Background(), evidencestore.Config{Location: "s3://golive-evidence/prod", AWS: cloud.Options()})
	if err != nil {
		t.Fatal(err)
	}
	return cloud, st.(*evidencestore.S3)
}

func TestS3RetentionAndModeAreConfigurable(t *testing.T) {
	st, err := evidencestore.Open(context.Background(), evidencestore.Config{Location: "s3://b/p", Mode: "governance", Retention: 7 * 24 * time.Hour,
		AWS: awsclient.Options{Region: awsfake.Region}})
	if err != nil {
		t.Fatal(err)
	} else {
		s := st.(*evidencestore.S3)
		at := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		if s.Mode != types.ObjectLockModeGovernance || !s.RetainUntil(at).Equal(at.AddDate(0, 0, 7)) {
			t.Errorf("mode %s, until %v", s.Mode, s.RetainUntil(at))
		}
	}
	if _, err := evidencestore.Open(context.Background(), evidencestore.Config{Location: "s3://b", Mode: "legal-hold"}); err == nil {
		t.Error("mode legal-hold accepted")
	}
}

// TestS3RetriedPutUnderADeleteMarkerWritesNothingOnGofakes3: on a versioned
// bucket gofakes3, unlike versitygw (which answers 412), lets a PUT with
// If-None-Match: * through when a delete marker is the key's current version,
// so there only Put's own look at the key's versions keeps a retried activity
// from writing a second one. List reads the first version under the marker
// and under a forged version, and names both.
func TestS3RetriedPutUnderADeleteMarkerWritesNothingOnGofakes3(t *testing.T) {
	cloud, s := fakeS3Store(t)
	bucket := aws.String("golive-evidence")
	ctx := context.Background()
	if _, err := s.Client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	r := evidencestore.New(release, "run-1", evidence.KindMarkdown, docs[evidence.KindMarkdown], "3f9a")
	ref, err := s.Put(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimPrefix(ref, "s3://golive-evidence/")
	vs, err := s.Client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket, Prefix: &key})
	if err != nil || len(vs.Versions) != 1 {
		t.Fatalf("versions of %s: %+v (%v), want the one put", key, vs, err)
	}
	vid := aws.ToString(vs.Versions[0].VersionId)
	time.Sleep(5 * time.Millisecond) // gofakes3 lists versions oldest first: distinct times
	del, err := s.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: &key})
	if err != nil || !aws.ToBool(del.DeleteMarker) {
		t.Fatalf("DeleteObject without a version: delete marker %v (%v), want one", aws.ToBool(del.DeleteMarker), err)
	}
	marker := aws.ToString(del.VersionId)
	again, err := s.Put(ctx, evidencestore.New(release, "run-1", evidence.KindMarkdown, "# written again\n", "0000"))
	if err != nil || again != ref {
		t.Errorf("Put under the delete marker: %s (%v), want %s", again, err, ref)
	}
	if puts := cloud.Calls("s3", "PutObject"); puts != 1 {
		t.Errorf("%d PutObject calls, want 1: the Put under the delete marker wrote again", puts)
	}
	assertListed(t, s, r, ref, vid, []evidencestore.Shadow{{VersionID: marker, DeleteMarker: true}})

	time.Sleep(5 * time.Millisecond)
	put, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: &key, Body: strings.NewReader("# forged\n"),
		Metadata: map[string]string{"sha256": r.Digest, "release-id": r.ReleaseID, "run-id": r.RunID, "kind": string(r.Kind)}})
	if err != nil {
		t.Fatal(err)
	}
	assertListed(t, s, r, ref, vid, []evidencestore.Shadow{{VersionID: marker, DeleteMarker: true}, {VersionID: aws.ToString(put.VersionId)}})
}
