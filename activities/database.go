package activities

import (
	"context"
	"log/slog"
)

// Database holds the target database's clients: migrations, database readiness
// checks and backup verification. The PostgreSQL integration fills these in;
// until a database is configured each step says so and never passes.
type Database struct {
	Logger *slog.Logger
}

// CheckDatabase runs a database readiness check (postgres.*, backup, sql kinds).
func (d *Database) CheckDatabase(ctx context.Context, in CheckInput) (Result, error) {
	return Result{State: StateUnavailable, Detail: "not configured: " + in.Check.Kind + " checks arrive with the PostgreSQL integration"}, nil
}

// Migrate applies pending migrations and records the schema version before and after.
func (d *Database) Migrate(ctx context.Context, in MigrateInput) (MigrateResult, error) {
	if in.Database.Migrations == "" {
		return MigrateResult{Result: Result{State: StateSkipped, Value: "no migrations in the spec"}}, nil
	}
	return MigrateResult{Result: Result{State: StateUnavailable, Detail: "not configured: migrations arrive with the PostgreSQL integration"}}, nil
}

// MigrateDown migrates down to in.TargetVersion.
func (d *Database) MigrateDown(ctx context.Context, in MigrateInput) (MigrateResult, error) {
	return MigrateResult{Result: Result{State: StateUnavailable, Detail: "not configured: migrations arrive with the PostgreSQL integration"}}, nil
}

// VerifyBackup verifies the latest backup by restoring it.
func (d *Database) VerifyBackup(ctx context.Context, in BackupInput) (Result, error) {
	if in.Backup.Type == "" || in.Backup.Type == "none" {
		return Result{State: StateSkipped, Value: "backup type none in the spec"}, nil
	}
	return Result{State: StateUnavailable, Detail: "not configured: " + in.Backup.Type + " backup verification arrives with its integration"}, nil
}
