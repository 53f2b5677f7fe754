package activities_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// dbCheck runs a database check with database.url (and pooler_url) given as env:// references.
func runDBCheck(t *testing.T, c spec.Check, urls map[string]string) activities.Result {
	t.Helper()
	d := &activities.Database{Logger: quiet(), Secrets: &secrets.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := urls[k]; return v, ok }}}
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(20 * time.Second)
	}
	r, err := d.CheckDatabase(context.Background(), activities.CheckInput{ReleaseID: "r1", ItemID: "item", Check: c})
	if err != nil {
		t.Fatalf("CheckDatabase(%s): %v", c.Kind, err)
	}
	return r
}

func TestPingIsARealSQLRoundTrip(t *testing.T) {
	url := pgtest.NewDatabase(t)
	r := runDBCheck(t, spec.Check{Kind: "postgres.ping", Database: &spec.Database{URL: "env://DB"}}, map[string]string{"DB": url})
	wantState(t, "ping", r, record.ItemPassed, "")
	if !strings.HasPrefix(r.Value, "PostgreSQL 1") || !strings.Contains(r.Value, "round trip") {
		t.Errorf("value = %q", r.Value)
	}
	r = runDBCheck(t, spec.Check{Kind: "postgres.ping", Database: &spec.Database{URL: "env://DB"}}, map[string]string{})
	wantState(t, "unset url", r, record.ItemUnavailable, "env://DB")
}

func TestPgAuditFailsWhenItIsNotLoaded(t *testing.T) {
	url := pgtest.NewDatabase(t) // the shared server runs without pgaudit
	r := runDBCheck(t, spec.Check{Kind: "postgres.pgaudit", Schemas: []string{"public"}, Database: &spec.Database{URL: "env://DB"}}, map[string]string{"DB": url})
	wantState(t, "not loaded", r, record.ItemFailed, "PHI access is not audited")
}

// A private server with pgaudit preloaded (Debian's postgresql-15-pgaudit):
// session logging of reads and writes passes; DDL-only logging fails unless
// object logging through pgaudit.role covers every table.
func TestPgAuditPassesWhenItsSettingsCoverTheSchemas(t *testing.T) {
	server := pgtest.StartCluster(t, map[string]string{"shared_preload_libraries": "pgaudit", "pgaudit.log": "'read,write,ddl'"})
	conn := pgtest.Connect(t, server)
	ctx := context.Background()
	for _, q := range []string{"CREATE EXTENSION pgaudit", "CREATE TABLE patients (id int)", "CREATE TABLE notes (id int)", "CREATE ROLE auditor NOLOGIN"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	urls := map[string]string{"DB": server}
	c := spec.Check{Kind: "postgres.pgaudit", Schemas: []string{"public"}, Database: &spec.Database{URL: "env://DB"}}
	r := runDBCheck(t, c, urls)
	wantState(t, "session logging", r, record.ItemPassed, "")
	if !strings.Contains(r.Value, `pgaudit.log = "read,write,ddl": session logging of reads and writes covers public`) {
		t.Errorf("value = %q", r.Value)
	}
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET pgaudit.log = 'ddl'"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		t.Fatal(err)
	}
	waitSetting(t, server, "pgaudit.log", "ddl")
	wantState(t, "ddl only", runDBCheck(t, c, urls), record.ItemFailed, "logs neither read nor write")
	for _, q := range []string{"ALTER SYSTEM SET pgaudit.role = 'auditor'", "SELECT pg_reload_conf()", "GRANT SELECT, INSERT, UPDATE, DELETE ON patients TO auditor"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	waitSetting(t, server, "pgaudit.role", "auditor")
	wantState(t, "object logging misses a table", runDBCheck(t, c, urls), record.ItemFailed, "does not cover: public.notes")
	if _, err := conn.Exec(ctx, "GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO auditor"); err != nil {
		t.Fatal(err)
	}
	wantState(t, "object logging covers all", runDBCheck(t, c, urls), record.ItemPassed, "")
}

func waitSetting(t *testing.T, url, name, want string) {
	t.Helper()
	for range 100 {
		c := pgtest.Connect(t, url)
		var v string
		_ = c.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&v)
		c.Close(context.Background())
		if v == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became %q", name, want)
}

// A real PgBouncer (Debian's pgbouncer) in front of the test server.
func TestPgBouncerPassesWhenThePoolerServesAPool(t *testing.T) {
	db := pgtest.NewDatabase(t)
	b := pgtest.StartPgBouncer(t)
	name := db[strings.LastIndex(db, "/")+1 : strings.Index(db, "?")]
	urls := map[string]string{"POOLER": b.AdminURL}
	c := spec.Check{Kind: "pgbouncer", Database: &spec.Database{PoolerURL: "env://POOLER"}}
	wantState(t, "no pool yet", runDBCheck(t, c, urls), record.ItemFailed, "serves no database pool yet")
	client := pgtest.Connect(t, b.PoolURL(name)) // a client through the pooler opens the pool
	if _, err := client.Exec(context.Background(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	r := runDBCheck(t, c, urls)
	wantState(t, "pool served", r, record.ItemPassed, "")
	if want := "pool_mode transaction, default_pool_size 5, max_client_conn 50, 1 pool(s): " + name + "/postgres"; r.Value != want {
		t.Errorf("value = %q, want %q", r.Value, want)
	}
}

func TestPgBouncerFailsWhenThePoolerURLIsNotAPooler(t *testing.T) {
	urls := map[string]string{"POOLER": pgtest.NewDatabase(t)}
	r := runDBCheck(t, spec.Check{Kind: "pgbouncer", Database: &spec.Database{PoolerURL: "env://POOLER"}}, urls)
	wantState(t, "plain PostgreSQL", r, record.ItemFailed, "SHOW CONFIG")
}

// catalog writes a script that prints a backup catalog, as pgbackrest or wal-g would.
func catalog(t *testing.T, json string) []string {
	p := filepath.Join(t.TempDir(), "catalog.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\ncat <<'EOF'\n"+json+"\nEOF\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{p}
}

func TestBackupCatalogPassesWhenTheNewestBackupIsYoungerThanMaxAge(t *testing.T) {
	stop := time.Now().Add(-3 * time.Hour).Unix()
	pgbackrest := fmt.Sprintf(`[{"name": "main", "status": {"code": 0}, "backup": [
	 {"label": "20261205-010000F", "type": "full", "error": false, "timestamp": {"start": %d, "stop": %d}},
	 {"label": "20261206-010000I", "type": "incr", "error": true, "timestamp": {"start": %d, "stop": %d}}]}]`, stop-7200-86400, stop-86400, stop-60, stop)
	c := spec.Check{Kind: "backup.catalog", MaxAge: spec.Duration(24 * time.Hour), Backup: &spec.Backup{CatalogCommand: catalog(t, pgbackrest)}}
	// The newest backup failed (error: true); the one before it is 27 h old.
	wantState(t, "pgbackrest, newest failed", runDBCheck(t, c, nil), record.ItemFailed, "older than 24h0m0s")
	c.MaxAge = spec.Duration(48 * time.Hour)
	r := runDBCheck(t, c, nil)
	wantState(t, "pgbackrest", r, record.ItemPassed, "")
	if !strings.HasPrefix(r.Value, "pgbackrest: newest of 1 backups main/20261205-010000F") {
		t.Errorf("value = %q", r.Value)
	}
	walg := fmt.Sprintf(`[{"backup_name": "base_000000010000000000000004", "time": %q, "finish_time": %q}]`,
		time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339), time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	c = spec.Check{Kind: "backup.catalog", MaxAge: spec.Duration(24 * time.Hour), Backup: &spec.Backup{CatalogCommand: catalog(t, walg)}}
	r = runDBCheck(t, c, nil)
	wantState(t, "wal-g", r, record.ItemPassed, "")
	if !strings.Contains(r.Value, "(1h0m0s ago)") {
		t.Errorf("value = %q", r.Value)
	}
	c.Backup.CatalogCommand = catalog(t, `[]`)
	wantState(t, "no backups", runDBCheck(t, c, nil), record.ItemFailed, "no successful backup")
	c.Backup.CatalogCommand = []string{"false"}
	wantState(t, "command fails", runDBCheck(t, c, nil), record.ItemFailed, "exit status 1")
}
