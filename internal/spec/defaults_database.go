package spec

import "time"

// Defaults of the PostgreSQL integration.
const (
	// DefaultVersionTable is the migration version table (goose's).
	DefaultVersionTable = "goose_db_version"
	// DefaultLockRetries is how often a migration that hit lock_timeout is retried.
	DefaultLockRetries = 5
	// DefaultRetryBackoff is the first wait before such a retry.
	DefaultRetryBackoff = time.Second
	// DefaultLockWait bounds the wait for another release's migration lock.
	DefaultLockWait = 5 * time.Minute
	// DefaultRestoreJobs is pg_restore's parallelism: 1 streams pg_dump into pg_restore.
	DefaultRestoreJobs = 1
	// DefaultSlowQueryMean is the checklist's "slow queries < 500ms".
	DefaultSlowQueryMean = 500 * time.Millisecond
)

// databaseDefaults fills the database and backup settings, and gives every
// database check (postgres.*, sql, backup) its target: the spec's database and
// backup sections for the fields the item does not set, the connection limit
// from thresholds.critical.db_connections and the slow-query mean of the checklist.
// It runs after the item lists are merged and the thresholds filled.
func databaseDefaults(s *Spec) {
	or(&s.Database.LockRetries, DefaultLockRetries)
	or(&s.Database.RetryBackoff, dur(DefaultRetryBackoff))
	or(&s.Database.LockWait, dur(DefaultLockWait))
	or(&s.Database.VersionTable, DefaultVersionTable)
	if s.Backup.Type == "postgres" {
		or(&s.Backup.Jobs, DefaultRestoreJobs)
	}
	for _, items := range [][]Item{s.Readiness.Items, s.Prepare.Items, s.Review.Items, s.Rollback.ActionItems} {
		for i := range items {
			c := items[i].Auto
			if c == nil || !IsDatabaseCheck(c.Kind) {
				continue
			}
			db := s.Database
			if c.Database != nil {
				db = mergeDatabase(*c.Database, s.Database)
			}
			c.Database = &db
			if k := c.CheckKind(); k == KindBackup || k == KindBackupCatalog {
				b := s.Backup
				if c.Backup != nil {
					b = *c.Backup
					or(&b.Type, s.Backup.Type)
					or(&b.ScratchURL, s.Backup.ScratchURL)
					or(&b.Jobs, s.Backup.Jobs)
				}
				b.ChecksumTables = append([]string(nil), b.ChecksumTables...)
				c.Backup = &b
			}
			switch c.Kind {
			case "postgres.connections":
				or(&c.MaxPercent, s.Thresholds.Critical.DBConnections)
			case "postgres.slow_queries":
				or(&c.MaxMean, dur(DefaultSlowQueryMean))
			}
		}
	}
}

// mergeDatabase fills the zero fields of an item's database from the spec's.
func mergeDatabase(db, d Database) Database {
	or(&db.URL, d.URL)
	or(&db.Migrations, d.Migrations)
	or(&db.LockTimeout, d.LockTimeout)
	or(&db.StatementTimeout, d.StatementTimeout)
	or(&db.LockRetries, d.LockRetries)
	or(&db.RetryBackoff, d.RetryBackoff)
	or(&db.LockWait, d.LockWait)
	or(&db.VersionTable, d.VersionTable)
	return db
}
