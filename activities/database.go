package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/backup"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgcheck"
	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// Database holds the target database's clients: migrations (goose v3 over pgx
// v5, one dedicated connection under an advisory lock), the database readiness
// checks and backup verification. The database URL comes from the spec as a
// reference (env://, secret://) resolved here; messages never carry the password.
type Database struct {
	Logger *slog.Logger
	// Secrets resolves database URL references; nil resolves env:// only.
	Secrets *secrets.Resolver
	// PgDump and PgRestore are the PostgreSQL client tools (default: found on PATH).
	PgDump, PgRestore string
	// TempDir receives backup dumps (default: the system's temporary directory).
	TempDir string
	// VerifyRDS and CheckRDS handle backup type rds (the AWS integration); when
	// nil, rds backups are unavailable here.
	VerifyRDS func(ctx context.Context, in BackupInput) (Result, error)
	CheckRDS  func(ctx context.Context, in CheckInput) (Result, error)
	// HeartbeatNow records a heartbeat on the server at once (ServerHeartbeat);
	// nil uses the SDK's batched heartbeat. The schema version before migrating
	// goes this way, so a retry after a crash still knows it.
	HeartbeatNow func(context.Context, ...any)
}

func (d *Database) logger() *slog.Logger {
	if d != nil && d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// config resolves a database reference. A missing variable or secret is not
// configured (non-retryable); the error names the reference only.
func (d *Database) config(ctx context.Context, ref string) (*pgx.ConnConfig, error) {
	cfg, err := pgutil.Config(ctx, d.Secrets, ref)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("not configured: "+err.Error(), ErrNotConfigured, nil)
	}
	return cfg, nil
}

// migrateProgress is the heartbeat of a migration: the version recorded before
// the first attempt survives a retry of the activity, so a migration that
// succeeded just before the worker died is still undone by the rollback.
type migrateProgress struct {
	Before int64  `json:"before"`
	Known  bool   `json:"known"`
	Step   string `json:"step"`
}

type migrateBeat struct {
	ctx  context.Context
	beat func(context.Context, ...any)
	mu   sync.Mutex
	p    migrateProgress
}

func newMigrateBeat(ctx context.Context, beat func(context.Context, ...any)) *migrateBeat {
	if beat == nil {
		beat = heartbeat
	}
	b := &migrateBeat{ctx: ctx, beat: beat}
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &b.p)
	}
	return b
}

func (b *migrateBeat) step(s string) {
	b.mu.Lock()
	b.p.Step = s
	p := b.p
	b.mu.Unlock()
	heartbeat(b.ctx, p)
}

// locked records the version read under the migration lock, unless an earlier
// attempt of this activity already did.
func (b *migrateBeat) locked(v int64) {
	b.mu.Lock()
	if !b.p.Known {
		b.p.Before, b.p.Known = v, true
	}
	p := b.p
	b.mu.Unlock()
	b.beat(b.ctx, p)
}

// before is the version before the first attempt, or rep's when none was recorded.
func (b *migrateBeat) before(rep int64) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.p.Known {
		return b.p.Before
	}
	return rep
}

func (d *Database) migrator(ctx context.Context, db spec.Database, beat *migrateBeat) (*migrate.Migrator, error) {
	cfg, err := d.config(ctx, db.URL)
	if err != nil {
		return nil, err
	}
	set, err := migrate.Load(db.Migrations)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrBadInput, nil)
	}
	m, err := migrate.Open(ctx, cfg, set, migrate.Options{
		LockTimeout:      db.LockTimeout.D(),
		StatementTimeout: db.StatementTimeout.D(),
		LockRetries:      db.LockRetries,
		RetryBackoff:     db.RetryBackoff.D(),
		LockWait:         db.LockWait.D(),
		Table:            db.VersionTable,
		Logger:           d.logger(),
		Progress:         beat.step,
		Locked:           beat.locked,
	})
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(pgutil.Redact(err, cfg).Error(), ErrBadInput, nil)
	}
	return m, nil
}

// Migrate applies pending migrations and records the schema version before and
// after. A failing migration is a failed result naming file and line (after the
// lock_timeout retries); the version is then wherever the last good migration left it.
func (d *Database) Migrate(ctx context.Context, in MigrateInput) (MigrateResult, error) {
	if in.Database.Migrations == "" {
		return MigrateResult{Result: Result{State: record.ItemSkipped, Value: "no migrations in the spec"}}, nil
	}
	beat := newMigrateBeat(ctx, d.HeartbeatNow)
	m, err := d.migrator(ctx, in.Database, beat)
	if err != nil {
		return MigrateResult{}, err
	}
	defer m.Close()
	rep, err := m.Up(ctx)
	return d.migrateResult(ctx, rep, err, beat, true)
}

// MigrateDown migrates down to in.TargetVersion. When a migration above the
// target has no down part nothing is rolled back: Blocking names it and the
// schema stays as it is, for the workflow to freeze and escalate.
func (d *Database) MigrateDown(ctx context.Context, in MigrateInput) (MigrateResult, error) {
	if in.Database.Migrations == "" {
		return MigrateResult{Result: Result{State: record.ItemSkipped, Value: "no migrations in the spec"}}, nil
	}
	beat := newMigrateBeat(ctx, d.HeartbeatNow)
	m, err := d.migrator(ctx, in.Database, beat)
	if err != nil {
		return MigrateResult{}, err
	}
	defer m.Close()
	rep, err := m.DownTo(ctx, in.TargetVersion)
	res, err := d.migrateResult(ctx, rep, err, beat, false)
	if err == nil && rep.Blocking != "" {
		res.State = record.ItemFailed
		res.Blocking = rep.Blocking
		res.Value = fmt.Sprintf("schema version %d kept (target %d)", rep.After, in.TargetVersion)
		res.Detail = fmt.Sprintf("migration %s has no down part: nothing was rolled back", rep.Blocking)
		if len(rep.Irreversible) > 1 {
			res.Detail += "; also without a down part: " + strings.Join(rep.Irreversible[1:], ", ")
		}
	}
	return res, err
}

func (d *Database) migrateResult(ctx context.Context, rep migrate.Report, err error, beat *migrateBeat, up bool) (MigrateResult, error) {
	verb := "applied"
	if !up {
		verb = "rolled back"
	}
	res := MigrateResult{Before: beat.before(rep.Before), After: rep.After, Applied: rep.Applied}
	var notes []string
	if len(rep.Applied) > 0 {
		notes = append(notes, verb+": "+strings.Join(rep.Applied, ", "))
	}
	for _, r := range rep.Retries {
		notes = append(notes, fmt.Sprintf("%s hit lock_timeout after %s (attempt %d), retried after %s", r.File, r.Failed.Round(time.Millisecond), r.Attempt, r.Waited))
	}
	if len(rep.Dropped) > 0 {
		notes = append(notes, "dropped INVALID index(es) left by a failed CREATE INDEX CONCURRENTLY: "+strings.Join(rep.Dropped, ", "))
	}
	var me *migrate.Error
	switch {
	case err == nil:
		res.State = record.ItemPassed
		res.Value = fmt.Sprintf("schema version %d → %d (%d %s in %s)", res.Before, res.After, len(rep.Applied), verb, rep.Duration.Round(time.Millisecond))
		res.Detail = strings.Join(notes, "; ")
		d.logger().Info("migrations "+verb, "before", res.Before, "after", res.After, "files", rep.Applied, "blocking", rep.Blocking)
		return res, nil
	case errors.As(err, &me), errors.Is(err, migrate.ErrLockBusy):
		res.State = record.ItemFailed
		res.Value = fmt.Sprintf("schema version %d → %d, stopped", res.Before, res.After)
		res.Detail = strings.Join(append([]string{err.Error()}, notes...), "; ")
		return res, nil
	case ctx.Err() != nil || transient(err):
		return res, fmt.Errorf("migrations: %w", err) // retried by Temporal
	}
	// Anything else (versions applied out of order, a version table goose cannot
	// read...) will not get better by retrying.
	res.State = record.ItemFailed
	res.Value = fmt.Sprintf("schema version %d → %d, stopped", res.Before, res.After)
	res.Detail = strings.Join(append([]string{err.Error()}, notes...), "; ")
	return res, nil
}

// transient reports connection-level errors that a retry may cure.
func transient(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &pgErr):
		// Connection and resource classes: 08 connection exception, 53 insufficient resources, 57P admin shutdown.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "53") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "bad connection")
}

// CheckDatabase runs a database readiness check: postgres.ping,
// postgres.pending_migrations, postgres.rls, postgres.fk_indexes,
// postgres.connections, postgres.slow_queries, postgres.pgaudit, sql, backup,
// backup.catalog and pgbouncer (which connects to database.pooler_url). It connects read-only with the check's timeout as
// statement_timeout; a check that cannot look is unavailable, never passed.
func (d *Database) CheckDatabase(ctx context.Context, in CheckInput) (Result, error) {
	c := in.Check
	timeout := c.Timeout.D()
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch c.CheckKind() {
	case spec.KindBackup:
		return d.checkBackup(ctx, in)
	case spec.KindBackupCatalog:
		return checkCatalog(ctx, in.Check), nil
	case spec.KindPgBouncer:
		return d.checkPgBouncer(ctx, c)
	}
	if c.Database == nil || c.Database.URL == "" {
		return Result{State: record.ItemUnavailable, Detail: "not configured: database.url is not set for " + c.Kind}, nil
	}
	cfg, err := pgutil.Config(ctx, d.Secrets, c.Database.URL)
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: "not configured: " + err.Error()}, nil
	}
	cfg = cfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	cfg.RuntimeParams["statement_timeout"] = fmt.Sprintf("%dms", timeout.Milliseconds())
	cfg.RuntimeParams["application_name"] = "golive-check"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Result{}, pgutil.Redact(fmt.Errorf("%s: connect to %s: %w", c.Kind, pgutil.Describe(c.Database.URL), err), cfg)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var r pgcheck.Result
	switch c.Kind {
	case "postgres.pending_migrations":
		return d.checkPending(ctx, conn, *c.Database)
	case "postgres.rls":
		r, err = pgcheck.RLS(ctx, conn, c.Schemas, []string{versionTable(*c.Database)})
	case "postgres.fk_indexes":
		r, err = pgcheck.FKIndexes(ctx, conn, c.Schemas)
	case "postgres.connections":
		limit := float64(c.MaxPercent)
		if limit <= 0 {
			limit = 80
		}
		r, err = pgcheck.Connections(ctx, conn, limit)
	case "postgres.slow_queries":
		mean := c.MaxMean.D()
		if mean <= 0 {
			mean = spec.DefaultSlowQueryMean
		}
		r, err = pgcheck.SlowQueries(ctx, conn, mean)
	case "sql":
		r, err = pgcheck.SQL(ctx, conn, c.Query)
	case string(spec.KindPing):
		return ping(ctx, conn)
	case string(spec.KindPgAudit):
		return pgAudit(ctx, conn, c.Schemas)
	default:
		return Result{State: record.ItemUnavailable, Detail: "not a database check: " + c.Kind}, nil
	}
	if err != nil {
		return Result{}, pgutil.Redact(fmt.Errorf("%s: %w", c.Kind, err), cfg)
	}
	return Result{State: r.State, Value: r.Value, Detail: r.Detail}, nil
}

func versionTable(db spec.Database) string {
	if db.VersionTable != "" {
		return db.VersionTable
	}
	return migrate.DefaultTable
}

// checkPending passes when every migration of the directory is applied.
func (d *Database) checkPending(ctx context.Context, conn *pgx.Conn, db spec.Database) (Result, error) {
	if db.Migrations == "" {
		return Result{State: record.ItemSkipped, Value: "no migrations in the spec"}, nil
	}
	set, err := migrate.Load(db.Migrations)
	if err != nil {
		return Result{State: record.ItemFailed, Value: "migrations unreadable", Detail: err.Error()}, nil
	}
	version, pending, err := migrate.Status(ctx, conn, set, versionTable(db))
	if err != nil {
		return Result{}, err
	}
	// "All migrations applied and verified": every migration the database should
	// already have (at or below its version) is applied; the ones this release
	// brings (above it) are applied at T-0, and must be reversible to pass.
	var gaps, toApply, irreversible []string
	for _, p := range pending {
		switch {
		case p.Version <= version:
			gaps = append(gaps, p.File)
		default:
			toApply = append(toApply, p.File+" "+p.Checksum())
			if !p.HasDown {
				irreversible = append(irreversible, p.File)
			}
		}
	}
	value := fmt.Sprintf("schema version %d, %d migrations, %d to apply at T-0", version, len(set.Sources), len(toApply))
	switch {
	case len(gaps) > 0:
		return Result{State: record.ItemFailed, Value: value, Detail: "not applied although older than the schema version: " + strings.Join(gaps, ", ")}, nil
	case len(irreversible) > 0:
		return Result{State: record.ItemFailed, Value: value, Detail: "no down part, so a rollback could not undo them: " + strings.Join(irreversible, ", ")}, nil
	}
	detail := ""
	if len(toApply) > 0 {
		detail = "to apply at T-0: " + strings.Join(toApply, ", ")
	}
	return Result{State: record.ItemPassed, Value: value, Detail: detail}, nil
}

// checkBackup is the readiness item "backup configured": for type postgres, a
// full pg_dump of the database is possible from this worker right now (pg_dump
// installed and not older than the server, a schema-only dump succeeds, every
// table readable). The restore itself is verified at T-4h and after deploy.
func (d *Database) checkBackup(ctx context.Context, in CheckInput) (Result, error) {
	b := in.Check.Backup
	if b == nil || b.Type == "" || b.Type == "none" {
		return Result{State: record.ItemSkipped, Value: "backup type none in the spec"}, nil
	}
	if b.Type == "rds" {
		if d.CheckRDS != nil {
			return d.CheckRDS(ctx, in)
		}
		return Result{State: record.ItemUnavailable, Detail: "not configured: rds backups are checked by the AWS integration"}, nil
	}
	if in.Check.Database == nil || in.Check.Database.URL == "" {
		return Result{State: record.ItemUnavailable, Detail: "not configured: database.url is not set"}, nil
	}
	cfg, err := pgutil.Config(ctx, d.Secrets, in.Check.Database.URL)
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: "not configured: " + err.Error()}, nil
	}
	p, err := backup.Probe(ctx, cfg, d.PgDump)
	if errors.Is(err, backup.ErrToolMissing) {
		return Result{State: record.ItemUnavailable, Detail: err.Error()}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("backup check: %w", err)
	}
	value := fmt.Sprintf("pg_dump possible: %s, server %s, %d tables readable, schema dump %s", p.ToolVersion, p.Server, p.Tables, p.SchemaDump.Round(time.Millisecond))
	if !p.OK {
		return Result{State: record.ItemFailed, Value: "pg_dump would fail", Detail: strings.Join(p.Problems, "; ")}, nil
	}
	return Result{State: record.ItemPassed, Value: value}, nil
}

// VerifyBackup verifies a backup by restoring it. For type postgres: pg_dump
// -Fc of the target (from an exported snapshot), pg_restore into a scratch
// database, row counts of every table and checksums of backup.checksum_tables
// compared, scratch database dropped. Any mismatch fails. It heartbeats while
// it works.
func (d *Database) VerifyBackup(ctx context.Context, in BackupInput) (Result, error) {
	opts, done, err := d.restoreOptions(ctx, in)
	if done != nil || err != nil {
		return orZero(done), err
	}
	rep, err := backup.Verify(ctx, opts)
	if errors.Is(err, backup.ErrToolMissing) {
		return Result{State: record.ItemUnavailable, Detail: err.Error()}, nil
	}
	if err != nil {
		if strings.Contains(err.Error(), "checksum_tables") {
			return Result{State: record.ItemFailed, Value: "not verified", Detail: err.Error()}, nil
		}
		return Result{}, fmt.Errorf("backup verification (%s): %w", in.Phase, err)
	}
	d.logger().Info("backup verified", "phase", in.Phase, "ok", rep.OK(), "summary", rep.Summary())
	if !rep.OK() {
		return Result{State: record.ItemFailed, Value: rep.Summary(), Detail: "restore differs from the source: " + strings.Join(rep.Mismatches, "; ")}, nil
	}
	return Result{State: record.ItemPassed, Value: rep.Summary(), Detail: backupDetail(rep)}, nil
}

// restoreOptions resolves what a postgres restore into a scratch database
// needs. A non-nil result ends the activity there (skipped, unavailable, or
// rds handed to the AWS integration when verify is set).
func (d *Database) restoreOptions(ctx context.Context, in BackupInput) (backup.Options, *Result, error) {
	switch in.Backup.Type {
	case "", "none":
		return backup.Options{}, &Result{State: record.ItemSkipped, Value: "backup type none in the spec"}, nil
	case "rds":
		if d.VerifyRDS != nil {
			res, err := d.VerifyRDS(ctx, in)
			return backup.Options{}, &res, err
		}
		return backup.Options{}, &Result{State: record.ItemUnavailable, Detail: "not configured: rds backup verification belongs to the AWS integration"}, nil
	case "postgres":
	default:
		return backup.Options{}, nil, temporal.NewNonRetryableApplicationError("unknown backup type "+in.Backup.Type, ErrBadInput, nil)
	}
	if in.Database.URL == "" {
		return backup.Options{}, &Result{State: record.ItemUnavailable, Detail: "not configured: database.url is not set"}, nil
	}
	src, err := pgutil.Config(ctx, d.Secrets, in.Database.URL)
	if err != nil {
		return backup.Options{}, &Result{State: record.ItemUnavailable, Detail: "not configured: " + err.Error()}, nil
	}
	var scratch *pgx.ConnConfig
	if in.Backup.ScratchURL != "" {
		if scratch, err = pgutil.Config(ctx, d.Secrets, in.Backup.ScratchURL); err != nil {
			return backup.Options{}, &Result{State: record.ItemUnavailable, Detail: "not configured: backup.scratch_url: " + err.Error()}, nil
		}
	}
	return backup.Options{
		Source:         src,
		Scratch:        scratch,
		ChecksumTables: in.Backup.ChecksumTables,
		PgDump:         d.PgDump,
		PgRestore:      d.PgRestore,
		Jobs:           in.Backup.Jobs,
		TempDir:        d.TempDir,
		Progress:       func(step string) { heartbeat(ctx, in.Phase+": "+step) },
	}, nil, nil
}

func orZero(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}

// backupDetail lists the compared tables: rows, and the checksum where one was taken.
func backupDetail(rep backup.Report) string {
	var parts []string
	for i, t := range rep.Tables {
		if i == 30 {
			parts = append(parts, fmt.Sprintf("and %d more tables", len(rep.Tables)-30))
			break
		}
		s := fmt.Sprintf("%s %d rows", t.Name, t.SourceRows)
		if t.Checksummed {
			s += ", checksum " + shortSum(t.SourceSum) + " matches"
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("%s; scratch database %s dropped; %s", rep.ToolVersion, rep.Scratch, strings.Join(parts, "; "))
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
