package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/spec"
)

// With a staging target the three "tested" lines turn into drill checks
// reading the ledger, weekly by default with a day of slack; without one
// they stay attestations.
func TestDrillsTurnTheTestedLinesIntoDrillChecks(t *testing.T) {
	withMigrations := strings.Replace(minimal, "url: env://DATABASE_URL", "url: env://DATABASE_URL\n  migrations: db/migrations", 1)
	l, err := spec.Parse("min.yaml", []byte(withMigrations+`drills:
  staging:
    database: {url: env://STAGING_DATABASE_URL}
  pitr_command: [pgbackrest, --stanza=portal-staging, --type=time, restore]
`))
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	if s.Drills.Every.D() != 7*24*time.Hour || s.Drills.Staging.Backup.Type != "postgres" || s.Drills.Staging.Database.Migrations != "db/migrations" {
		t.Fatalf("drills defaults: %+v %+v", s.Drills, s.Drills.Staging)
	}
	for id, kind := range map[string]spec.DrillKind{"test.rollback_plan": spec.DrillRollbackRehearsal, "test.disaster_recovery": spec.DrillBackupRestore, "db.pitr": spec.DrillPITR} {
		a := item(t, s, id).Auto
		if a == nil || a.Kind != string(spec.KindDrill) || a.Drill.Kind != kind || a.Drill.Service != "portal" || a.Drill.MaxAge.D() != 8*24*time.Hour {
			t.Errorf("%s: %+v", id, a)
		}
	}
	if got := spec.SecretRefs(s); !strings.Contains(strings.Join(got, " "), "env://STAGING_DATABASE_URL") {
		t.Errorf("secret refs %v miss the staging database", got)
	}

	l, err = spec.Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := kindOf(item(t, l.Spec, "test.rollback_plan")); got != "attest operations_lead" {
		t.Errorf("test.rollback_plan without drills = %s", got)
	}
}

func TestDrillsAreValidatedWithTheirPlace(t *testing.T) {
	src := minimal + `drills:
  every: 10m
  staging:
    database: {url: "postgres://app:hunter2@staging.internal/portal"}
    backup: {type: rds}
readiness:
  items:
    - {id: test.rollback_plan, auto: {kind: drill, drill: {kind: fire_drill}}}
    - {id: db.pitr, auto: {kind: drill}}
`
	_, err := spec.Parse("bad.yaml", []byte(src))
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		`bad.yaml:23:10: drills.every: 10m is shorter than an hour`,
		`bad.yaml:25:21: drills.staging.database.url: holds a password`,
		`drills.staging.backup.type: "rds": drills restore a pg_dump`,
		`readiness.items[0].auto.drill.kind: unknown value "fire_drill"`,
		`readiness.items[1].auto.drill: is required`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing error %q in:\n%s", want, err)
		}
	}
}
