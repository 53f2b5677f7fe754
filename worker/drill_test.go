package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/drills"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// startServerWithLedger is startServer with the worker's audit ledger in a fresh database.
func startServerWithLedger(t *testing.T) (client.Client, string) {
	t.Helper()
	ledger := pgtest.NewDatabase(t)
	initLedger(t, ledger)
	t.Setenv("GOLIVE_AUDIT_URL", ledger)
	return startServer(t), ledger
}

// drillSpec is the demo spec with a staging database at demo version 2 and
// this release's migrations 001-004, drilled every 12 hours.
func drillSpec(t *testing.T) spec.Spec {
	t.Helper()
	s := compressedSpec(t, "http://127.0.0.1:9")
	staging := pgtest.NewDatabase(t)
	dir := filepath.Join(t.TempDir(), "migrations")
	if err := migrate.Stage("../examples/migrations/demo", dir, 2); err != nil {
		t.Fatal(err)
	}
	upTo(t, staging, dir)
	if err := migrate.Stage("../examples/migrations/demo", dir, 4); err != nil {
		t.Fatal(err)
	}
	s.Database.Migrations = dir
	s.Drills = spec.Drills{Every: spec.Duration(12 * time.Hour), Staging: &spec.Staging{Database: spec.Database{URL: staging}}}
	spec.ApplyDefaults(&s)
	return s
}

// upTo applies the migrations in dir to the database at url.
func upTo(t *testing.T, url, dir string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	set, err := migrate.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.Open(context.Background(), cfg, set, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Drills on the in-process server's Schedules: created at the spec's
// cadence, updated when scheduled again, triggered, each result in the
// audit ledger, where the drill check finds it fresh and, past max_age, stale.
func TestDrillSchedulesRecordEachDrillInTheLedger(t *testing.T) {
	c, ledger := startServerWithLedger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := drillSpec(t)

	out, err := drills.Schedule(ctx, c, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || !out[0].Created || out[0].Kind != spec.DrillBackupRestore || out[1].Kind != spec.DrillRollbackRehearsal {
		t.Fatalf("scheduled %+v", out)
	}
	s.Drills.Every = spec.Duration(24 * time.Hour)
	if out, err = drills.Schedule(ctx, c, s); err != nil || out[0].Created {
		t.Fatalf("second schedule: %+v %v, want the existing Schedules updated", out, err)
	}
	var entries []drills.Entry
	for ctx.Err() == nil { // the schedule list is eventually consistent
		if entries, err = drills.List(ctx, c, s.Service); err != nil {
			t.Fatal(err)
		}
		if len(entries) == 2 && entries[0].Every.D() == 24*time.Hour && entries[1].Every.D() == 24*time.Hour {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(entries) != 2 || entries[0].ID != workflows.DrillScheduleID(s.Service, spec.DrillBackupRestore) || entries[1].Every.D() != 24*time.Hour {
		t.Fatalf("listed %+v", entries)
	}

	for _, e := range entries {
		if err := c.ScheduleClient().GetHandle(ctx, e.ID).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	a := &activities.Audit{URL: ledger}
	check := func(kind spec.DrillKind, now time.Time) activities.Result {
		a.Now = func() time.Time { return now }
		r, err := a.CheckDrill(ctx, activities.CheckInput{Check: spec.Check{Kind: string(spec.KindDrill), Timeout: spec.Duration(10 * time.Second),
			Drill: &spec.DrillCheck{Kind: kind, Service: s.Service, MaxAge: spec.Duration(36 * time.Hour)}}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, kind := range []spec.DrillKind{spec.DrillBackupRestore, spec.DrillRollbackRehearsal} {
		var r activities.Result
		for ctx.Err() == nil { // until the triggered run has written its row
			if r = check(kind, time.Now()); r.Value != "never drilled" {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("%s: %s | %s", kind, r.Value, r.Detail)
		if r.State != record.ItemPassed || !strings.Contains(r.Value, "last "+string(kind)+" drill passed at") {
			t.Fatalf("%s drill check: %+v", kind, r)
		}
		if kind == spec.DrillRollbackRehearsal && !strings.Contains(r.Detail, ", down to version 2 in ") {
			t.Fatalf("rehearsal drill detail: %s", r.Detail)
		}
		if r := check(kind, time.Now().Add(37*time.Hour)); r.State != record.ItemFailed || !strings.HasSuffix(r.Value, ": stale") {
			t.Fatalf("%s 37h later: %+v, want stale", kind, r)
		}
	}
	// The rows are the drills' own: kind drill, under the drill's release ID.
	var n int
	if err := pgtest.Connect(t, ledger).QueryRow(ctx, "SELECT count(*) FROM golive_audit WHERE kind = $1 AND starts_with(release_id, $2)",
		audit.KindDrill, audit.DrillRelease(s.Service, "")).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d drill rows, %v", n, err)
	}

	deleted, err := drills.Delete(ctx, c, s)
	if err != nil || len(deleted) != 2 {
		t.Fatalf("deleted %v, %v", deleted, err)
	}
}

// A release whose new migration's down part leaves a column and an index
// behind stops at T-4h: the rehearsal on the restored backup fails with the
// diff, and nothing is migrated or deployed on the target.
func TestWrongDownPartStopsTheReleaseAtTMinus4h(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	s := fastSpec(t, srv.URL)
	upTo(t, s.Database.URL, s.Database.Migrations) // the target is at 3, as the last release left it
	bad := "-- +goose Up\nALTER TABLE patients ADD COLUMN phone text;\nCREATE INDEX patients_phone_idx ON patients (phone);\n-- +goose Down\nSELECT 1;\n"
	if err := os.WriteFile(filepath.Join(s.Database.Migrations, "004_phone.sql"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment), TaskQueue: workflows.TaskQueue},
		workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"})
	if err != nil {
		t.Fatal(err)
	}
	respond(ctx, t, c, run, s.Members)
	var res workflows.ReleaseResult
	if err := workflows.EndedResult(run.Get(ctx, &res), &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != record.OutcomeFailed || !strings.Contains(res.Reason, "rollback rehearsal failed: rollback leaves the schema changed") || app.Version() != "1.0.0" {
		t.Fatalf("outcome %s (%s), app at %s", res.Outcome, res.Reason, app.Version())
	}
	st, err := queryStatus(ctx, c, run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range st.Items {
		switch it.ID {
		case "prepare.rollback_rehearsal":
			t.Logf("%s: %s\n%s", it.State, it.Value, it.Detail)
			if it.State != record.ItemFailed || !strings.Contains(it.Detail, "+CREATE INDEX patients_phone_idx ON public.patients USING btree (phone);") {
				t.Errorf("rehearsal item %s: %s\n%s", it.State, it.Value, it.Detail)
			}
		case "deploy.migrations":
			if it.State != record.ItemPending {
				t.Errorf("migrations ran after a failed rehearsal: %s %s", it.State, it.Value)
			}
		}
	}
}
