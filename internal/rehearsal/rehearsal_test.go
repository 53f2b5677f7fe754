package rehearsal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/rehearsal"
)

// base is the schema the backup already has (version 1), with rows.
const base = `-- +goose Up
CREATE TABLE patients (id bigint PRIMARY KEY, name text NOT NULL, born date);
INSERT INTO patients SELECT g, 'p' || g, date '1970-01-01' + g FROM generate_series(1, 500) g;
-- +goose Down
DROP TABLE patients;
`

// restored is a database at version 1, as a restore of the backup leaves it.
func restored(t *testing.T) *pgx.ConnConfig {
	t.Helper()
	url := pgtest.NewDatabase(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	set := load(t, map[string]string{"001_patients.sql": base})
	m, err := migrate.Open(context.Background(), cfg, set, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func load(t *testing.T, fs map[string]string) *migrate.Set {
	t.Helper()
	dir := t.TempDir()
	for name, text := range fs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := migrate.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func rehearse(t *testing.T, release map[string]string) rehearsal.Report {
	t.Helper()
	cfg := restored(t)
	release["001_patients.sql"] = base
	rep, err := rehearsal.Run(context.Background(), rehearsal.Options{Database: cfg, Set: load(t, release)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("start %d, pending %v, %d schema statements, %s", rep.Start, rep.Pending, rep.Objects, rep.Timings())
	return rep
}

func TestReversibleMigrationsProveTheRollback(t *testing.T) {
	rep := rehearse(t, map[string]string{
		"002_email.sql": `-- +goose Up
ALTER TABLE patients ADD COLUMN email text DEFAULT '' NOT NULL;
CREATE INDEX patients_email_idx ON patients (email);
CREATE TYPE visit_kind AS ENUM ('in_person', 'video');
CREATE VIEW patient_names AS SELECT id, name FROM patients;
-- +goose Down
DROP VIEW patient_names;
DROP TYPE visit_kind;
DROP INDEX patients_email_idx;
ALTER TABLE patients DROP COLUMN email;
`,
		"003_visits.up.sql":   `CREATE TABLE visits (id bigserial PRIMARY KEY, patient_id bigint NOT NULL REFERENCES patients(id));`,
		"003_visits.down.sql": `DROP TABLE visits;`,
	})
	if !rep.Proven() {
		t.Fatalf("rollback not proven: failure %q, irreversible %v, diff:\n%s\nagain:\n%s", rep.Failure, rep.Irreversible, rep.Diff, rep.AgainDiff)
	}
	if rep.Start != 1 || len(rep.Pending) != 2 {
		t.Fatalf("start %d, pending %v: want version 1 and two pending", rep.Start, rep.Pending)
	}
	var names []string
	for _, p := range rep.Phases {
		names = append(names, string(p.Name))
		if p.Duration <= 0 {
			t.Errorf("phase %s has no duration", p.Name)
		}
	}
	if got := strings.Join(names, ","); got != "snapshot,up,down,compare,up again" {
		t.Fatalf("phases %s", got)
	}
	if down := rep.Phases[2].Files; len(down) != 2 || down[0] != "003_visits.down.sql" {
		t.Fatalf("down ran %v, want the newest first", down)
	}
}

func TestDownPartLeavingAnIndexBehindFailsWithTheDiff(t *testing.T) {
	rep := rehearse(t, map[string]string{
		"002_name_idx.sql": `-- +goose Up
CREATE INDEX patients_name_idx ON patients (name);
ALTER TABLE patients ADD COLUMN phone text;
-- +goose Down
ALTER TABLE patients DROP COLUMN phone;
DROP INDEX IF EXISTS patients_name_index;
`,
	})
	if rep.Proven() {
		t.Fatal("a down part that leaves an index behind proved the rollback")
	}
	if !strings.Contains(rep.Diff, "+CREATE INDEX patients_name_idx ON public.patients USING btree (name);") ||
		!strings.HasPrefix(rep.Diff, "--- schema before up\n+++ schema after down\n@@ ") {
		t.Fatalf("diff does not show the index left behind:\n%s", rep.Diff)
	}
	if strings.Contains(rep.Diff, "phone") {
		t.Fatalf("diff shows the column the down part did drop:\n%s", rep.Diff)
	}
	if !strings.Contains(rep.Failure, "up again") {
		t.Errorf("up again over the index left behind should fail too, failure %q", rep.Failure)
	}
	if rep.Changed != 1 {
		t.Fatalf("%d changed lines, want 1:\n%s", rep.Changed, rep.Diff)
	}
}

func TestMigrationWithoutDownPartIsNamedAndNothingIsProven(t *testing.T) {
	rep := rehearse(t, map[string]string{
		"002_backfill.sql": `-- +goose Up
UPDATE patients SET name = upper(name);
`,
		"003_flag.up.sql":   `ALTER TABLE patients ADD COLUMN flagged boolean;`,
		"003_flag.down.sql": `ALTER TABLE patients DROP COLUMN flagged;`,
	})
	if rep.Proven() {
		t.Fatal("proven with an irreversible migration pending")
	}
	if len(rep.Irreversible) != 1 || rep.Irreversible[0] != "002_backfill.sql" {
		t.Fatalf("irreversible %v, want 002_backfill.sql", rep.Irreversible)
	}
	for _, p := range rep.Phases {
		if p.Name == rehearsal.PhaseDown {
			t.Fatalf("down phase ran: %v", p.Files)
		}
	}
	if len(rep.Phases) < 2 || rep.Phases[1].Name != rehearsal.PhaseUp || len(rep.Phases[1].Files) != 2 {
		t.Fatalf("the up phase should still have been proven: %+v", rep.Phases)
	}
}

func TestFailingUpOnTheRestoredDataIsReported(t *testing.T) {
	rep := rehearse(t, map[string]string{
		"002_unique.sql": `-- +goose Up
ALTER TABLE patients ADD CONSTRAINT born_unique CHECK (born < date '1970-06-01');
-- +goose Down
ALTER TABLE patients DROP CONSTRAINT born_unique;
`,
	})
	if rep.Proven() || !strings.Contains(rep.Failure, "002_unique.sql") {
		t.Fatalf("failure %q: want the migration that the restored rows break", rep.Failure)
	}
}

func TestDiffIsBounded(t *testing.T) {
	var a, b []string
	for i := range 500 {
		a = append(a, "line a"+strings.Repeat("x", i%7))
		b = append(b, "line b"+strings.Repeat("y", i%5))
	}
	d, n := rehearsal.Diff("a", "b", a, b)
	if n != 1000 || !strings.Contains(d, "more diff lines not shown") || len(d) > 4100 {
		t.Fatalf("%d changed, %d bytes:\n%s", n, len(d), d)
	}
	if d, n := rehearsal.Diff("a", "b", a, a); d != "" || n != 0 {
		t.Fatalf("equal lists differ: %q", d)
	}
}
