package migrate_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgtest"
)

// benchFiles writes n up/down migration pairs: a table, an index and 2,000 rows each.
func benchFiles(b *testing.B, n int) (dir string, ups []string) {
	dir = b.TempDir()
	for i := 1; i <= n; i++ {
		up := fmt.Sprintf(`CREATE TABLE t%[1]d (id bigserial PRIMARY KEY, name text NOT NULL, n int, at timestamptz DEFAULT now());
CREATE INDEX t%[1]d_n ON t%[1]d (n);
INSERT INTO t%[1]d (name, n) SELECT 'row ' || g, g %% 97 FROM generate_series(1, 2000) g;
`, i)
		name := fmt.Sprintf("%03d_t%d", i, i)
		if err := os.WriteFile(filepath.Join(dir, name+".up.sql"), []byte(up), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".down.sql"), []byte(fmt.Sprintf("DROP TABLE t%d;\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		ups = append(ups, filepath.Join(dir, name+".up.sql"))
	}
	sort.Strings(ups)
	return dir, ups
}

// BenchmarkMigrateVsPsql applies the same SQL files with golive's migrator (one
// connection, advisory lock, version table, one transaction per file) and with
// psql (psql -1 -f per file, as a person would run them), each on a fresh
// database, and reports the ratio.
func BenchmarkMigrateVsPsql(b *testing.B) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		b.Fatalf("psql not found: %v", err)
	}
	const files = 40
	dir, ups := benchFiles(b, files)
	set, err := migrate.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	var golive, byPsql, oneSession time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		urlA, urlB, urlC := pgtest.NewDatabase(b), pgtest.NewDatabase(b), pgtest.NewDatabase(b)
		cfg, err := pgx.ParseConfig(urlA)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		m, err := migrate.Open(context.Background(), cfg, set, migrate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := m.Up(context.Background())
		m.Close()
		if err != nil || rep.After != files {
			b.Fatalf("migrate: %+v %v", rep, err)
		}
		golive += time.Since(t0)

		t0 = time.Now()
		for _, f := range ups {
			out, err := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", urlB, "-f", f).CombinedOutput()
			if err != nil {
				b.Fatalf("psql %s: %v %s", f, err, out)
			}
		}
		byPsql += time.Since(t0)

		// One psql session for all files (no per-file transaction): the floor.
		args := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", urlC}
		for _, f := range ups {
			args = append(args, "-f", f)
		}
		t0 = time.Now()
		if out, err := exec.Command(psql, args...).CombinedOutput(); err != nil {
			b.Fatalf("psql: %v %s", err, out)
		}
		oneSession += time.Since(t0)
	}
	n := time.Duration(b.N)
	ratio := float64(golive) / float64(byPsql)
	b.ReportMetric(float64((golive / n).Milliseconds()), "golive-ms")
	b.ReportMetric(float64((byPsql / n).Milliseconds()), "psql-ms")
	b.ReportMetric(float64((oneSession / n).Milliseconds()), "psql-1-session-ms")
	b.ReportMetric(ratio, "ratio")
	fmt.Printf("migrations: %d files applied by golive in %s; by psql -1 -f per file in %s: ratio %.2f; by one psql session in %s: ratio %.2f\n",
		files, (golive / n).Round(time.Millisecond), (byPsql / n).Round(time.Millisecond), ratio,
		(oneSession / n).Round(time.Millisecond), float64(golive)/float64(oneSession))
}
