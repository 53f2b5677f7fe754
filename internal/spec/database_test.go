package spec_test

import (
	"testing"
	"time"

	"github.com/golive/golive/internal/spec"
)

// Database checks get their target and limits from the spec's sections.
func TestDatabaseCheckDefaults(t *testing.T) {
	l, err := spec.Load("../../examples/healthcare-production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	if s.Database.LockRetries != 5 || s.Database.RetryBackoff.D() != time.Second || s.Database.LockWait.D() != 5*time.Minute ||
		s.Database.VersionTable != "goose_db_version" || s.Backup.Jobs != 1 {
		t.Fatalf("database %+v backup %+v", s.Database, s.Backup)
	}
	seen := map[string]bool{}
	for _, it := range s.Readiness.Items {
		c := it.Auto
		if c == nil || !spec.IsDatabaseCheck(c.Kind) {
			continue
		}
		seen[c.Kind] = true
		if c.Database == nil || c.Database.URL != "env://DATABASE_URL" || c.Database.Migrations != s.Database.Migrations {
			t.Errorf("%s: database %+v", it.ID, c.Database)
		}
		switch c.Kind {
		case "postgres.connections":
			if c.MaxPercent != s.Thresholds.Critical.DBConnections || c.MaxPercent != 80 {
				t.Errorf("%s: max_percent %v", it.ID, c.MaxPercent)
			}
		case "postgres.slow_queries":
			if c.MaxMean.D() != 500*time.Millisecond {
				t.Errorf("%s: max_mean %v", it.ID, c.MaxMean)
			}
		case "pgbouncer":
			if c.Database.PoolerURL != "env://PGBOUNCER_ADMIN_URL" {
				t.Errorf("%s: pooler %q", it.ID, c.Database.PoolerURL)
			}
		case "backup.catalog":
			if c.Backup == nil || c.Backup.Type != "postgres" || len(c.Backup.ChecksumTables) != 3 || len(c.Backup.CatalogCommand) != 4 {
				t.Errorf("%s: backup %+v", it.ID, c.Backup)
			}
		}
	}
	for _, k := range []string{"postgres.ping", "postgres.pending_migrations", "postgres.rls", "postgres.fk_indexes", "pgbouncer", "postgres.slow_queries", "postgres.pgaudit", "sql", "backup.catalog"} {
		if !seen[k] {
			t.Errorf("no %s item", k)
		}
	}
}
