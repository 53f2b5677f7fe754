//go:build !nodevserver

package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgutil"
)

// Demo database names on the local PostgreSQL; the demo recreates them each run.
const (
	demoDB      = "golive_demo"
	demoAuditDB = "golive_demo_audit"
	demoMigSrc  = "examples/migrations/demo"
)

// demoDatabases creates the demo's target database and its audit ledger on the
// local PostgreSQL and exports their URLs (no password: trust auth) to the
// in-process worker as GOLIVE_DEMO_DATABASE_URL and GOLIVE_AUDIT_URL.
func demoDatabases(ctx context.Context, server string) error {
	cfg, err := pgx.ParseConfig(server)
	if err != nil {
		return fmt.Errorf("--pg %q: %w", server, err)
	}
	for _, name := range []string{demoDB, demoAuditDB} {
		if err := pgutil.CreateDatabase(ctx, cfg, name, true); err != nil {
			return fmt.Errorf("the demo needs the local PostgreSQL at %s (make pg starts it): %w", pgutil.Describe(server), err)
		}
	}
	conn, err := pgx.ConnectConfig(ctx, pgutil.WithDatabase(cfg, demoAuditDB))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", demoAuditDB, err)
	}
	defer conn.Close(ctx)
	if err := audit.Init(ctx, conn, audit.InitOptions{}); err != nil {
		return fmt.Errorf("create the audit ledger: %w", err)
	}
	if err := initStores(ctx, conn, ""); err != nil {
		return fmt.Errorf("create the notification ledger and evidence table: %w", err)
	}
	os.Setenv("GOLIVE_DEMO_DATABASE_URL", dbURL(cfg, demoDB))
	os.Setenv("GOLIVE_AUDIT_URL", dbURL(cfg, demoAuditDB))
	return nil
}

// dbURL is the URL of database name on cfg's server, without a password.
func dbURL(cfg *pgx.ConnConfig, name string) string {
	u := url.URL{Scheme: "postgres", User: url.User(cfg.User), Host: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Path: "/" + name}
	if cfg.TLSConfig == nil {
		u.RawQuery = "sslmode=disable"
	}
	return u.String()
}

// stageDemoMigrations puts the demo's migrations up to version upTo where the
// spec's database.migrations points: each demo release ships one more.
func stageDemoMigrations(dir string, upTo int64) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := migrate.Stage(demoMigSrc, filepath.Clean(dir), upTo); err != nil {
		return fmt.Errorf("stage demo migrations: %w", err)
	}
	return nil
}
