// Package pgutil holds what golive's PostgreSQL packages share: resolving a
// database reference to a connection config, keeping passwords out of errors,
// quoting identifiers and naming scratch databases.
package pgutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/secrets"
)

// Config resolves ref (env://NAME, secret://..., or a literal URL) and parses
// the connection string. Errors name the reference, never the value.
func Config(ctx context.Context, r *secrets.Resolver, ref string) (*pgx.ConnConfig, error) {
	if ref == "" {
		return nil, errors.New("no database URL configured (database.url)")
	}
	if r == nil {
		r = &secrets.Resolver{}
	}
	dsn, err := r.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx redacts what it can; the message still may quote a malformed string, so name only the reference.
		return nil, fmt.Errorf("database URL %s is not a valid PostgreSQL connection string", Describe(ref))
	}
	return cfg, nil
}

// Describe is how a database reference appears in messages: the reference
// itself, or a literal URL with any password masked.
func Describe(ref string) string {
	if secrets.IsRef(ref) {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme == "" {
		return "(connection string)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Redact returns err with every occurrence of the config's password masked.
// Use it on every error that leaves a package talking to PostgreSQL.
func Redact(err error, cfg *pgx.ConnConfig) error {
	if err == nil || cfg == nil || cfg.Password == "" {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, cfg.Password) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(msg, cfg.Password, "xxxxx"), err: err}
}

// redacted keeps the chain (errors.As still finds a *pgconn.PgError) with a masked message.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// Ident quotes a PostgreSQL identifier.
func Ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// QualifiedIdent quotes schema.name; an empty schema gives just the name.
func QualifiedIdent(schema, name string) string {
	if schema == "" {
		return Ident(name)
	}
	return pgx.Identifier{schema, name}.Sanitize()
}

// RandomName returns prefix followed by 12 random hex digits: a name for a
// scratch database that no one else uses.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// WithDatabase returns a copy of cfg that connects to database name.
func WithDatabase(cfg *pgx.ConnConfig, name string) *pgx.ConnConfig {
	c := cfg.Copy()
	c.Database = name
	return c
}

// Env returns the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE, PGSSLMODE...) for command-line tools such as pg_dump, so the
// password never appears on a command line.
func Env(cfg *pgx.ConnConfig) []string {
	env := []string{
		"PGHOST=" + cfg.Host,
		fmt.Sprintf("PGPORT=%d", cfg.Port),
		"PGUSER=" + cfg.User,
		"PGDATABASE=" + cfg.Database,
		"PGCONNECT_TIMEOUT=10",
	}
	if cfg.Password != "" {
		env = append(env, "PGPASSWORD="+cfg.Password)
	}
	ssl := tlsParams(cfg.ConnString())
	switch {
	case cfg.TLSConfig == nil:
		env = append(env, "PGSSLMODE=disable")
	case ssl["sslmode"] != "":
	default:
		env = append(env, "PGSSLMODE=require")
	}
	for k, v := range ssl {
		env = append(env, "PG"+strings.ToUpper(k)+"="+v)
	}
	if v := cfg.RuntimeParams["application_name"]; v != "" {
		env = append(env, "PGAPPNAME="+v)
	}
	return env
}

// tlsParams extracts the TLS settings of a URL connection string (sslmode,
// sslrootcert, sslcert, sslkey) so command-line tools verify the server the same way.
func tlsParams(connString string) map[string]string {
	out := map[string]string{}
	u, err := url.Parse(connString)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return out
	}
	for _, k := range []string{"sslmode", "sslrootcert", "sslcert", "sslkey"} {
		if v := u.Query().Get(k); v != "" {
			out[k] = v
		}
	}
	return out
}

// CreateDatabase creates database name on the server cfg points at (connecting
// to cfg's own database to do so). With fresh, an existing one is dropped first,
// its sessions ended; without, an existing one is kept.
func CreateDatabase(ctx context.Context, cfg *pgx.ConnConfig, name string, fresh bool) error {
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Redact(fmt.Errorf("connect to %s:%d: %w", cfg.Host, cfg.Port, err), cfg)
	}
	defer c.Close(context.WithoutCancel(ctx))
	if fresh {
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+Ident(name)+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := c.Exec(ctx, "CREATE DATABASE "+Ident(name)); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
