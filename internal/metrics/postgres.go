package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/secrets"
)

// Names of the postgres provider's built-in queries.
const (
	// PGConnections is the share of max_connections held by client connections, in percent.
	PGConnections = "connections"
	// PGSlowQueries is how many statement calls per hour ran slower than a
	// threshold (500ms; slow_queries(250ms) sets another), from pg_stat_statements.
	PGSlowQueries = "slow_queries"
)

// DefaultSlowQuery is the checklist's slow-query threshold.
const DefaultSlowQuery = 500 * time.Millisecond

// PGStatementTimeout bounds each statement the postgres provider runs.
const PGStatementTimeout = 10 * time.Second

var slowQueriesArg = regexp.MustCompile(`^slow_queries\s*\(\s*([^)]*)\)$`)

// Postgres reads metrics from a PostgreSQL database. A query is one of:
//
//   - connections: client connections in use (this reading's own excluded) as
//     a percentage of max_connections;
//   - slow_queries, or slow_queries(250ms): statement calls per hour whose mean
//     execution time was above the threshold (default 500ms), from
//     pg_stat_statements in the current database. With a SlowQueryTracker the
//     count covers the interval since the previous reading; on the first
//     reading it is the average since the statistics were reset, over at least
//     one hour. A database without pg_stat_statements (not installed, or not
//     in shared_preload_libraries) gives an error wrapping ErrUnavailable;
//   - any SELECT (or WITH ... SELECT, VALUES) returning one row with one
//     non-null number, such as the failed-login share from the application's
//     audit table. It runs in a read-only transaction.
//
// Every statement runs with a 10s statement_timeout. The database only shows
// the present, so the evaluation time of a query is not used.
type Postgres struct {
	ref     string
	secrets *secrets.Resolver
	tracker *SlowQueryTracker
	now     func() time.Time
	timeout time.Duration
}

// NewPostgres returns a provider for the database ref names: env://NAME,
// secret://..., or a literal URL without a password. A nil resolver resolves
// env:// only; a nil tracker counts slow queries since the statistics reset.
func NewPostgres(ref string, r *secrets.Resolver, t *SlowQueryTracker) *Postgres {
	return &Postgres{ref: ref, secrets: r, tracker: t, now: time.Now, timeout: PGStatementTimeout}
}

// Query evaluates one query (see Postgres).
func (p *Postgres) Query(ctx context.Context, query string, _ time.Time) (float64, error) {
	q := strings.TrimSpace(query)
	var run func(context.Context, pgx.Tx) (float64, error)
	switch {
	case strings.EqualFold(q, PGConnections):
		run = connectionsInUse
	case strings.EqualFold(q, PGSlowQueries):
		run = func(ctx context.Context, tx pgx.Tx) (float64, error) { return p.slowQueries(ctx, tx, DefaultSlowQuery) }
	case slowQueriesArg.MatchString(strings.ToLower(q)):
		arg := slowQueriesArg.FindStringSubmatch(strings.ToLower(q))[1]
		d, err := time.ParseDuration(strings.TrimSpace(arg))
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("postgres query %q: the threshold %q is not a positive duration (e.g. 500ms)", q, arg)
		}
		run = func(ctx context.Context, tx pgx.Tx) (float64, error) { return p.slowQueries(ctx, tx, d) }
	case isSelect(q):
		run = func(ctx context.Context, tx pgx.Tx) (float64, error) { return oneNumber(ctx, tx, q) }
	case q == "":
		return 0, errors.New("empty postgres query")
	default:
		return 0, fmt.Errorf("postgres query %q: want %s, %s, %s(DURATION) or a SELECT returning one number", q, PGConnections, PGSlowQueries, PGSlowQueries)
	}
	return p.inTx(ctx, run)
}

// isSelect reports whether q starts like a read query.
func isSelect(q string) bool {
	f := strings.Fields(q)
	if len(f) == 0 {
		return false
	}
	switch strings.ToUpper(strings.TrimLeft(f[0], "(")) {
	case "SELECT", "WITH", "VALUES", "TABLE":
		return true
	}
	return false
}

// inTx connects, runs fn in a read-only transaction with a statement timeout, and disconnects.
func (p *Postgres) inTx(ctx context.Context, fn func(context.Context, pgx.Tx) (float64, error)) (float64, error) {
	if !secrets.IsRef(p.ref) {
		if u, err := url.Parse(p.ref); err == nil {
			if _, has := u.User.Password(); has || u.Query().Has("password") {
				return 0, fmt.Errorf("metrics.url %s holds a password: write a reference (env://NAME or secret://aws/NAME#KEY)", pgutil.Describe(p.ref))
			}
		}
	}
	cfg, err := pgutil.Config(ctx, p.secrets, p.ref)
	if err != nil {
		return 0, err
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > 10*time.Second {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "golive-metrics"
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, fmt.Errorf("postgres %s: %w", pgutil.Describe(p.ref), pgutil.Redact(err, cfg))
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, fmt.Errorf("postgres %s: %w", pgutil.Describe(p.ref), pgutil.Redact(err, cfg))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", p.timeout.Milliseconds())); err != nil {
		return 0, fmt.Errorf("postgres %s: %w", pgutil.Describe(p.ref), pgutil.Redact(err, cfg))
	}
	v, err := fn(ctx, tx)
	if err != nil {
		return 0, pgutil.Redact(err, cfg)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("postgres: the query gave %v, not a number", v)
	}
	return v, nil
}

// connectionsInUse is 100 * client connections (other than this one) / max_connections.
func connectionsInUse(ctx context.Context, tx pgx.Tx) (float64, error) {
	var inUse, max int64
	err := tx.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()),
		       current_setting('max_connections')::int`).Scan(&inUse, &max)
	if err != nil {
		return 0, fmt.Errorf("postgres connections: %w", err)
	}
	if max <= 0 {
		return 0, fmt.Errorf("postgres connections: max_connections is %d", max)
	}
	return 100 * float64(inUse) / float64(max), nil
}

// oneNumber runs a configured query that must return one row with one non-null number.
func oneNumber(ctx context.Context, tx pgx.Tx, q string) (float64, error) {
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("postgres query: %w", err)
	}
	defer rows.Close()
	columns := func() error {
		if n := len(rows.FieldDescriptions()); n != 1 {
			return fmt.Errorf("postgres query returns %d columns, want one number", n)
		}
		return nil
	}
	var got *float64
	count := 0
	for rows.Next() {
		if err := columns(); err != nil {
			return 0, err
		}
		count++
		if count > 1 {
			return 0, errors.New("postgres query returns more than one row, want one number")
		}
		if err := rows.Scan(&got); err != nil {
			return 0, fmt.Errorf("postgres query: the value is not a number: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("postgres query: %w", err)
	}
	if err := columns(); err != nil {
		return 0, err
	}
	switch {
	case count == 0:
		return 0, errors.New("postgres query returns no row, want one number")
	case got == nil:
		return 0, errors.New("postgres query returns NULL (no data), want a number")
	}
	return *got, nil
}

// SlowQueryTracker remembers, per database, the pg_stat_statements counters
// of the previous slow-query readings, so the next reading counts the slow
// calls of the interval since then. A reading less than a minute after the
// previous one (an activity retry) is measured from the same earlier reading
// as the first attempt, and does not replace it. It lives as long as the
// worker; after a restart, or a statistics reset, the first reading falls back
// to the average since the reset. The zero value is ready; it is safe for
// concurrent use.
type SlowQueryTracker struct {
	mu   sync.Mutex
	last map[string][2]stmtSnapshot // [older, newer]
}

type stmtSnapshot struct {
	at      time.Time
	reset   time.Time
	byQuery map[string]stmtCounter
}

type stmtCounter struct {
	calls   int64
	totalMs float64
}

// minInterval is the shortest interval slow queries are counted over.
const minInterval = time.Minute

// observe returns the reading to measure cur from (the newest one at least
// minInterval older, under the same statistics reset) and remembers cur.
func (t *SlowQueryTracker) observe(key string, cur stmtSnapshot) (stmtSnapshot, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[string][2]stmtSnapshot{}
	}
	h := t.last[key]
	var base stmtSnapshot
	found := false
	for i := 1; i >= 0; i-- {
		s := h[i]
		if s.byQuery != nil && s.reset.Equal(cur.reset) && cur.at.Sub(s.at) >= minInterval {
			base, found = s, true
			break
		}
	}
	switch newer := h[1]; {
	case newer.byQuery == nil || !newer.reset.Equal(cur.reset) || cur.at.Before(newer.at):
		t.last[key] = [2]stmtSnapshot{{}, cur} // first reading, a reset, or a clock gone back
	case cur.at.Sub(newer.at) >= minInterval:
		t.last[key] = [2]stmtSnapshot{newer, cur}
	}
	return base, found
}

// slowQueries counts slow calls per hour (see Postgres).
func (p *Postgres) slowQueries(ctx context.Context, tx pgx.Tx, threshold time.Duration) (float64, error) {
	var db string
	var installed *string
	if err := tx.QueryRow(ctx, `SELECT current_database(), (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements')`).Scan(&db, &installed); err != nil {
		return 0, fmt.Errorf("postgres slow queries: %w", err)
	}
	if installed == nil {
		return 0, fmt.Errorf("slow queries %w: pg_stat_statements is not installed in database %s (add it to shared_preload_libraries, restart, then CREATE EXTENSION pg_stat_statements)", ErrUnavailable, db)
	}
	snap, err := readStatements(ctx, tx, "total_exec_time")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42703" { // PostgreSQL 12 and older
		snap, err = readStatements(ctx, tx, "total_time")
	}
	if errors.As(err, &pgErr) && (pgErr.Code == "55000" || pgErr.Code == "42501") {
		return 0, fmt.Errorf("slow queries %w: pg_stat_statements cannot be read in database %s: %s", ErrUnavailable, db, pgErr.Message)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres slow queries: %w", err)
	}
	// The statistics' reset time (PostgreSQL 14+), else the server start.
	var reset time.Time
	if err := tx.QueryRow(ctx, `SELECT stats_reset FROM pg_stat_statements_info`).Scan(&reset); err != nil {
		if err := tx.QueryRow(ctx, `SELECT pg_postmaster_start_time()`).Scan(&reset); err != nil {
			return 0, fmt.Errorf("postgres slow queries: %w", err)
		}
	}
	snap.at, snap.reset = p.now(), reset
	thresholdMs := float64(threshold) / float64(time.Millisecond)
	if p.tracker != nil {
		prev, ok := p.tracker.observe(fmt.Sprintf("%s\x00%s\x00%v", p.ref, db, threshold), snap)
		if n, ok := slowSince(prev, snap, thresholdMs, ok); ok {
			return n, nil
		}
	}
	// First reading: slow calls since the reset, averaged over at least an hour.
	var slow int64
	for _, c := range snap.byQuery {
		if c.calls > 0 && c.totalMs/float64(c.calls) > thresholdMs {
			slow += c.calls
		}
	}
	hours := max(snap.at.Sub(reset).Hours(), 1)
	return float64(slow) / hours, nil
}

// slowSince counts the calls between prev and cur whose mean over the interval
// was above thresholdMs, per hour. It returns false when prev cannot be used:
// none, another reset, a counter that went back, or less than a minute apart.
func slowSince(prev, cur stmtSnapshot, thresholdMs float64, ok bool) (float64, bool) {
	if !ok || !prev.reset.Equal(cur.reset) {
		return 0, false
	}
	elapsed := cur.at.Sub(prev.at)
	if elapsed < minInterval {
		return 0, false
	}
	var slow int64
	for k, c := range cur.byQuery {
		p := prev.byQuery[k]
		dCalls, dMs := c.calls-p.calls, c.totalMs-p.totalMs
		if dCalls < 0 || dMs < 0 {
			return 0, false // reset without a pg_stat_statements_info to tell
		}
		if dCalls > 0 && dMs/float64(dCalls) > thresholdMs {
			slow += dCalls
		}
	}
	return float64(slow) / elapsed.Hours(), true
}

// readStatements reads the current database's statement counters.
func readStatements(ctx context.Context, tx pgx.Tx, totalCol string) (stmtSnapshot, error) {
	rows, err := tx.Query(ctx, fmt.Sprintf(`
		SELECT userid::text || '/' || coalesce(queryid::text, md5(query)), calls, %s
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`, totalCol))
	if err != nil {
		return stmtSnapshot{}, err
	}
	defer rows.Close()
	snap := stmtSnapshot{byQuery: map[string]stmtCounter{}}
	for rows.Next() {
		var key string
		var c stmtCounter
		if err := rows.Scan(&key, &c.calls, &c.totalMs); err != nil {
			return stmtSnapshot{}, err
		}
		prev := snap.byQuery[key] // toplevel and nested rows of one statement add up
		snap.byQuery[key] = stmtCounter{calls: prev.calls + c.calls, totalMs: prev.totalMs + c.totalMs}
	}
	return snap, rows.Err()
}
