package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golive/golive/activities"
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
