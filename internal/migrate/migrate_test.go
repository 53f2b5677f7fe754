package migrate_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgtest"
)

// files writes migration files into a new directory.
func files(t *testing.T, fs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range fs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func open(t *testing.T, url, dir string, o migrate.Options) *migrate.Migrator {
	t.Helper()
	set, err := migrate.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.Open(context.Background(), cfg, set, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// schema describes the user schema (tables, columns, indexes, validity), without the version table.
func schema(t *testing.T, c *pgx.Conn) string {
	t.Helper()
	var s string
	err := c.QueryRow(context.Background(), `
		SELECT coalesce(string_agg(x, E'\n' ORDER BY x), '') FROM (
		  SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS x
		  FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'goose_db_version'
		  UNION ALL
		  SELECT 'idx ' || c.relname || ' ' || pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
		  WHERE t.relnamespace = 'public'::regnamespace AND t.relname <> 'goose_db_version'
		) q`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var demoSet = map[string]string{
	"001_patients.sql": `-- +goose Up
CREATE TABLE patients (id bigserial PRIMARY KEY, name text NOT NULL);
CREATE TABLE appointments (id bigserial PRIMARY KEY, patient_id bigint NOT NULL REFERENCES patients(id), at timestamptz NOT NULL);
-- +goose Down
DROP TABLE appointments;
DROP TABLE patients;
`,
	"002_notes.up.sql": `CREATE TABLE notes (id bigserial PRIMARY KEY, patient_id bigint REFERENCES patients(id), body text);
CREATE FUNCTION note_len(n notes) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  RETURN length(n.body);
END;
$$;
`,
	"002_notes.down.sql": "DROP FUNCTION note_len(notes);\nDROP TABLE notes;\n",
	"003_index.sql": `-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS appointments_patient_id ON appointments (patient_id);
-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS appointments_patient_id;
`,
}

func TestLoadFormats(t *testing.T) {
	set, err := migrate.Load(files(t, demoSet))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Sources) != 3 {
		t.Fatalf("sources: %+v", set.Sources)
	}
	want := []struct {
		file   string
		format string
		noTx   bool
	}{{"001_patients.sql", migrate.FormatGoose, false}, {"002_notes.up.sql", migrate.FormatUpDown, false}, {"003_index.sql", migrate.FormatGoose, true}}
	for i, w := range want {
		s := set.Sources[i]
		if s.File != w.file || s.Format != w.format || s.NoTx != w.noTx || !s.HasDown {
			t.Errorf("source %d: %+v, want %+v with a down part", i, s, w)
		}
	}
	for name, text := range map[string]map[string]string{
		"duplicate":  {"001_a.sql": "-- +goose Up\nSELECT 1;\n", "001_b.up.sql": "SELECT 1;"},
		"no annot":   {"001_a.sql": "SELECT 1;\n"},
		"down alone": {"001_a.down.sql": "SELECT 1;\n"},
		"bad name":   {"first.sql": "SELECT 1;\n"},
	} {
		if _, err := migrate.Load(files(t, text)); err == nil {
			t.Errorf("%s: loaded without error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// Apply, then roll back: the schema and the version are back where they were.
func TestApplyThenRollBack(t *testing.T) {
	url := pgtest.NewDatabase(t)
	c := pgtest.Connect(t, url)
	before := schema(t, c)
	m := open(t, url, files(t, demoSet), migrate.Options{})
	ctx := context.Background()

	rep, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Before != 0 || rep.After != 3 || strings.Join(rep.Applied, ",") != "001_patients.sql,002_notes.up.sql,003_index.sql" {
		t.Fatalf("up: %+v", rep)
	}
	applied := schema(t, c)
	if !strings.Contains(applied, "appointments_patient_id") || !strings.Contains(applied, "col notes.body") {
		t.Fatalf("schema after up:\n%s", applied)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT note_len(ROW(1, 1, 'abc')::notes)").Scan(&n); err != nil || n != 3 {
		t.Fatalf("function from the up/down pair: %d %v", n, err)
	}

	rep, err = m.DownTo(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Before != 3 || rep.After != 1 || strings.Join(rep.Applied, ",") != "003_index.sql,002_notes.down.sql" {
		t.Fatalf("down to 1: %+v", rep)
	}
	rep, err = m.DownTo(ctx, 0)
	if err != nil || rep.After != 0 {
		t.Fatalf("down to 0: %+v %v", rep, err)
	}
	if got := schema(t, c); got != before {
		t.Fatalf("schema after rollback:\n%s\nwant:\n%s", got, before)
	}
	if v, _ := m.Version(ctx); v != 0 {
		t.Fatalf("version %d after rollback", v)
	}
	// Idempotent: applying again works.
	if rep, err := m.Up(ctx); err != nil || rep.After != 3 {
		t.Fatalf("re-apply: %+v %v", rep, err)
	}
}

// A migration without a down part stops the rollback before anything is undone.
func TestRollbackBlockedByMigrationWithoutDown(t *testing.T) {
	url := pgtest.NewDatabase(t)
	c := pgtest.Connect(t, url)
	m := open(t, url, files(t, map[string]string{
		"001_a.sql":    "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n",
		"002_b.up.sql": "CREATE TABLE b (id int);\n", // no down file
		"003_c.sql":    "-- +goose Up\nCREATE TABLE c (id int);\n-- +goose Down\n-- nothing here\n",
		"004_d.sql":    "-- +goose Up\nCREATE TABLE d (id int);\n-- +goose Down\nDROP TABLE d;\n",
	}), migrate.Options{})
	ctx := context.Background()
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	frozen := schema(t, c)
	rep, err := m.DownTo(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blocking != "003_c.sql" || rep.Before != 4 || rep.After != 4 || len(rep.Applied) != 0 ||
		strings.Join(rep.Irreversible, ",") != "003_c.sql,002_b.up.sql" {
		t.Fatalf("report: %+v", rep)
	}
	if got := schema(t, c); got != frozen {
		t.Fatalf("schema changed:\n%s\nwant:\n%s", got, frozen)
	}
	// Down to a version above the irreversible ones works.
	if rep, err := m.DownTo(ctx, 3); err != nil || rep.After != 3 || rep.Blocking != "" {
		t.Fatalf("down to 3: %+v %v", rep, err)
	}
}

// Two migrators started together: each migration runs exactly once, nothing is left dirty.
func TestConcurrentMigrators(t *testing.T) {
	url := pgtest.NewDatabase(t)
	c := pgtest.Connect(t, url)
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE TABLE runs (version int, pid int)"); err != nil {
		t.Fatal(err)
	}
	dir := files(t, map[string]string{
		"001_a.sql":    "-- +goose Up\nINSERT INTO runs VALUES (1, pg_backend_pid());\nSELECT pg_sleep(0.3);\nCREATE TABLE a (id int);\n",
		"002_b.up.sql": "INSERT INTO runs VALUES (2, pg_backend_pid());\nSELECT pg_sleep(0.3);\nCREATE TABLE b (id int);\n",
		"003_c.sql":    "-- +goose NO TRANSACTION\n-- +goose Up\nINSERT INTO runs VALUES (3, pg_backend_pid());\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n",
	})
	a := open(t, url, dir, migrate.Options{})
	b := open(t, url, dir, migrate.Options{})
	var wg sync.WaitGroup
	reps := make([]migrate.Report, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for i, m := range []*migrate.Migrator{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			reps[i], errs[i] = m.Up(ctx)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrator %d: %v", i, err)
		}
	}
	if len(reps[0].Applied)+len(reps[1].Applied) != 3 || reps[0].After != 3 || reps[1].After != 3 {
		t.Fatalf("reports: %+v / %+v", reps[0], reps[1])
	}
	var runs, versions, distinct, pids, invalid, locks int
	q := `SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM goose_db_version WHERE version_id > 0),
	             (SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0),
	             (SELECT count(DISTINCT pid) FROM runs),
	             (SELECT count(*) FROM pg_index WHERE NOT indisvalid),
	             (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
	                AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`
	if err := c.QueryRow(ctx, q).Scan(&runs, &versions, &distinct, &pids, &invalid, &locks); err != nil {
		t.Fatal(err)
	}
	if runs != 3 || versions != 3 || distinct != 3 || pids != 1 || invalid != 0 || locks != 0 {
		t.Fatalf("runs=%d versions=%d distinct=%d pids=%d invalid=%d advisory-locks=%d", runs, versions, distinct, pids, invalid, locks)
	}
}

// A syntax error: the version stays, the error names the file and the line.
func TestSyntaxErrorNamesFileAndLine(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	m := open(t, url, files(t, map[string]string{
		"001_ok.sql": "-- +goose Up\nCREATE TABLE ok (id int);\n-- +goose Down\nDROP TABLE ok;\n",
		"002_bad.sql": `-- +goose Up
CREATE TABLE fine (id int);

CREATE TABLE broken (
  id int,
  name txet NOT NULL
);
-- +goose Down
DROP TABLE broken;
`,
	}), migrate.Options{})
	rep, err := m.Up(ctx)
	var me *migrate.Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T), want *migrate.Error", err, err)
	}
	if me.File != "002_bad.sql" || me.Line != 6 || !strings.Contains(err.Error(), "002_bad.sql:6") {
		t.Fatalf("error %q: file %s line %d, want 002_bad.sql:6", err, me.File, me.Line)
	}
	if rep.Before != 0 || rep.After != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if v, _ := m.Version(ctx); v != 1 {
		t.Fatalf("version %d, want 1 (002 rolled back)", v)
	}
	c := pgtest.Connect(t, url)
	var fine *string
	if err := c.QueryRow(ctx, "SELECT to_regclass('fine')::text").Scan(&fine); err != nil || fine != nil {
		t.Fatalf("table of the failed migration exists: %v %v", fine, err)
	}

	// The same in an up/down pair, where the whole file is one statement.
	m2 := open(t, url, files(t, map[string]string{
		"001_ok.sql":        "-- +goose Up\nCREATE TABLE ok (id int);\n-- +goose Down\nDROP TABLE ok;\n",
		"002_pair.up.sql":   "-- a comment\nCREATE TABLE p (id int);\nINSERT INTO p VALUES (1);\nSELEC 1;\n",
		"002_pair.down.sql": "DROP TABLE p;\n",
	}), migrate.Options{})
	_, err = m2.Up(ctx)
	if !errors.As(err, &me) || me.File != "002_pair.up.sql" || me.Line != 4 {
		t.Fatalf("pair error %v, want 002_pair.up.sql:4", err)
	}
}

// Another session holds a lock: lock_timeout fires within its setting, the retry succeeds once it is released.
func TestLockTimeoutRetry(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	holder := pgtest.Connect(t, url)
	if _, err := holder.Exec(ctx, "CREATE TABLE busy (id int)"); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE busy IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	const lockTimeout = 300 * time.Millisecond
	m := open(t, url, files(t, map[string]string{
		"001_alter.sql": "-- +goose Up\nALTER TABLE busy ADD COLUMN note text;\n-- +goose Down\nALTER TABLE busy DROP COLUMN note;\n",
	}), migrate.Options{LockTimeout: lockTimeout, RetryBackoff: 400 * time.Millisecond, LockRetries: 6})
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(1200 * time.Millisecond)
		_ = tx.Commit(ctx)
	}()
	rep, err := m.Up(ctx)
	<-released
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Retries) < 2 || rep.After != 1 {
		t.Fatalf("report: %+v", rep)
	}
	for _, r := range rep.Retries {
		t.Logf("attempt %d failed after %s (lock_timeout %s), waited %s", r.Attempt, r.Failed, lockTimeout, r.Waited)
		if r.Failed < lockTimeout || r.Failed > lockTimeout+700*time.Millisecond {
			t.Errorf("attempt %d failed after %s, want about lock_timeout %s", r.Attempt, r.Failed, lockTimeout)
		}
	}
}

// A failed CREATE INDEX CONCURRENTLY leaves an INVALID index; the retry drops it and builds it again.
func TestInvalidIndexDroppedBeforeRetry(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	c := pgtest.Connect(t, url)
	dir := files(t, map[string]string{
		"001_t.sql":         "-- +goose Up\nCREATE TABLE t (v int);\nINSERT INTO t VALUES (1), (1), (2);\n",
		"002_uniq.up.sql":   "-- +goose NO TRANSACTION\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"T_v_Uniq\" ON t (v);\n",
		"002_uniq.down.sql": "DROP INDEX CONCURRENTLY IF EXISTS \"T_v_Uniq\";\n",
	})
	m := open(t, url, dir, migrate.Options{})
	if _, err := m.Up(ctx); err == nil {
		t.Fatal("unique index on duplicates built")
	}
	var valid bool
	if err := c.QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = '"T_v_Uniq"'::regclass`).Scan(&valid); err != nil || valid {
		t.Fatalf("want an INVALID index left behind: valid=%v %v", valid, err)
	}
	if _, err := c.Exec(ctx, "DELETE FROM t WHERE ctid = (SELECT min(ctid) FROM t WHERE v = 1)"); err != nil {
		t.Fatal(err)
	}
	rep, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Dropped, ",") != `"public"."T_v_Uniq"` || rep.After != 2 {
		t.Fatalf("report: %+v", rep)
	}
	if err := c.QueryRow(ctx, `SELECT indisvalid FROM pg_index WHERE indexrelid = '"T_v_Uniq"'::regclass`).Scan(&valid); err != nil || !valid {
		t.Fatalf("index after retry: valid=%v %v", valid, err)
	}
}

// A migrator killed mid-run: its advisory lock is gone within 5 s and a rerun finishes.
func TestKilledMigratorReleasesLock(t *testing.T) {
	if os.Getenv("GOLIVE_MIGRATE_HELPER_URL") != "" {
		helperMigrate(t)
		return
	}
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	holder := pgtest.Connect(t, url)
	watcher := pgtest.Connect(t, url)
	if _, err := holder.Exec(ctx, "CREATE TABLE busy (id int)"); err != nil {
		t.Fatal(err)
	}
	dir := files(t, map[string]string{
		"001_alter.sql": "-- +goose Up\nALTER TABLE busy ADD COLUMN note text;\n-- +goose Down\nALTER TABLE busy DROP COLUMN note;\n",
	})
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE busy IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMigratorReleasesLock$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GOLIVE_MIGRATE_HELPER_URL="+url, "GOLIVE_MIGRATE_HELPER_DIR="+dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Wait until the helper holds the advisory lock and waits on the table lock.
	key := migrate.LockKey(migrate.DefaultTable)
	lockQ := `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
	            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	            AND objid = ($1::bigint & 4294967295)::oid AND classid = (($1::bigint >> 32) & 4294967295)::oid`
	deadline := time.Now().Add(20 * time.Second)
	for {
		var locks, waiting int
		if err := watcher.QueryRow(ctx, lockQ, key).Scan(&locks); err != nil {
			t.Fatal(err)
		}
		if err := watcher.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'golive-migrate' AND wait_event_type = 'Lock' AND datname = current_database()").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if locks == 1 && waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper never got to the table lock (advisory locks %d, waiting %d)", locks, waiting)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = cmd.Wait()
	for {
		var locks int
		if err := watcher.QueryRow(ctx, lockQ, key).Scan(&locks); err != nil {
			t.Fatal(err)
		}
		if locks == 0 {
			break
		}
		if time.Since(killed) > 5*time.Second {
			t.Fatalf("advisory lock still held %s after the kill", time.Since(killed))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("advisory lock released %s after the kill", time.Since(killed).Round(time.Millisecond))
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	m := open(t, url, dir, migrate.Options{LockWait: 5 * time.Second})
	rep, err := m.Up(ctx)
	if err != nil || rep.Before != 0 || rep.After != 1 {
		t.Fatalf("rerun: %+v %v", rep, err)
	}
}

// helperMigrate is the migrator process the test kills.
func helperMigrate(t *testing.T) {
	m := open(t, os.Getenv("GOLIVE_MIGRATE_HELPER_URL"), os.Getenv("GOLIVE_MIGRATE_HELPER_DIR"), migrate.Options{LockTimeout: time.Minute})
	_, err := m.Up(context.Background())
	t.Fatalf("helper migrator was not killed: %v", err)
}
