package backup_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/backup"
	"github.com/golive/golive/internal/pgtest"
)

const fixture = `
CREATE TABLE patients (id bigint PRIMARY KEY, name text, born date, balance numeric(10,2), seen timestamptz, tags text[]);
INSERT INTO patients SELECT g, 'patient ' || g, date '1950-01-01' + g, g * 1.5, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour', ARRAY['a', g::text]
FROM generate_series(1, 2000) g;
CREATE TABLE appointments (id bigserial PRIMARY KEY, patient_id bigint REFERENCES patients(id), at timestamptz, note jsonb);
INSERT INTO appointments (patient_id, at, note) SELECT g % 2000 + 1, now(), jsonb_build_object('n', g, 'f', g / 3.0) FROM generate_series(1, 5000) g;
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id int, amount float8, paid boolean);
INSERT INTO billing.invoices SELECT g, g / 7.0, g % 2 = 0 FROM generate_series(1, 300) g;
CREATE TABLE empty_table (id int);
`

func setup(t *testing.T) *pgx.ConnConfig {
	t.Helper()
	url := pgtest.NewDatabase(t)
	c := pgtest.Connect(t, url)
	if _, err := c.Exec(context.Background(), fixture); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func scratchGone(t *testing.T, name string) {
	t.Helper()
	c := pgtest.Connect(t, pgtest.ServerURL())
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil || n != 0 {
		t.Fatalf("scratch database %s still there (%d, %v)", name, n, err)
	}
}

func TestVerifyMatchingRestore(t *testing.T) {
	cfg := setup(t)
	var steps []string
	rep, err := backup.Verify(context.Background(), backup.Options{
		Source:         cfg,
		ChecksumTables: []string{"patients", "appointments", "billing.invoices"},
		Jobs:           2, // through a dump file (the others stream)
		Progress:       func(s string) { steps = append(steps, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Summary())
	if !rep.OK() || len(rep.Tables) != 4 || rep.Rows != 7300 || rep.DumpBytes == 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, tb := range rep.Tables {
		if (tb.Name != "public.empty_table") != tb.Checksummed || tb.Checksummed && tb.SourceSum == "0" {
			t.Errorf("table %+v", tb)
		}
	}
	if len(steps) < 4 {
		t.Errorf("progress steps: %q", steps)
	}
	scratchGone(t, rep.Scratch)
}

// A restore that differs from the source is caught: a row missing, a value changed, a table gone.
func TestVerifyCatchesDifferences(t *testing.T) {
	cfg := setup(t)
	for name, tamper := range map[string]struct {
		sql  string
		want string
	}{
		"row deleted":   {"DELETE FROM appointments WHERE id = 17", "public.appointments: 5000 rows in the source, 4999 restored"},
		"value changed": {"UPDATE patients SET name = 'someone else' WHERE id = 42", "public.patients: checksum"},
		"float changed": {"UPDATE billing.invoices SET amount = amount + 1e-9 WHERE id = 3", "billing.invoices: checksum"},
		"table dropped": {"DROP TABLE empty_table", "public.empty_table: missing from the restore"},
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := backup.Verify(context.Background(), backup.Options{
				Source:         cfg,
				ChecksumTables: []string{"patients", "billing.invoices"},
				BeforeCompare: func(ctx context.Context, c *pgx.Conn) error {
					_, err := c.Exec(ctx, tamper.sql)
					return err
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || len(rep.Mismatches) != 1 || !strings.Contains(rep.Mismatches[0], tamper.want) {
				t.Fatalf("mismatches %q, want one containing %q", rep.Mismatches, tamper.want)
			}
			scratchGone(t, rep.Scratch)
		})
	}
}

// A checksum table the source does not have yet (the release creates it at T-0)
// is reported as absent in the summary, not as a mismatch or an error.
func TestVerifyAbsentChecksumTable(t *testing.T) {
	cfg := setup(t)
	rep, err := backup.Verify(context.Background(), backup.Options{Source: cfg, ChecksumTables: []string{"clinical_notes"}})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", err, rep.Mismatches)
	}
	if len(rep.Absent) != 1 || !strings.Contains(rep.Summary(), "not in the source yet, not compared: clinical_notes") {
		t.Fatalf("absent %v, summary %q", rep.Absent, rep.Summary())
	}
}

func TestProbe(t *testing.T) {
	cfg := setup(t)
	res, err := backup.Probe(context.Background(), cfg, "")
	if err != nil || !res.OK || res.Tables < 4 {
		t.Fatalf("probe: %+v %v", res, err)
	}
	if _, err := backup.Probe(context.Background(), cfg, "/nonexistent/pg_dump"); err == nil {
		t.Fatal("probe with a missing pg_dump passed")
	}
}
