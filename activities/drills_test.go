package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// drillLedger is a fresh audit ledger and a way to append drill rows to it.
func drillLedger(t *testing.T) (string, func(service string, kind spec.DrillKind, at time.Time, state record.ItemState, value string)) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, url)
	if err := audit.Init(context.Background(), conn, audit.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(context.Background(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return url, func(service string, kind spec.DrillKind, at time.Time, state record.ItemState, value string) {
		t.Helper()
		ev := audit.Event{At: at, Kind: audit.KindDrill, Actor: "golive", Action: string(state), Data: map[string]string{"drill": string(kind), "service": service, "value": value}}
		if _, err := l.Append(context.Background(), audit.DrillRelease(service, string(kind))+"/run-"+at.Format("150405"), []audit.Event{ev}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func drillCheck(kind spec.DrillKind, maxAge time.Duration) activities.CheckInput {
	return activities.CheckInput{ItemID: "test.rollback_plan", Check: spec.Check{Kind: string(spec.KindDrill), Timeout: spec.Duration(10 * time.Second),
		Drill: &spec.DrillCheck{Kind: kind, MaxAge: spec.Duration(maxAge), Service: "patient-portal"}}}
}

func ledgerAudit(url string, now func() time.Time) *activities.Audit {
	return &activities.Audit{URL: "env://LEDGER", Now: now, Secrets: &secrets.Resolver{LookupEnv: func(string) (string, bool) { return url, true }}}
}

func TestDrillCheckPassesUntilTheLastDrillIsOlderThanMaxAge(t *testing.T) {
	url, add := drillLedger(t)
	ctx := context.Background()
	in := drillCheck(spec.DrillRollbackRehearsal, 192*time.Hour)
	if r, _ := ledgerAudit(url, nil).CheckDrill(ctx, in); r.State != record.ItemFailed || r.Value != "never drilled" {
		t.Fatalf("empty ledger: %+v", r)
	}
	ran := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	add("patient-portal", spec.DrillRollbackRehearsal, ran, record.ItemPassed, "rollback proven: 2 migration(s) up")
	// Another service's drill and another kind's do not count.
	add("billing", spec.DrillRollbackRehearsal, ran.Add(time.Hour), record.ItemFailed, "x")
	add("patient-portal", spec.DrillBackupRestore, ran.Add(time.Hour), record.ItemFailed, "x")

	at := func(now time.Time) activities.Result {
		r, err := ledgerAudit(url, func() time.Time { return now }).CheckDrill(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := at(ran.Add(2 * time.Hour))
	want := "last rollback_rehearsal drill passed at " + ran.Format(time.RFC3339) + " (2h0m0s ago)"
	if r.State != record.ItemPassed || r.Value != want || r.Detail != "rollback proven: 2 migration(s) up" {
		t.Fatalf("fresh drill: %+v, want %q", r, want)
	}
	if r := at(ran.Add(192*time.Hour - time.Minute)); r.State != record.ItemPassed {
		t.Fatalf("a minute inside max_age: %+v", r)
	}
	if r := at(ran.Add(192*time.Hour + time.Minute)); r.State != record.ItemFailed || !strings.HasSuffix(r.Value, ": stale") || !strings.Contains(r.Detail, "older than max_age 192h0m0s") {
		t.Fatalf("a minute past max_age: %+v", r)
	}
	// A newer failed drill fails the check, whatever passed before.
	add("patient-portal", spec.DrillRollbackRehearsal, ran.Add(time.Hour), record.ItemFailed, "rollback leaves the schema changed: 1 line(s) differ")
	if r := at(ran.Add(2 * time.Hour)); r.State != record.ItemFailed || !strings.Contains(r.Value, "drill failed at") || !strings.Contains(r.Detail, "schema changed") {
		t.Fatalf("failed drill: %+v", r)
	}
}

func TestDrillCheckIsUnavailableWhenTheLedgerCannotBeRead(t *testing.T) {
	ctx := context.Background()
	in := drillCheck(spec.DrillBackupRestore, time.Hour)
	if r, err := (&activities.Audit{}).CheckDrill(ctx, in); err != nil || r.State != record.ItemUnavailable || !strings.Contains(r.Detail, "not configured") {
		t.Fatalf("no ledger configured: %+v %v", r, err)
	}
	// A database without the ledger table (golive db init never ran).
	if r, err := ledgerAudit(pgtest.NewDatabase(t), nil).CheckDrill(ctx, in); err != nil || r.State != record.ItemUnavailable || !strings.Contains(r.Detail, "read the audit ledger") {
		t.Fatalf("no ledger table: %+v %v", r, err)
	}
}
