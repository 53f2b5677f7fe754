package pgcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// Connections compares client connections in use with max_connections and fails
// above maxPercent (the checklist's 80 %). The detail breaks the connections
// down by application and state.
func Connections(ctx context.Context, q Querier, maxPercent float64) (Result, error) {
	var inUse, max, reserved int
	err := q.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
		       current_setting('max_connections')::int,
		       current_setting('superuser_reserved_connections')::int`).Scan(&inUse, &max, &reserved)
	if err != nil {
		return Result{}, fmt.Errorf("read connections: %w", err)
	}
	rows, err := q.Query(ctx, `
		SELECT coalesce(nullif(application_name, ''), '(none)') || ' ' || coalesce(state, '?') || ': ' || count(*)
		FROM pg_stat_activity WHERE backend_type = 'client backend'
		GROUP BY application_name, state ORDER BY count(*) DESC, 1 LIMIT 10`)
	if err != nil {
		return Result{}, fmt.Errorf("read connections: %w", err)
	}
	var by []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return Result{}, err
		}
		by = append(by, s)
	}
	rows.Close()
	pct := 100 * float64(inUse) / float64(max)
	r := Result{
		State:  record.ItemPassed,
		Value:  fmt.Sprintf("%d of %d connections in use (%.1f%%, limit %g%%)", inUse, max, pct, maxPercent),
		Detail: fmt.Sprintf("%d reserved for superusers; by application and state: %s", reserved, strings.Join(by, ", ")),
	}
	if pct > maxPercent {
		r.State = record.ItemFailed
		r.Offenders = by
	}
	return r, nil
}

// SlowQueries lists statements of the current database whose mean execution
// time in pg_stat_statements is above threshold (the checklist's 500 ms). When
// the extension is not installed or not loaded the result is unavailable.
func SlowQueries(ctx context.Context, q Querier, threshold time.Duration) (Result, error) {
	var version *string
	if err := q.QueryRow(ctx, `SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'`).Scan(&version); err != nil && !isNoRows(err) {
		return Result{}, fmt.Errorf("look for pg_stat_statements: %w", err)
	}
	if version == nil {
		return Result{State: record.ItemUnavailable, Value: "pg_stat_statements not installed",
			Detail: "slow queries cannot be measured: add pg_stat_statements to shared_preload_libraries and CREATE EXTENSION pg_stat_statements"}, nil
	}
	ms := float64(threshold) / float64(time.Millisecond)
	query := func(col string) (Result, error) {
		rows, err := q.Query(ctx, fmt.Sprintf(`
			SELECT %[1]s, calls, regexp_replace(left(query, 160), '\s+', ' ', 'g')
			FROM pg_stat_statements
			WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND %[1]s > $1
			ORDER BY %[1]s DESC`, col), ms)
		if err != nil {
			return Result{}, err
		}
		defer rows.Close()
		var offenders []string
		for rows.Next() {
			var mean float64
			var calls int64
			var text string
			if err := rows.Scan(&mean, &calls, &text); err != nil {
				return Result{}, err
			}
			offenders = append(offenders, fmt.Sprintf("mean %.0f ms over %d calls: %s", mean, calls, text))
		}
		if err := rows.Err(); err != nil {
			return Result{}, err
		}
		if len(offenders) == 0 {
			return Result{State: record.ItemPassed, Value: fmt.Sprintf("no statement with a mean above %s", threshold)}, nil
		}
		return Result{State: record.ItemFailed, Value: fmt.Sprintf("%s with a mean above %s", render.Count(len(offenders), "statement", "statements"), threshold),
			Detail: list(offenders, 10), Offenders: offenders}, nil
	}
	r, err := query("mean_exec_time")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42703" { // PostgreSQL 12 and older
		r, err = query("mean_time")
	}
	if errors.As(err, &pgErr) && (pgErr.Code == "55000" || pgErr.Code == "42501") {
		return Result{State: record.ItemUnavailable, Value: "pg_stat_statements not readable", Detail: pgErr.Message}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("read pg_stat_statements: %w", err)
	}
	return r, nil
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
