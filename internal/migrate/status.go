package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/golive/golive/internal/pgutil"
)

// Status reads which migrations of set are applied, without writing anything
// and without taking the migration lock (a readiness check runs it on a
// read-only connection). A database without the version table has every
// migration pending.
func Status(ctx context.Context, conn *pgx.Conn, set *Set, table string) (version int64, pending []Source, err error) {
	if table == "" {
		table = DefaultTable
	}
	applied := map[int64]bool{}
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT version_id FROM %s WHERE is_applied", pgutil.Ident(table)))
	if err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
			return 0, nil, fmt.Errorf("read version table %s: %w", table, err)
		}
	} else {
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return 0, nil, err
			}
			applied[v] = true
			version = max(version, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
				return 0, nil, fmt.Errorf("read version table %s: %w", table, err)
			}
		}
	}
	for _, s := range set.Sources {
		if !applied[s.Version] {
			pending = append(pending, s)
		}
	}
	return version, pending, nil
}
