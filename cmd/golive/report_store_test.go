package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/evidencestore"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
)

// A worker writes the evidence into golive's database; golive report reads it
// back from there, checks it, and refuses it once a superuser edited a row
// behind the append-only trigger.
func TestReportReadsEvidenceFromPostgresAndRefusesAnEditedRow(t *testing.T) {
	url := pgtest.NewDatabase(t)
	t.Setenv(activities.EnvAuditURL, url)
	ctx := context.Background()
	st, err := evidencestore.Open(ctx, evidencestore.Config{Location: "postgres", DatabaseURL: "env://" + activities.EnvAuditURL, Secrets: &secrets.Resolver{}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &activities.Recorder{Store: st}
	status := record.Status{ReleaseID: "release:portal:production", Service: "portal", Environment: "production", Version: "2.4.1", AuditHead: "9c1e77"}
	ref, err := rec.Evidence(ctx, activities.RecordInput{Status: status})
	if err != nil || !strings.HasPrefix(ref, "postgres:golive_evidence/") {
		t.Fatalf("evidence at %q, %v", ref, err)
	}
	dir := t.TempDir()
	if err := runCmd(t, newReportCmd(&globals{}), "portal:production", "--evidence-store", "postgres", "--dir", dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "release_portal_production.md"))
	if err != nil || !strings.Contains(string(md), "audit chain head `9c1e77` at writing") {
		t.Fatalf("report: %v\n%s", err, md)
	}
	if _, err := os.Stat(filepath.Join(dir, "release_portal_production.html")); err != nil {
		t.Error(err)
	}
	htmlOnly := t.TempDir()
	if err := runCmd(t, newReportCmd(&globals{}), "portal:production", "--evidence-store", "postgres", "--dir", htmlOnly, "--format", "html"); err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(htmlOnly); len(files) != 1 || files[0].Name() != "release_portal_production.html" {
		t.Errorf("--format html wrote %v", files)
	}
	conn := pgtest.Connect(t, url)
	if _, err := conn.Exec(ctx, `ALTER TABLE golive_evidence DISABLE TRIGGER append_only;
		UPDATE golive_evidence SET content = replace(content, '2.4.1', '2.4.2'), sha256 = encode(sha256(convert_to(replace(content, '2.4.1', '2.4.2'), 'UTF8')), 'hex')
		WHERE kind = 'evidence.md'`); err != nil {
		t.Fatal(err)
	}
	err = runCmd(t, newReportCmd(&globals{}), "portal:production", "--evidence-store", "postgres", "--dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "evidence seal broken") {
		t.Errorf("edited row: %v, want the broken seal named", err)
	}
}

// listedStore is a Store whose List returns fixed records.
type listedStore []evidencestore.Record

func (s listedStore) Put(context.Context, evidencestore.Record) (string, error) { return "", nil }
func (s listedStore) List(context.Context, string) ([]evidencestore.Record, error) {
	return s, nil
}
func (s listedStore) Backend() evidencestore.Backend { return evidencestore.BackendS3 }

// A record S3 keeps under a delete marker and a later version is written from
// the version golive wrote, with a warning naming both (and, in JSON, its
// "shadowed"); a record with nothing above it gets no warning.
func TestReportFromStoreWarnsAboutWhatSitsAboveAnS3Record(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	md := evidencestore.New("release:portal:production", "run-1", evidence.KindMarkdown, "# Checklist\n", "9c1e77")
	md.Ref, md.VersionID, md.CreatedAt = "s3://ev/prod/release_portal_production/run-1/evidence.md", "v1", at
	md.Shadowed = []evidencestore.Shadow{{VersionID: "m2", DeleteMarker: true, At: at.Add(time.Hour)}, {VersionID: "v3", At: at.Add(2 * time.Hour)}}
	html := evidencestore.New("release:portal:production", "run-1", evidence.KindHTML, "<p>Checklist</p>\n", "9c1e77")
	html.Ref, html.VersionID, html.CreatedAt = "s3://ev/prod/release_portal_production/run-1/evidence.html", "v4", at
	st := listedStore{md, html}
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	if err := reportFromStore(ctx, st, "release:portal:production", dir, []string{"md", "html"}, false, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	want := "WARNING: " + md.Ref + ": 1 delete marker and 1 later version above the locked record (version v1), added by someone else: " +
		"delete marker m2 at 2026-12-07T11:00:00Z, version v3 at 2026-12-07T12:00:00Z; the record shown is the one golive wrote\n"
	if stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "release_portal_production.md")); err != nil || string(b) != md.Content {
		t.Errorf("report: %v\n%s", err, b)
	}
	if n := strings.Count(stdout.String(), "wrote "); n != 2 {
		t.Errorf("stdout: %d documents written, want 2:\n%s", n, stdout.String())
	}

	stdout.Reset()
	stderr.Reset()
	if err := reportFromStore(ctx, st, "release:portal:production", t.TempDir(), []string{"md", "html"}, true, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stderr.String() != want {
		t.Errorf("stderr with -o json:\n%s\nwant:\n%s", stderr.String(), want)
	}
	var out struct {
		Records []map[string]json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || len(out.Records) != 2 {
		t.Fatalf("-o json: %v\n%s", err, stdout.String())
	}
	var shadowed []evidencestore.Shadow
	if err := json.Unmarshal(out.Records[0]["shadowed"], &shadowed); err != nil || !slices.EqualFunc(shadowed, md.Shadowed, func(a, b evidencestore.Shadow) bool {
		return a.VersionID == b.VersionID && a.DeleteMarker == b.DeleteMarker && a.At.Equal(b.At)
	}) {
		t.Errorf("-o json shadowed %s (%v), want %v", out.Records[0]["shadowed"], err, md.Shadowed)
	}
	if v := string(out.Records[0]["version_id"]); v != `"v1"` {
		t.Errorf("-o json version_id %s, want \"v1\"", v)
	}
	if sh, ok := out.Records[1]["shadowed"]; ok {
		t.Errorf("-o json: the record with nothing above it has shadowed %s", sh)
	}
}
