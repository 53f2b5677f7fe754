package pgutil

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool opens a small pool on cfg named app in pg_stat_activity (golive's own
// database holds several stores: each names itself, so connections are told apart).
func Pool(ctx context.Context, cfg *pgx.ConnConfig, app string, maxConns int32) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pc.ConnConfig = cfg.Copy()
	if pc.ConnConfig.RuntimeParams == nil {
		pc.ConnConfig.RuntimeParams = map[string]string{}
	}
	pc.ConnConfig.RuntimeParams["application_name"] = app
	pc.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, Redact(fmt.Errorf("%s: %w", app, err), cfg)
	}
	return pool, nil
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CheckIdents refuses table and role names that are not plain lower-case
// identifiers (golive's stores build their SQL from them).
func CheckIdents(names ...string) error {
	for _, n := range names {
		if !plainIdent.MatchString(n) {
			return fmt.Errorf("%q is not a lower-case identifier (a-z, 0-9, _)", n)
		}
	}
	return nil
}

// EnsureTable calls create when table does not exist yet (a database
// `golive db init` never ran on, as in dev); when this role may not create
// it, the error says to run `golive db init`.
func EnsureTable(ctx context.Context, pool *pgxpool.Pool, cfg *pgx.ConnConfig, table string, create func(context.Context) error) error {
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		return Redact(fmt.Errorf("look for table %s: %w", table, err), cfg)
	}
	if exists {
		return nil
	}
	if err := create(ctx); err != nil {
		return Redact(fmt.Errorf("%w (run `golive db init` as the database's owner)", err), cfg)
	}
	return nil
}
