package pgutil

import (
	"context"
	"fmt"

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
