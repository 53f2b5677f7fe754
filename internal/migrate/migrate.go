// Package migrate applies and rolls back golive's database migrations with
// goose v3's Provider API over pgx v5's database/sql driver.
//
// Every run uses one dedicated connection (a database/sql handle capped at one
// connection that never expires; never a pooler such as PgBouncer, whose
// transaction mode would lose the session lock). The run takes a PostgreSQL
// advisory session lock on that connection before it reads the version, so two
// releases never migrate one database at once, and holds it to the end. Each
// statement runs under the spec's lock_timeout and statement_timeout; a
// migration that hits lock_timeout is retried with exponential backoff, and an
// INVALID index left by a failed CREATE INDEX CONCURRENTLY of a pending
// no-transaction migration is dropped before each attempt.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/golive/golive/internal/pgutil"
)

// DefaultTable is goose's version table.
const DefaultTable = "goose_db_version"

// Options tune a Migrator. Zero values take the defaults in brackets.
type Options struct {
	// LockTimeout and StatementTimeout are set on the migration connection [5s, 5m].
	LockTimeout      time.Duration
	StatementTimeout time.Duration
	// LockRetries is how often a migration that hit lock_timeout is tried again [5];
	// a negative value means never.
	LockRetries int
	// RetryBackoff is the first wait before such a retry, doubled each time up to a minute [1s].
	RetryBackoff time.Duration
	// LockWait bounds the wait for another migrator's advisory lock [5m].
	LockWait time.Duration
	// Table is the version table [goose_db_version]; the advisory lock key derives from it.
	Table string
	// Logger receives progress at debug level [discard].
	Logger *slog.Logger
	// Progress is called with what the run is doing, right away and then every
	// few seconds while a step lasts (heartbeats).
	Progress func(step string)
	// ProgressEvery is the period of Progress calls [5s].
	ProgressEvery time.Duration
	// Locked is called once the lock is held, with the version read under it,
	// before any migration runs (the activity records it in a heartbeat).
	Locked func(version int64)
}

func (o *Options) defaults() {
	if o.LockTimeout <= 0 {
		o.LockTimeout = 5 * time.Second
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 5 * time.Minute
	}
	if o.LockRetries == 0 {
		o.LockRetries = 5
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = time.Second
	}
	if o.LockWait <= 0 {
		o.LockWait = 5 * time.Minute
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 5 * time.Second
	}
}

// Retry records one migration attempt that hit lock_timeout and was retried.
type Retry struct {
	File    string        `json:"file"`
	Attempt int           `json:"attempt"`
	Failed  time.Duration `json:"failed_after"` // how long the attempt ran before lock_timeout fired
	Waited  time.Duration `json:"waited"`       // backoff before the next attempt
}

// Report is what a run did.
type Report struct {
	Before  int64    `json:"before"`
	After   int64    `json:"after"`
	Applied []string `json:"applied,omitempty"` // files, in the order they ran
	// Blocking is the first migration without a down part met by a rollback; when
	// set, nothing was rolled back.
	Blocking string `json:"blocking,omitempty"`
	// Irreversible lists every migration above the target without a down part.
	Irreversible []string      `json:"irreversible,omitempty"`
	Retries      []Retry       `json:"retries,omitempty"`
	Dropped      []string      `json:"dropped_invalid_indexes,omitempty"`
	Duration     time.Duration `json:"duration"`
}

// Migrator runs one migration set against one database.
type Migrator struct {
	set      *Set
	opts     Options
	cfg      *pgx.ConnConfig
	db       *sql.DB
	provider *goose.Provider
	lockKey  int64
	capture  *stmtCapture
	pid      uint32
}

// Open prepares a migrator: one dedicated connection with the timeouts set, and
// a goose provider over the set. It does not lock yet.
func Open(ctx context.Context, cfg *pgx.ConnConfig, set *Set, opts Options) (*Migrator, error) {
	opts.defaults()
	c := cfg.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	c.RuntimeParams["lock_timeout"] = fmt.Sprintf("%dms", opts.LockTimeout.Milliseconds())
	c.RuntimeParams["statement_timeout"] = fmt.Sprintf("%dms", opts.StatementTimeout.Milliseconds())
	if c.RuntimeParams["application_name"] == "" {
		c.RuntimeParams["application_name"] = "golive-migrate"
	}
	db := stdlib.OpenDB(*c, stdlib.OptionAfterConnect(afterConnect))
	// One connection, kept for the whole run: the advisory lock lives on it.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	m := &Migrator{set: set, opts: opts, cfg: c, db: db, lockKey: LockKey(opts.Table), capture: &stmtCapture{}}
	if len(set.Sources) == 0 {
		return m, nil
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, set.fsys,
		goose.WithTableName(opts.Table),
		goose.WithDisableGlobalRegistry(true),
		goose.WithVerbose(true),
		goose.WithSlog(slog.New(m.capture.handler(opts.Logger.Handler()))),
	)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrations in %s: %w", set.Dir, err)
	}
	m.provider = p
	return m, nil
}

// afterConnect asks the server to notice a vanished client during long
// statements (PostgreSQL 14+), so a killed migrator's advisory lock is freed
// within seconds even while it waited on a table lock.
func afterConnect(ctx context.Context, c *pgx.Conn) error {
	_, _ = c.Exec(ctx, "SET client_connection_check_interval = '1s'")
	return nil
}

// LockKey is the advisory lock key of a version table: every golive migrator of
// one database and table uses the same key.
func LockKey(table string) int64 {
	h := fnv.New64a()
	h.Write([]byte("golive-migrate:" + table))
	return int64(h.Sum64())
}

// Close releases the lock (if held) and the connection.
func (m *Migrator) Close() error {
	if m.pid != 0 {
		_, _ = m.db.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", m.lockKey)
		m.pid = 0
	}
	return m.db.Close()
}

// begin takes the migration lock and records the version before (Up and DownTo).
// On error the lock is not held.
func (m *Migrator) begin(ctx context.Context, rep *Report) error {
	if err := m.lock(ctx); err != nil {
		return err
	}
	v, err := m.version(ctx)
	if err != nil {
		m.unlock()
		return err
	}
	rep.Before, rep.After = v, v
	if m.opts.Locked != nil {
		m.opts.Locked(v)
	}
	return nil
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) (rep Report, _ error) {
	start := time.Now()
	stop := m.progress("waiting for the migration lock")
	defer func() { stop(); rep.Duration = time.Since(start) }()
	if err := m.begin(ctx, &rep); err != nil {
		return rep, err
	}
	defer m.unlock()
	if m.provider == nil {
		return rep, nil
	}
	backoff := m.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		if err := m.checkLock(ctx); err != nil {
			return rep, err
		}
		pending, err := m.pending(ctx)
		if err != nil {
			return rep, err
		}
		if len(pending) == 0 {
			break
		}
		dropped, err := m.dropInvalidIndexes(ctx, pending)
		rep.Dropped = append(rep.Dropped, dropped...)
		if err != nil {
			return rep, err
		}
		stop()
		stop = m.progress(fmt.Sprintf("applying %d migration(s) from %s", len(pending), pending[0].File))
		t0 := time.Now()
		results, err := m.provider.Up(ctx)
		rep.Applied = append(rep.Applied, m.files(results)...)
		if err == nil {
			break
		}
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			rep.Applied = append(rep.Applied, m.files(pe.Applied)...)
		}
		if retryable(err) && attempt <= m.opts.LockRetries && ctx.Err() == nil {
			file := m.failedFile(err)
			r := Retry{File: file, Attempt: attempt, Failed: time.Since(t0) - m.appliedDuration(pe), Waited: backoff}
			rep.Retries = append(rep.Retries, r)
			m.opts.Logger.Info("migration hit lock_timeout; retrying", "file", file, "attempt", attempt, "backoff", backoff)
			stop()
			stop = m.progress(fmt.Sprintf("%s hit lock_timeout (attempt %d); retrying in %s", file, attempt, backoff))
			select {
			case <-ctx.Done():
				return m.finish(ctx, rep, ctx.Err())
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
			continue
		}
		return m.finish(ctx, rep, m.explain(err, true))
	}
	return m.finish(ctx, rep, nil)
}

// DownTo rolls back every applied migration above version, newest first. When
// one of them has no down part nothing is rolled back: the report names it in
// Blocking and the schema stays as it is.
func (m *Migrator) DownTo(ctx context.Context, version int64) (rep Report, _ error) {
	start := time.Now()
	stop := m.progress("waiting for the migration lock")
	defer func() { stop(); rep.Duration = time.Since(start) }()
	if err := m.begin(ctx, &rep); err != nil {
		return rep, err
	}
	defer m.unlock()
	if rep.Before <= version || m.provider == nil {
		return rep, nil
	}
	applied, err := m.appliedVersions(ctx)
	if err != nil {
		return rep, err
	}
	var down []Source
	for i := len(applied) - 1; i >= 0; i-- {
		v := applied[i]
		if v <= version {
			continue
		}
		src, ok := m.set.Source(v)
		if !ok {
			return rep, fmt.Errorf("version %d is applied but no file of %s holds it: cannot roll it back", v, m.set.Dir)
		}
		down = append(down, src)
		if !src.HasDown {
			rep.Irreversible = append(rep.Irreversible, src.File)
			if rep.Blocking == "" {
				rep.Blocking = src.File
			}
		}
	}
	if rep.Blocking != "" {
		return rep, nil
	}
	backoff := m.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		if err := m.checkLock(ctx); err != nil {
			return rep, err
		}
		stop()
		stop = m.progress(fmt.Sprintf("rolling back to version %d", version))
		t0 := time.Now()
		results, err := m.provider.DownTo(ctx, version)
		rep.Applied = append(rep.Applied, m.downFiles(results)...)
		if err == nil {
			break
		}
		var pe *goose.PartialError
		if errors.As(err, &pe) {
			rep.Applied = append(rep.Applied, m.downFiles(pe.Applied)...)
		}
		if retryable(err) && attempt <= m.opts.LockRetries && ctx.Err() == nil {
			file := m.failedFile(err)
			rep.Retries = append(rep.Retries, Retry{File: file, Attempt: attempt, Failed: time.Since(t0) - m.appliedDuration(pe), Waited: backoff})
			select {
			case <-ctx.Done():
				return m.finish(ctx, rep, ctx.Err())
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
			continue
		}
		return m.finish(ctx, rep, m.explain(err, false))
	}
	return m.finish(ctx, rep, nil)
}

// Pending lists the migrations not applied yet (taking no lock).
func (m *Migrator) Pending(ctx context.Context) ([]Source, error) {
	if m.provider == nil {
		return nil, nil
	}
	return m.pending(ctx)
}

// Version is the schema version recorded in the database.
func (m *Migrator) Version(ctx context.Context) (int64, error) { return m.version(ctx) }

// finish reads the version after the run; err is the run's error.
func (m *Migrator) finish(ctx context.Context, rep Report, err error) (Report, error) {
	after, verr := m.version(context.WithoutCancel(ctx))
	if verr == nil {
		rep.After = after
	}
	if err != nil {
		return rep, err
	}
	return rep, verr
}

func (m *Migrator) version(ctx context.Context) (int64, error) {
	if m.provider == nil {
		var v int64
		err := m.db.QueryRowContext(ctx, fmt.Sprintf(
			"SELECT coalesce(max(version_id), 0) FROM %s WHERE is_applied", pgutil.Ident(m.opts.Table))).Scan(&v)
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
				return 0, nil
			}
			return 0, m.redact(err)
		}
		return v, nil
	}
	v, err := m.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, m.redact(fmt.Errorf("read schema version: %w", err))
	}
	return v, nil
}

// pending lists migrations not recorded in the version table.
func (m *Migrator) pending(ctx context.Context) ([]Source, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, m.redact(fmt.Errorf("read migration status: %w", err))
	}
	var out []Source
	for _, s := range st {
		if s.State == goose.StatePending {
			if src := m.set.bySourcePath(s.Source.Path); src != nil {
				out = append(out, *src)
			}
		}
	}
	return out, nil
}

// appliedVersions lists the applied versions in ascending order.
func (m *Migrator) appliedVersions(ctx context.Context) ([]int64, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, m.redact(fmt.Errorf("read migration status: %w", err))
	}
	var out []int64
	for _, s := range st {
		if s.State == goose.StateApplied {
			out = append(out, s.Source.Version)
		}
	}
	return out, nil
}

func (m *Migrator) files(rs []*goose.MigrationResult) []string {
	var out []string
	for _, r := range rs {
		if src := m.set.bySourcePath(r.Source.Path); src != nil {
			out = append(out, src.File)
		}
	}
	return out
}

func (m *Migrator) downFiles(rs []*goose.MigrationResult) []string {
	var out []string
	for _, r := range rs {
		if src := m.set.bySourcePath(r.Source.Path); src != nil {
			f := src.DownFile
			if f == "" {
				f = src.File
			}
			out = append(out, f)
		}
	}
	return out
}

func (m *Migrator) appliedDuration(pe *goose.PartialError) time.Duration {
	var d time.Duration
	if pe != nil {
		for _, r := range pe.Applied {
			d += r.Duration
		}
	}
	return d
}

func (m *Migrator) failedFile(err error) string {
	var pe *goose.PartialError
	if errors.As(err, &pe) && pe.Failed != nil && pe.Failed.Source != nil {
		if src := m.set.bySourcePath(pe.Failed.Source.Path); src != nil {
			return src.File
		}
	}
	return "(unknown file)"
}

// retryable reports lock_timeout (55P03) and deadlock (40P01) failures.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "55P03" || pgErr.Code == "40P01")
}

// progress calls Options.Progress now and every ProgressEvery until the returned stop is called.
func (m *Migrator) progress(step string) (stop func()) {
	if m.opts.Progress == nil {
		return func() {}
	}
	m.opts.Progress(step)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(m.opts.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				m.opts.Progress(step)
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

func (m *Migrator) redact(err error) error { return pgutil.Redact(err, m.cfg) }

// Describe names the database a migrator works on, without a password.
func (m *Migrator) Describe() string {
	return fmt.Sprintf("%s@%s:%d/%s", m.cfg.User, m.cfg.Host, m.cfg.Port, m.cfg.Database)
}

// describeHolder says who holds the lock, for messages.
func describeHolder(pid int, app, addr string) string {
	var parts []string
	if pid != 0 {
		parts = append(parts, fmt.Sprintf("pid %d", pid))
	}
	if app != "" {
		parts = append(parts, "application "+app)
	}
	if addr != "" {
		parts = append(parts, "from "+addr)
	}
	if len(parts) == 0 {
		return "another session"
	}
	return strings.Join(parts, ", ")
}
