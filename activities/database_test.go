package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/testsuite"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

const demoMigrations = "../examples/migrations/demo"

// dbFixture is a fresh database reached through an env:// reference.
func dbFixture(t *testing.T, migrations string) (*activities.Database, spec.Database, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	env := map[string]string{"TARGET_DB": url}
	d := &activities.Database{Secrets: &secrets.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	db := spec.Database{URL: "env://TARGET_DB", Migrations: migrations,
		LockTimeout: spec.Duration(5 * time.Second), StatementTimeout: spec.Duration(time.Minute)}
	return d, db, url
}

func dbCheck(kind string, db spec.Database, mod func(*spec.Check)) activities.CheckInput {
	c := spec.Check{Kind: kind, Database: &db, Timeout: spec.Duration(20 * time.Second)}
	if mod != nil {
		mod(&c)
	}
	return activities.CheckInput{ReleaseID: "release:demo:test", ItemID: "db", Check: c}
}

// The demo migrations through the activities, in a Temporal activity
// environment (heartbeats on): apply, check, roll back to the recorded version.
func TestDatabaseMigrateCheckRollback(t *testing.T) {
	dir := t.TempDir()
	if err := migrate.Stage(demoMigrations, dir, 3); err != nil {
		t.Fatal(err)
	}
	d, db, _ := dbFixture(t, dir)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)

	val, err := env.ExecuteActivity(d.Migrate, activities.MigrateInput{ReleaseID: "r1", Database: db})
	if err != nil {
		t.Fatal(err)
	}
	var res activities.MigrateResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.State != record.ItemPassed || res.Before != 0 || res.After != 3 || len(res.Applied) != 3 {
		t.Fatalf("migrate: %+v", res)
	}
	t.Logf("migrate: %s — %s", res.Value, res.Detail)

	// The bad release ships 004; its rollback goes back to 3.
	if err := migrate.Stage(demoMigrations, dir, 4); err != nil {
		t.Fatal(err)
	}
	if res, err := d.Migrate(context.Background(), activities.MigrateInput{Database: db}); err != nil || res.Before != 3 || res.After != 4 {
		t.Fatalf("migrate 004: %+v %v", res, err)
	}

	ctx := context.Background()
	for _, tc := range []struct {
		kind  string
		state record.ItemState
	}{
		{"postgres.pending_migrations", record.ItemPassed},
		{"postgres.rls", record.ItemPassed},
		{"postgres.fk_indexes", record.ItemPassed},
		{"postgres.connections", record.ItemPassed},
		{"postgres.slow_queries", record.ItemUnavailable}, // pg_stat_statements is not loaded here
	} {
		r, err := d.CheckDatabase(ctx, dbCheck(tc.kind, db, nil))
		if err != nil || r.State != tc.state {
			t.Errorf("%s: %+v %v, want %s", tc.kind, r, err, tc.state)
		}
		t.Logf("%s: %s %s %s", tc.kind, r.State, r.Value, r.Detail)
	}
	r, err := d.CheckDatabase(ctx, dbCheck("backup", db, func(c *spec.Check) { c.Backup = &spec.Backup{Type: "postgres"} }))
	if err != nil || r.State != record.ItemPassed {
		t.Fatalf("backup check: %+v %v", r, err)
	}
	r, err = d.CheckDatabase(ctx, dbCheck("sql", db, func(c *spec.Check) { c.Query = "SELECT count(*) = 500 FROM patients" }))
	if err != nil || r.State != record.ItemPassed {
		t.Fatalf("sql check: %+v %v", r, err)
	}
	// Checks connect read-only.
	r, err = d.CheckDatabase(ctx, dbCheck("sql", db, func(c *spec.Check) { c.Query = "DELETE FROM patients RETURNING id" }))
	if err != nil || r.State != record.ItemFailed || !strings.Contains(r.Detail, "read-only") {
		t.Fatalf("sql check writing: %+v %v", r, err)
	}

	val, err = env.ExecuteActivity(d.MigrateDown, activities.MigrateInput{ReleaseID: "r2", Database: db, TargetVersion: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.State != record.ItemPassed || res.Before != 4 || res.After != 3 || res.Blocking != "" {
		t.Fatalf("migrate down: %+v", res)
	}
	// After the rollback, 004 is pending again: above the schema version, reversible,
	// so it is "to apply at T-0", not a gap.
	if r, _ := d.CheckDatabase(ctx, dbCheck("postgres.pending_migrations", db, nil)); r.State != record.ItemPassed || !regexp.MustCompile(`to apply at T-0: 004_clinical_notes.up.sql sha256:[0-9a-f]{12}`).MatchString(r.Detail) {
		t.Fatalf("pending after rollback: %+v", r)
	}
}

func TestDatabaseRollbackBlocked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "001_a.sql"), []byte("-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "002_b.up.sql"), []byte("CREATE TABLE b (id int);\n"), 0o644)
	d, db, _ := dbFixture(t, dir)
	ctx := context.Background()
	if res, err := d.Migrate(ctx, activities.MigrateInput{Database: db}); err != nil || res.After != 2 {
		t.Fatalf("migrate: %+v %v", res, err)
	}
	res, err := d.MigrateDown(ctx, activities.MigrateInput{Database: db, TargetVersion: 0})
	if err != nil || res.Blocking != "002_b.up.sql" || res.State != record.ItemFailed || res.Before != 2 || res.After != 2 {
		t.Fatalf("migrate down: %+v %v", res, err)
	}
	t.Logf("%s — %s", res.Value, res.Detail)

	// A syntax error is a failed result naming file and line, not a retried error.
	os.WriteFile(filepath.Join(dir, "003_c.sql"), []byte("-- +goose Up\nCREATE TABLE c (id int);\nCREAT TABLE d (id int);\n"), 0o644)
	res, err = d.Migrate(ctx, activities.MigrateInput{Database: db})
	if err != nil || res.State != record.ItemFailed || !strings.Contains(res.Detail, "003_c.sql:3") || res.After != 2 {
		t.Fatalf("syntax error: %+v %v", res, err)
	}
}

func TestVerifyBackupActivity(t *testing.T) {
	dir := t.TempDir()
	if err := migrate.Stage(demoMigrations, dir, 3); err != nil {
		t.Fatal(err)
	}
	d, db, _ := dbFixture(t, dir)
	ctx := context.Background()
	if _, err := d.Migrate(ctx, activities.MigrateInput{Database: db}); err != nil {
		t.Fatal(err)
	}
	in := activities.BackupInput{ReleaseID: "r", Phase: "pre-deploy", Database: db,
		Backup: spec.Backup{Type: "postgres", ChecksumTables: []string{"patients", "appointments"}}}
	r := inActivityEnv(t, d, d.VerifyBackup, in)
	if r.State != record.ItemPassed || !strings.Contains(r.Value, "2 checksums; restore matches") {
		t.Fatalf("verify: %+v", r)
	}
	t.Logf("%s\n%s", r.Value, r.Detail)

	in.Backup.ChecksumTables = []string{"no_such_table"}
	// A checksum table the database does not have yet (created at T-0) is named, not failed.
	if r, err := d.VerifyBackup(ctx, in); err != nil || r.State != record.ItemPassed || !strings.Contains(r.Value, "not in the source yet, not compared: no_such_table") {
		t.Fatalf("absent checksum table: %+v %v", r, err)
	}
	in.Backup.Type = "none"
	if r, err := d.VerifyBackup(ctx, in); err != nil || r.State != record.ItemSkipped {
		t.Fatalf("type none: %+v %v", r, err)
	}
}

// Errors never carry the password of the database URL.
func TestDatabaseErrorsHideThePassword(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	env := map[string]string{
		"BAD_DB":    "postgres://postgres:" + pw + "@127.0.0.1:5432/golive_no_such_database_x?sslmode=disable",
		"BROKEN_DB": "postgres://postgres:" + pw + "@127.0.0.1:notaport/db",
	}
	d := &activities.Database{Secrets: &secrets.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	ctx := context.Background()
	for _, ref := range []string{"env://BAD_DB", "env://BROKEN_DB", "env://MISSING_DB"} {
		db := spec.Database{URL: ref, Migrations: demoMigrations, LockTimeout: spec.Duration(time.Second)}
		var texts []string
		res, err := d.Migrate(ctx, activities.MigrateInput{Database: db})
		texts = append(texts, res.Detail, errString(err))
		r, err := d.CheckDatabase(ctx, dbCheck("postgres.rls", db, nil))
		texts = append(texts, r.Detail, errString(err))
		r, err = d.VerifyBackup(ctx, activities.BackupInput{Database: db, Backup: spec.Backup{Type: "postgres"}})
		texts = append(texts, r.Detail, errString(err))
		all := strings.Join(texts, " | ")
		if strings.Contains(all, pw) {
			t.Fatalf("%s: password in %q", ref, all)
		}
		if !strings.Contains(all, ref) && ref != "env://BAD_DB" {
			t.Errorf("%s: messages do not name the reference: %q", ref, all)
		}
		t.Logf("%s: %s", ref, all)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestAuditAppend(t *testing.T) {
	url := pgtest.NewDatabase(t)
	admin := pgtest.Connect(t, url)
	dbName := admin.Config().Database
	writer := "golive_audit_writer_" + strings.TrimPrefix(dbName, "golive_test_")
	t.Cleanup(func() { // roles are server-wide: drop the database (its grants) first, then the role
		pgtest.Drop(t, dbName)
		if c, err := pgx.Connect(context.Background(), pgtest.ServerURL()); err == nil {
			_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+writer)
			c.Close(context.Background())
		}
	})
	if err := audit.Init(context.Background(), admin, audit.InitOptions{Writer: writer}); err != nil {
		t.Fatal(err)
	}
	a := &activities.Audit{URL: "env://LEDGER", Secrets: &secrets.Resolver{LookupEnv: func(string) (string, bool) { return url, true }}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	in := activities.AppendInput{ReleaseID: "release:demo:test", Events: []audit.Event{
		{At: time.Now(), Kind: audit.KindStage, Actor: "golive", Action: "readiness"},
		{At: time.Now(), Kind: audit.KindApproval, Actor: "alice", Action: "rejected", Reason: "load test missing", Data: map[string]string{"slot": "development_lead"}},
	}}
	v, err := env.ExecuteActivity(a.Append, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.AppendResult
	if err := v.Get(&res); err != nil || res.Rows != 2 || len(res.Head) != 64 {
		t.Fatalf("append result %+v %v: want 2 rows and a SHA-256 chain head", res, err)
	}
	// Each row carries its idempotency key (run/activity/index): a retried Append adds nothing (see internal/audit).
	var n, keyed int
	if err := admin.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE key ~ '/[01]$') FROM golive_audit`).Scan(&n, &keyed); err != nil || n != 2 || keyed != 2 {
		t.Fatalf("rows %d, keyed %d, %v", n, keyed, err)
	}
	if _, err := (&activities.Audit{}).Append(context.Background(), in); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("unconfigured ledger: %v", err)
	}
}
