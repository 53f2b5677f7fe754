package rdsbackup_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/awsfake"
	"github.com/golive/golive/internal/rdsbackup"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

var backup = spec.Backup{Type: "rds", Instance: "portal-db", MaxAge: spec.Duration(24 * time.Hour), MinRetentionDays: 1}

func setup(t *testing.T) (*awsfake.Cloud, *rdsbackup.Backups) {
	t.Helper()
	cloud := awsfake.Start(t)
	now := time.Now()
	cloud.RDS.AddInstance("portal-db", 7, now.Add(-7*24*time.Hour))
	cloud.RDS.AddSnapshot("rds:portal-db-old", "portal-db", "automated", now.Add(-27*time.Hour))
	cloud.RDS.AddSnapshot("rds:portal-db-latest", "portal-db", "automated", now.Add(-3*time.Hour))
	cloud.RDS.AddInstance("nobackup-db", 0, now)
	cloud.RDS.AddInstance("stale-db", 1, now.Add(-24*time.Hour))
	cloud.RDS.AddSnapshot("rds:stale-db-1", "stale-db", "automated", now.Add(-30*time.Hour))
	b := &rdsbackup.Backups{RDS: rds.NewFromConfig(cloud.Config(t)), Waits: awsclient.Waits{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}}
	return cloud, b
}

func TestCheck(t *testing.T) {
	cloud, b := setup(t)
	ctx := context.Background()
	r, err := b.Check(ctx, "portal-db", 1, 24*time.Hour)
	if err != nil || !r.Passed() || !strings.Contains(r.Value, "retention 7d, latest automated snapshot 3h0m0s old (rds:portal-db-latest)") ||
		!strings.Contains(r.Value, "point-in-time restore") || r.EarliestRestore.IsZero() || r.LatestRestore.IsZero() {
		t.Errorf("Check(portal-db) = %+v, %v", r, err)
	}
	for instance, want := range map[string]string{
		"nobackup-db": "automated backups are off",
		"stale-db":    "is 30h0m0s old, more than 24h0m0s",
		"gone-db":     "rds:DescribeDBInstances on DB instance gone-db: not found",
	} {
		r, err := b.Check(ctx, instance, 1, 24*time.Hour)
		if err != nil || r.State != record.ItemFailed || !strings.Contains(r.Detail, want) {
			t.Errorf("Check(%s) = %+v, %v; want failed with %q", instance, r, err, want)
		}
	}
	if r, _ := b.Check(ctx, "portal-db", 14, 24*time.Hour); r.State != record.ItemFailed || !strings.Contains(r.Detail, "want at least 14") {
		t.Errorf("retention below the minimum = %+v", r)
	}

	cloud.Fail("rds", "DescribeDBInstances", awsfake.Fault{Code: "Throttling", Message: "Rate exceeded", Times: 2})
	if r, err := b.Check(ctx, "portal-db", 1, 24*time.Hour); err != nil || !r.Passed() {
		t.Errorf("throttled Check = %+v, %v", r, err)
	}
	cloud.Fail("rds", "DescribeDBSnapshots", awsfake.Fault{Code: "AccessDenied", Status: 403})
	before := cloud.Calls("rds", "DescribeDBSnapshots")
	r, err = b.Check(ctx, "portal-db", 1, 24*time.Hour)
	if err != nil || r.State != record.ItemUnavailable || !strings.Contains(r.Detail, "rds:DescribeDBSnapshots on DB instance portal-db: access denied") {
		t.Errorf("Check without rds:DescribeDBSnapshots = %+v, %v", r, err)
	}
	if n := cloud.Calls("rds", "DescribeDBSnapshots") - before; n != 1 {
		t.Errorf("DescribeDBSnapshots tried %d times; access denied is not retried", n)
	}
}

func TestVerifyTakesOneSnapshotPerRelease(t *testing.T) {
	cloud, b := setup(t)
	ctx := context.Background()
	for attempt := 1; attempt <= 2; attempt++ { // the second is a retried activity
		r, err := b.Verify(ctx, "release:portal:production", "pre-deploy", backup)
		if err != nil || !r.Passed() || r.Snapshot == "" || !strings.Contains(r.Value, "manual snapshot "+r.Snapshot+" available") {
			t.Fatalf("Verify attempt %d = %+v, %v", attempt, r, err)
		}
		if !regexp.MustCompile(`^golive-portal-db-pre-deploy-[0-9a-f]{12}$`).MatchString(r.Snapshot) {
			t.Errorf("snapshot id %q", r.Snapshot)
		}
	}
	if got := cloud.RDS.Snapshots("portal-db", "manual"); len(got) != 1 {
		t.Fatalf("manual snapshots = %v, want one", got)
	}
	if tags := cloud.RDS.SnapshotTags(cloud.RDS.Snapshots("portal-db", "manual")[0]); tags["golive:phase"] != "pre-deploy" {
		t.Errorf("snapshot tags = %v", tags)
	}
	// After the deploy only the automated backups are checked.
	if r, err := b.Verify(ctx, "release:portal:production", "post-deploy", backup); err != nil || !r.Passed() || r.Snapshot != "" {
		t.Errorf("post-deploy Verify = %+v, %v", r, err)
	}
	if got := cloud.RDS.Snapshots("portal-db", "manual"); len(got) != 1 {
		t.Errorf("post-deploy took a snapshot: %v", got)
	}
	// A stuck snapshot fails clearly within the wait.
	cloud.RDS.StuckSnapshots = true
	b.SnapshotWait = 200 * time.Millisecond
	r, err := b.Snapshot(ctx, "portal-db", "golive-portal-db-manual-test", "pre-deploy")
	if err != nil || r.State != record.ItemFailed || !strings.Contains(r.Detail, "not available within 200ms (status creating") {
		t.Errorf("stuck snapshot = %+v, %v", r, err)
	}
	cloud.Fail("rds", "CreateDBSnapshot", awsfake.Fault{Code: "AccessDenied", Status: 403})
	r, err = b.Snapshot(ctx, "portal-db", "golive-portal-db-denied", "pre-deploy")
	if err != nil || r.State != record.ItemUnavailable || !strings.Contains(r.Detail, "rds:CreateDBSnapshot on DB instance portal-db: access denied") {
		t.Errorf("Snapshot without rds:CreateDBSnapshot = %+v, %v", r, err)
	}
}

func TestSnapshotID(t *testing.T) {
	a := rdsbackup.SnapshotID("Portal_DB", "release:portal:production/run-1", "pre-deploy")
	b := rdsbackup.SnapshotID("Portal_DB", "release:portal:production/run-2", "pre-deploy")
	if a == b || !regexp.MustCompile(`^[a-z](-?[a-z0-9])*$`).MatchString(a) || len(a) > 255 {
		t.Errorf("SnapshotID = %q, %q", a, b)
	}
	if id := rdsbackup.SnapshotID("9db--x-", "k", "pre"); !strings.HasPrefix(id, "golive-9db-x-pre-") || strings.Contains(id, "--") {
		t.Errorf("SnapshotID = %q", id)
	}
}
