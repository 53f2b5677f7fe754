package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// rehearsalFixture is a database at demo version 2 (the backup) and a
// migrations directory holding 001-004 plus the extra files.
func rehearsalFixture(t *testing.T, extra map[string]string) (*activities.Database, activities.BackupInput) {
	t.Helper()
	dir := t.TempDir()
	if err := migrate.Stage(demoMigrations, dir, 2); err != nil {
		t.Fatal(err)
	}
	d, db, _ := dbFixture(t, dir)
	if _, err := d.Migrate(context.Background(), activities.MigrateInput{Database: db}); err != nil {
		t.Fatal(err)
	}
	if err := migrate.Stage(demoMigrations, dir, 4); err != nil {
		t.Fatal(err)
	}
	for name, text := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d, activities.BackupInput{ReleaseID: "r", Phase: "pre-deploy", Database: db,
		Backup: spec.Backup{Type: "postgres", ChecksumTables: []string{"patients"}}}
}

// inActivityEnv runs a Database activity in the SDK's activity environment (heartbeats on).
func inActivityEnv(t *testing.T, d *activities.Database, fn any, in any) activities.Result {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	val, err := env.ExecuteActivity(fn, in)
	if err != nil {
		t.Fatal(err)
	}
	var r activities.Result
	if err := val.Get(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

var scratchName = regexp.MustCompile(`scratch database (golive_verify_[0-9a-f]+) dropped`)

// requireDropped checks the scratch database the result names is gone.
func requireDropped(t *testing.T, r activities.Result) {
	t.Helper()
	m := scratchName.FindStringSubmatch(r.Detail)
	if m == nil {
		t.Fatalf("result does not name its scratch database: %s", r.Detail)
	}
	var n int
	if err := pgtest.Connect(t, pgtest.ServerURL()).QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", m[1]).Scan(&n); err != nil || n != 0 {
		t.Fatalf("scratch database %s still there (%d, %v)", m[1], n, err)
	}
}

func TestRehearseRollbackProvesTheDemoMigrations(t *testing.T) {
	d, in := rehearsalFixture(t, nil)
	r := inActivityEnv(t, d, d.RehearseRollback, in)
	t.Logf("%s\n%s", r.Value, r.Detail)
	if r.State != record.ItemPassed ||
		!regexp.MustCompile(`^rollback proven: 2 migration\(s\) up in \d+ms, down to version 2 in \d+ms, schema as restored \(13 statements\), up again in \d+ms$`).MatchString(r.Value) ||
		!regexp.MustCompile(`snapshot \d+ms, up \d+ms, down \d+ms, compare \d+ms, up again \d+ms`).MatchString(r.Detail) {
		t.Fatalf("rehearsal: %+v", r)
	}
	requireDropped(t, r)
	// The target itself is untouched: still at version 2.
	if r, err := d.CheckDatabase(context.Background(), dbCheck("postgres.pending_migrations", in.Database, nil)); err != nil || !strings.HasPrefix(r.Value, "schema version 2,") {
		t.Fatalf("target changed by the rehearsal: %+v %v", r, err)
	}
}

func TestRehearseRollbackShowsWhatAWrongDownPartLeaves(t *testing.T) {
	d, in := rehearsalFixture(t, map[string]string{"005_phone.sql": `-- +goose Up
ALTER TABLE patients ADD COLUMN phone text;
CREATE INDEX patients_phone_idx ON patients (phone);
CREATE TABLE phone_log (id bigint PRIMARY KEY);
-- +goose Down
DROP TABLE phone_log;
`})
	r, err := d.RehearseRollback(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\n%s", r.Value, r.Detail)
	if r.State != record.ItemFailed || !strings.Contains(r.Value, "rollback leaves the schema changed") ||
		!strings.Contains(r.Detail, "+    phone text") || !strings.Contains(r.Detail, "+CREATE INDEX patients_phone_idx ON public.patients USING btree (phone);") {
		t.Fatalf("wrong down part not caught with its diff: %+v", r)
	}
	requireDropped(t, r)
}

func TestRehearseRollbackNamesAMigrationWithoutDownPart(t *testing.T) {
	up := "-- +goose Up\nUPDATE patients SET mrn = mrn;\n"
	d, in := rehearsalFixture(t, map[string]string{"005_touch.sql": up})
	r, err := d.RehearseRollback(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\n%s", r.Value, r.Detail)
	if r.State != record.ItemFailed || r.Value != "rollback not proven: no down part in 005_touch.sql" ||
		!strings.Contains(r.Detail, "not proven: the down parts of 003_appointments_status_index.sql, 004_clinical_notes.up.sql, 005_touch.sql") {
		t.Fatalf("irreversible migration: %+v", r)
	}
	requireDropped(t, r)

	in.Database.AcceptIrreversible = []string{"005_touch.sql"}
	r, err = d.RehearseRollback(context.Background(), in)
	if err != nil || r.State != record.ItemPassed || r.Value != "rollback not proven, accepted as irreversible: 005_touch.sql" {
		t.Fatalf("accepted irreversible migration: %+v %v", r, err)
	}
}
