package backup_test

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/backup"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/pgutil"
)

// generate fills a database with about target bytes of patients and appointments.
func generate(b *testing.B, c *pgx.Conn, target int64) int64 {
	ctx := context.Background()
	if _, err := c.Exec(ctx, `
		CREATE TABLE patients (id bigint PRIMARY KEY, name text, born date, notes text);
		CREATE TABLE appointments (id bigint PRIMARY KEY, patient_id bigint REFERENCES patients(id), at timestamptz, status text);
		CREATE INDEX ON appointments (patient_id);`); err != nil {
		b.Fatal(err)
	}
	var size int64
	for step := int64(0); ; step++ {
		from := step*200000 + 1
		for _, q := range []string{
			`INSERT INTO patients SELECT g, 'Patient ' || g, date '1950-01-01' + (g % 25000)::int, md5(g::text) || md5((g + 1)::text)
			FROM generate_series($1::bigint, $1::bigint + 199999) g`,
			`INSERT INTO appointments SELECT g, g, timestamptz '2025-01-01' + g * interval '1 minute', (ARRAY['booked','done','cancelled'])[1 + g % 3]
			FROM generate_series($1::bigint, $1::bigint + 199999) g`,
		} {
			if _, err := c.Exec(ctx, q, from); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
			b.Fatal(err)
		}
		if size >= target {
			break
		}
	}
	if _, err := c.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return size
}

// BenchmarkVerifyBackup100MiB verifies the backup of a generated ~100 MiB
// database (dump, restore into a scratch database, row counts of every table,
// checksums of both tables, drop) and compares it with a hand-run
// `createdb && pg_dump -Fc | pg_restore && dropdb` of the same database.
func BenchmarkVerifyBackup100MiB(b *testing.B) {
	url := pgtest.NewDatabase(b)
	c := pgtest.Connect(b, url)
	t0 := time.Now()
	size := generate(b, c, 100<<20)
	fmt.Printf("backup: generated %s in %s\n", backup.Size(size), time.Since(t0).Round(time.Second))
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	admin := pgtest.Connect(b, pgtest.ServerURL())
	b.ResetTimer()
	var verify, hand time.Duration
	var rep backup.Report
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		rep, err = backup.Verify(context.Background(), backup.Options{Source: cfg, ChecksumTables: []string{"patients", "appointments"}})
		if err != nil || !rep.OK() {
			b.Fatalf("verify: %+v %v", rep, err)
		}
		verify += time.Since(t0)

		scratch := pgutil.RandomName("golive_bench_")
		t0 = time.Now()
		if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+scratch); err != nil {
			b.Fatal(err)
		}
		pipe := fmt.Sprintf("pg_dump -Fc -d %q | pg_restore --no-owner --no-acl --exit-on-error -d %q", url, pgtest.URL(cfg, scratch))
		if out, err := exec.Command("bash", "-o", "pipefail", "-c", pipe).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v %s", pipe, err, out)
		}
		if _, err := admin.Exec(context.Background(), "DROP DATABASE "+scratch+" WITH (FORCE)"); err != nil {
			b.Fatal(err)
		}
		hand += time.Since(t0)
	}
	n := time.Duration(b.N)
	ratio := float64(verify) / float64(hand)
	b.ReportMetric(float64(size)/(1<<20), "db-MiB")
	b.ReportMetric(float64((verify / n).Milliseconds()), "verify-ms")
	b.ReportMetric(float64((hand / n).Milliseconds()), "pg_dump|pg_restore-ms")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("backup: %s database verified in %s (%s) vs hand-run pg_dump | pg_restore in %s: ratio %.2f\n",
		backup.Size(size), (verify / n).Round(time.Millisecond), rep.Summary(), (hand / n).Round(time.Millisecond), ratio)
}
