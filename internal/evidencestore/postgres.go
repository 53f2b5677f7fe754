package evidencestore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/pgutil"
)

// DefaultTable is the evidence table in golive's database.
const DefaultTable = "golive_evidence"

// Init creates the evidence table, append-only (UPDATE, DELETE and TRUNCATE
// refused by triggers, for the table's owner too), and grants writer (the
// audit ledger's writer role) SELECT and INSERT only. It can run again.
func Init(ctx context.Context, conn *pgx.Conn, table, writer string) error {
	if table == "" {
		table = DefaultTable
	}
	if err := pgutil.CheckIdents(table, writer); err != nil {
		return err
	}
	if err := create(ctx, conn, table); err != nil {
		return err
	}
	t := pgutil.Ident(table)
	for _, s := range []string{
		"REVOKE ALL ON " + t + " FROM PUBLIC",
		"REVOKE ALL ON " + t + " FROM " + pgutil.Ident(writer),
		"GRANT SELECT, INSERT ON " + t + " TO " + pgutil.Ident(writer),
		"GRANT USAGE ON SEQUENCE " + pgutil.Ident(table+"_id_seq") + " TO " + pgutil.Ident(writer),
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("grant on evidence table %s: %w", table, err)
		}
	}
	return nil
}

type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// create makes the table and its guards unless they exist, one caller at a time.
func create(ctx context.Context, db beginner, table string) error {
	t, fn := pgutil.Ident(table), pgutil.Ident(table+"_append_only")
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "golive-evidence:"+table); err != nil {
			return err
		}
		for _, s := range []string{
			`CREATE TABLE IF NOT EXISTS ` + t + ` (
				id         bigserial PRIMARY KEY,
				release_id text NOT NULL,
				run_id     text NOT NULL,
				kind       text NOT NULL,
				content    text NOT NULL,
				sha256     text NOT NULL CHECK (sha256 = encode(sha256(convert_to(content, 'UTF8')), 'hex')),
				audit_head text NOT NULL DEFAULT '',
				created_at timestamptz NOT NULL DEFAULT now(),
				UNIQUE (release_id, run_id, kind)
			)`,
			`COMMENT ON TABLE ` + t + ` IS 'golive evidence: sealed documents of each release run, append-only (golive report verifies them)'`,
			`CREATE OR REPLACE FUNCTION ` + fn + `() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				RAISE EXCEPTION 'golive evidence is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
			END $$`,
			`DROP TRIGGER IF EXISTS append_only ON ` + t,
			`CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON ` + t + ` FOR EACH ROW EXECUTE FUNCTION ` + fn + `()`,
			`DROP TRIGGER IF EXISTS append_only_truncate ON ` + t,
			`CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON ` + t + ` FOR EACH STATEMENT EXECUTE FUNCTION ` + fn + `()`,
		} {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("create evidence table %s: %w", table, err)
			}
		}
		return nil
	})
}

// Postgres keeps records in golive's database; the table checks on insert
// that each row's sha256 is its content's.
type Postgres struct {
	pool  *pgxpool.Pool
	table string
	cfg   *pgx.ConnConfig
}

// OpenPostgres connects (a small pool) and creates the table when it is missing
// and this role may (as in dev); otherwise run `golive db init`.
func OpenPostgres(ctx context.Context, cfg *pgx.ConnConfig, table string) (*Postgres, error) {
	if table == "" {
		table = DefaultTable
	}
	if err := pgutil.CheckIdents(table); err != nil {
		return nil, err
	}
	pool, err := pgutil.Pool(ctx, cfg, "golive-evidence", 2)
	if err != nil {
		return nil, err
	}
	p := &Postgres{pool: pool, table: table, cfg: cfg}
	if err := pgutil.EnsureTable(ctx, pool, cfg, table, func(ctx context.Context) error { return create(ctx, pool, table) }); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

// Close closes the pool.
func (p *Postgres) Close() { p.pool.Close() }

// Backend implements Store.
func (p *Postgres) Backend() Backend { return BackendPostgres }

func (p *Postgres) ref(id int64) string {
	return "postgres:" + p.table + "/" + strconv.FormatInt(id, 10)
}

// Put implements Store: one INSERT; a second Put of the same release, run and
// kind (a retried activity) returns the row already there.
func (p *Postgres) Put(ctx context.Context, r Record) (string, error) {
	t := pgutil.Ident(p.table)
	var id int64
	err := p.pool.QueryRow(ctx, "INSERT INTO "+t+` (release_id, run_id, kind, content, sha256, audit_head) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (release_id, run_id, kind) DO NOTHING RETURNING id`,
		r.ReleaseID, r.RunID, string(r.Kind), r.Content, r.Digest, r.AuditHead).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = p.pool.QueryRow(ctx, "SELECT id FROM "+t+" WHERE release_id = $1 AND run_id = $2 AND kind = $3", r.ReleaseID, r.RunID, string(r.Kind)).Scan(&id)
	}
	if err != nil {
		return "", p.wrap(err)
	}
	return p.ref(id), nil
}

// List implements Store.
func (p *Postgres) List(ctx context.Context, releaseID string) ([]Record, error) {
	rows, err := p.pool.Query(ctx, "SELECT id, run_id, kind, content, sha256, audit_head, created_at FROM "+pgutil.Ident(p.table)+
		" WHERE release_id = $1 ORDER BY id", releaseID)
	if err != nil {
		return nil, p.wrap(err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r := Record{ReleaseID: releaseID}
		var id int64
		var kind string
		if err := rows.Scan(&id, &r.RunID, &kind, &r.Content, &r.Digest, &r.AuditHead, &r.CreatedAt); err != nil {
			return nil, p.wrap(err)
		}
		r.Kind, r.Ref = evidence.Kind(kind), p.ref(id)
		out = append(out, r)
	}
	return out, p.wrap(rows.Err())
}

func (p *Postgres) wrap(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
		return fmt.Errorf("evidence table %s does not exist: run `golive db init`", p.table)
	}
	return pgutil.Redact(fmt.Errorf("evidence store: %w", err), p.cfg)
}
