package pgcheck_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/pgcheck"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
)

// fixture has known offenders:
//   - RLS: public.no_rls (RLS off), public.rls_no_policy (RLS on, no policy);
//     public.patients is clean; other.hidden has no RLS but lies outside the checked schema.
//   - FKs: appointments.patient_id (no index), notes(patient_id, author_id) (index has the
//     columns in second place only) and other.hidden.patient_id are uncovered;
//     visits.patient_id (plain index), labs(patient_id, at) (leading columns) and
//     billing.patient_id with a partial index (does not count: reported) — see want below.
const fixture = `
CREATE TABLE patients (id bigint PRIMARY KEY, name text);
ALTER TABLE patients ENABLE ROW LEVEL SECURITY;
CREATE POLICY patients_own ON patients USING (true);
CREATE TABLE no_rls (id int);
CREATE TABLE rls_no_policy (id int);
ALTER TABLE rls_no_policy ENABLE ROW LEVEL SECURITY;
CREATE TABLE authors (id bigint PRIMARY KEY);
ALTER TABLE authors ENABLE ROW LEVEL SECURITY;
CREATE POLICY a ON authors USING (true);

CREATE TABLE appointments (id int, patient_id bigint REFERENCES patients(id));
CREATE TABLE visits (id int, patient_id bigint REFERENCES patients(id));
CREATE INDEX ON visits (patient_id);
CREATE TABLE labs (id int, patient_id bigint REFERENCES patients(id), at timestamptz);
CREATE INDEX ON labs (patient_id, at);
CREATE TABLE notes (id int, patient_id bigint, author_id bigint,
  FOREIGN KEY (patient_id) REFERENCES patients(id), FOREIGN KEY (author_id) REFERENCES authors(id));
CREATE INDEX ON notes (author_id, patient_id);
CREATE TABLE billing (id int, patient_id bigint REFERENCES patients(id));
CREATE INDEX ON billing (patient_id) WHERE id > 0;
DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['appointments','visits','labs','notes','billing'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY p ON %I USING (true)', t);
  END LOOP;
END $$;
CREATE SCHEMA other;
CREATE TABLE other.hidden (id int, patient_id bigint REFERENCES patients(id));
CREATE TABLE goose_db_version (id int);
`

func TestRLSAndFKOffenders(t *testing.T) {
	url := pgtest.NewDatabase(t)
	c := pgtest.Connect(t, url)
	ctx := context.Background()
	if _, err := c.Exec(ctx, fixture); err != nil {
		t.Fatal(err)
	}

	r, err := pgcheck.RLS(ctx, c, []string{"public"}, []string{"goose_db_version"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"public.no_rls: RLS not enabled", "public.rls_no_policy: RLS enabled but no policy"}
	if r.State != record.ItemFailed || !slices.Equal(r.Offenders, want) {
		t.Fatalf("RLS: %+v\nwant offenders %q", r, want)
	}
	t.Logf("RLS: %s — %s", r.Value, r.Detail)

	r, err = pgcheck.FKIndexes(ctx, c, []string{"public", "other"})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		`other.hidden (patient_id) → CREATE INDEX CONCURRENTLY IF NOT EXISTS "hidden_patient_id_fk_idx" ON "other"."hidden" ("patient_id");`,
		`public.appointments (patient_id) → CREATE INDEX CONCURRENTLY IF NOT EXISTS "appointments_patient_id_fk_idx" ON "public"."appointments" ("patient_id");`,
		`public.billing (patient_id) → CREATE INDEX CONCURRENTLY IF NOT EXISTS "billing_patient_id_fk_idx" ON "public"."billing" ("patient_id");`,
		`public.notes (patient_id) → CREATE INDEX CONCURRENTLY IF NOT EXISTS "notes_patient_id_fk_idx" ON "public"."notes" ("patient_id");`,
	}
	if r.State != record.ItemFailed || !slices.Equal(r.Offenders, want) {
		t.Fatalf("FK: %+v\nwant offenders:\n%s", r, strings.Join(want, "\n"))
	}
	t.Logf("FK: %s", r.Value)

	// Each fix works, and then the check passes.
	for _, o := range r.Offenders {
		_, fix, _ := strings.Cut(o, " → ")
		if _, err := c.Exec(ctx, fix); err != nil {
			t.Fatalf("fix %s: %v", fix, err)
		}
	}
	if r, err := pgcheck.FKIndexes(ctx, c, nil); err != nil || r.State != record.ItemPassed {
		t.Fatalf("FK after fixes: %+v %v", r, err)
	}
	if _, err := c.Exec(ctx, "ALTER TABLE no_rls ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON no_rls USING (true); CREATE POLICY p ON rls_no_policy USING (true)"); err != nil {
		t.Fatal(err)
	}
	if r, err := pgcheck.RLS(ctx, c, []string{"public"}, []string{"goose_db_version"}); err != nil || r.State != record.ItemPassed {
		t.Fatalf("RLS after fixes: %+v %v", r, err)
	}
}

func TestConnectionsSlowQueriesAndSQL(t *testing.T) {
	url := pgtest.NewDatabase(t)
	c := pgtest.Connect(t, url)
	ctx := context.Background()
	r, err := pgcheck.Connections(ctx, c, 80)
	if err != nil || r.State != record.ItemPassed {
		t.Fatalf("connections: %+v %v", r, err)
	}
	t.Logf("connections: %s — %s", r.Value, r.Detail)
	if r, err := pgcheck.Connections(ctx, c, 0.5); err != nil || r.State != record.ItemFailed || len(r.Offenders) == 0 {
		t.Fatalf("connections above a 0.5%% limit: %+v %v", r, err)
	}

	// pg_stat_statements is not loaded on the test server: never a pass.
	r, err = pgcheck.SlowQueries(ctx, c, 500*time.Millisecond)
	if err != nil || r.State != record.ItemUnavailable {
		t.Fatalf("slow queries without the extension: %+v %v", r, err)
	}
	if _, err := c.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err == nil {
		r, err = pgcheck.SlowQueries(ctx, c, 500*time.Millisecond)
		if err != nil || r.State == record.ItemPassed && !preloaded(t, c) {
			t.Fatalf("slow queries, extension created but not preloaded: %+v %v", r, err)
		}
		t.Logf("slow queries: %s %s — %s", r.State, r.Value, r.Detail)
	}

	for q, want := range map[string]record.ItemState{
		"SELECT 1 WHERE false":                 record.ItemPassed,
		"SELECT true":                          record.ItemPassed,
		"SELECT false":                         record.ItemFailed,
		"SELECT relname FROM pg_class LIMIT 3": record.ItemFailed,
		"SELEC 1":                              record.ItemFailed,
	} {
		if r, err := pgcheck.SQL(ctx, c, q); err != nil || r.State != want {
			t.Errorf("SQL %q: %+v %v, want %s", q, r, err, want)
		}
	}
}

func preloaded(t *testing.T, c interface {
	pgcheck.Querier
}) bool {
	var s string
	_ = c.QueryRow(context.Background(), "SHOW shared_preload_libraries").Scan(&s)
	return strings.Contains(s, "pg_stat_statements")
}
