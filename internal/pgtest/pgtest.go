// Package pgtest gives tests a fresh database on the local PostgreSQL
// (127.0.0.1:5432, trust auth, user postgres; PGTEST_URL overrides the server).
// Each call creates a database with a random name and drops it when the test
// ends. When the server does not answer, the test fails with a message saying
// how to start it: database tests never skip.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/pgutil"
)

// DefaultServer is the maintenance connection the tests use unless PGTEST_URL is set.
const DefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL is the maintenance connection string of the test server.
func ServerURL() string {
	if v := os.Getenv("PGTEST_URL"); v != "" {
		return v
	}
	return DefaultServer
}

// Connect opens a connection to url or fails the test.
func Connect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect to %s: %v", pgutil.Describe(url), err)
	}
	tb.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// NewDatabase creates an empty database with a random name and returns its URL.
// It is dropped (WITH FORCE) when the test ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(ServerURL())
	if err != nil {
		tb.Fatalf("PGTEST_URL: %v", err)
	}
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("PostgreSQL is not answering on %s:%d (%v).\n"+
			"These tests need a real server: run `make pg` or `.ci/run` (Debian: pg_ctlcluster <version> main start), "+
			"or point PGTEST_URL at one.", cfg.Host, cfg.Port, err)
	}
	defer admin.Close(ctx)
	name := pgutil.RandomName("golive_test_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgutil.Ident(name)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() { Drop(tb, name) })
	return URL(cfg, name)
}

// Drop drops a database of the test server, ending its sessions.
func Drop(tb testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		tb.Errorf("drop test database %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgutil.Ident(name)+" WITH (FORCE)"); err != nil {
		tb.Errorf("drop test database %s: %v", name, err)
	}
}

// URL returns the connection string of database name on the server cfg points at.
func URL(cfg *pgx.ConnConfig, name string) string {
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), Path: "/" + name, RawQuery: "sslmode=disable"}
	if cfg.Password != "" {
		u.User = url.UserPassword(cfg.User, cfg.Password)
	} else {
		u.User = url.User(cfg.User)
	}
	return u.String()
}
