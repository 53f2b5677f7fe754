package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/golive/golive/internal/pgutil"
)

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// InitOptions configure Init.
type InitOptions struct {
	// Table is the ledger table [golive_audit].
	Table string
	// Writer is the role that may INSERT (and SELECT, to chain) but never UPDATE, DELETE or TRUNCATE [golive_audit_writer].
	Writer string
	// WriterLogin lets the writer log in (with WriterPassword when set); otherwise
	// grant the role to the worker's login role.
	WriterLogin    bool
	WriterPassword string
}

// Init creates the ledger table, its append-only guard and the writer role. It
// can run again: what exists is kept, the grants are set again.
func Init(ctx context.Context, conn *pgx.Conn, o InitOptions) error {
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.Writer == "" {
		o.Writer = DefaultWriter
	}
	if !tableName.MatchString(o.Table) || !tableName.MatchString(o.Writer) {
		return fmt.Errorf("table and role names must be lower-case identifiers: %q, %q", o.Table, o.Writer)
	}
	t, w := pgutil.Ident(o.Table), pgutil.Ident(o.Writer)
	fn := pgutil.Ident(o.Table + "_append_only")
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// Serialize concurrent inits (CREATE ROLE has no IF NOT EXISTS).
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(o.Table)); err != nil {
		return err
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (
			seq        bigint PRIMARY KEY CHECK (seq > 0),
			release_id text NOT NULL,
			at         timestamptz NOT NULL,
			kind       text NOT NULL,
			actor      text NOT NULL DEFAULT '',
			action     text NOT NULL,
			reason     text NOT NULL DEFAULT '',
			data       text NOT NULL DEFAULT '{}',
			key        text UNIQUE,
			prev_hash  text NOT NULL,
			hash       text NOT NULL UNIQUE,
			recorded   timestamptz NOT NULL DEFAULT now()
		)`,
		`CREATE INDEX IF NOT EXISTS ` + pgutil.Ident(o.Table+"_release") + ` ON ` + t + ` (release_id, seq)`,
		`COMMENT ON TABLE ` + t + ` IS 'golive audit ledger: append-only, hash-chained (golive audit verify)'`,
		`CREATE OR REPLACE FUNCTION ` + fn + `() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			RAISE EXCEPTION 'the golive audit ledger is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
		END $$`,
		`DROP TRIGGER IF EXISTS append_only ON ` + t,
		`CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON ` + t + ` FOR EACH ROW EXECUTE FUNCTION ` + fn + `()`,
		`DROP TRIGGER IF EXISTS append_only_truncate ON ` + t,
		`CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON ` + t + ` FOR EACH STATEMENT EXECUTE FUNCTION ` + fn + `()`,
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("create ledger: %w", err)
		}
	}
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", o.Writer).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := tx.Exec(ctx, "CREATE ROLE "+w+" NOLOGIN"); err != nil {
			return fmt.Errorf("create role %s: %w", o.Writer, err)
		}
	}
	if o.WriterLogin {
		alter := "ALTER ROLE " + w + " LOGIN"
		if o.WriterPassword != "" {
			// Parameters cannot be bound in utility statements: quote the literal.
			alter += " PASSWORD " + quoteLiteral(o.WriterPassword)
		}
		if _, err := tx.Exec(ctx, alter); err != nil {
			return fmt.Errorf("let role %s log in: %w", o.Writer, err)
		}
	}
	var schema string
	if err := tx.QueryRow(ctx, "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)", o.Table).Scan(&schema); err != nil {
		return err
	}
	grants := []string{
		"REVOKE ALL ON " + t + " FROM PUBLIC",
		"REVOKE ALL ON " + t + " FROM " + w,
		"GRANT USAGE ON SCHEMA " + pgutil.Ident(schema) + " TO " + w,
		"GRANT SELECT, INSERT ON " + t + " TO " + w,
	}
	for _, s := range grants {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("grant: %w", err)
		}
	}
	return tx.Commit(ctx)
}

func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

func lockKey(table string) int64 {
	h := fnv.New64a()
	h.Write([]byte("golive-audit:" + table))
	return int64(h.Sum64())
}

// Ledger appends to, verifies and exports the ledger.
type Ledger struct {
	pool  *pgxpool.Pool
	table string
	cfg   *pgx.ConnConfig
}

// Open connects to golive's database (a small pool).
func Open(ctx context.Context, cfg *pgx.ConnConfig, table string) (*Ledger, error) {
	if table == "" {
		table = DefaultTable
	}
	if !tableName.MatchString(table) {
		return nil, fmt.Errorf("ledger table %q is not a lower-case identifier", table)
	}
	pool, err := pgutil.Pool(ctx, cfg, "golive-audit", 4)
	if err != nil {
		return nil, err
	}
	return &Ledger{pool: pool, table: table, cfg: cfg}, nil
}

// Close closes the pool.
func (l *Ledger) Close() { l.pool.Close() }

// Append adds events of one release at the end of the chain, in one
// transaction. keys, when given, has one idempotency key per event: if the first
// key is already in the ledger the whole batch was appended before and nothing
// is added.
func (l *Ledger) Append(ctx context.Context, releaseID string, events []Event, keys []string) ([]Row, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if keys != nil && len(keys) != len(events) {
		return nil, fmt.Errorf("%d keys for %d events", len(keys), len(events))
	}
	now := time.Now()
	var rows []Row
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(l.table)); err != nil {
			return err
		}
		t := pgutil.Ident(l.table)
		if keys != nil {
			var seen bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t+" WHERE key = $1)", keys[0]).Scan(&seen); err != nil {
				return err
			}
			if seen {
				return nil
			}
		}
		seq, prev := int64(0), Genesis
		err := tx.QueryRow(ctx, "SELECT seq, hash FROM "+t+" ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		for i, e := range events {
			at := e.At
			if at.IsZero() {
				at = now
			}
			r := Row{Seq: seq + 1, ReleaseID: releaseID, At: at.UTC().Truncate(time.Microsecond), Kind: e.Kind, Actor: e.Actor,
				Action: e.Action, Reason: e.Reason, Data: e.Data, PrevHash: prev}
			if keys != nil {
				r.Key = keys[i]
			}
			r.Hash = r.ComputeHash()
			data, err := Canonical(nonNil(r.Data))
			if err != nil {
				return err
			}
			var key *string
			if r.Key != "" {
				key = &r.Key
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+t+` (seq, release_id, at, kind, actor, action, reason, data, key, prev_hash, hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				r.Seq, r.ReleaseID, r.At, r.Kind, r.Actor, r.Action, r.Reason, string(data), key, r.PrevHash, r.Hash); err != nil {
				return err
			}
			rows = append(rows, r)
			seq, prev = r.Seq, r.Hash
		}
		return nil
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return nil, fmt.Errorf("audit ledger table %s does not exist: run `golive db init`", l.table)
		}
		return nil, pgutil.Redact(fmt.Errorf("append to the audit ledger: %w", err), l.cfg)
	}
	return rows, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// rowColumns are the columns readRow reads, in its order.
const rowColumns = "seq, release_id, at, kind, actor, action, reason, data, coalesce(key, ''), prev_hash, hash"

// readRow scans one row of rowColumns.
func readRow(r pgx.Row) (Row, error) {
	var row Row
	var data string
	if err := r.Scan(&row.Seq, &row.ReleaseID, &row.At, &row.Kind, &row.Actor, &row.Action, &row.Reason, &data, &row.Key, &row.PrevHash, &row.Hash); err != nil {
		return Row{}, err
	}
	if err := json.Unmarshal([]byte(data), &row.Data); err != nil {
		// A data column that is not a JSON object of strings was written by hand: the hash check reports the row.
		row.Data = map[string]string{"_unreadable": data}
	}
	if len(row.Data) == 0 {
		row.Data = nil
	}
	return row, nil
}

// scan walks rows in seq order (of one release when releaseID is set).
func (l *Ledger) scan(ctx context.Context, releaseID string, fn func(Row) bool) error {
	q := "SELECT " + rowColumns + " FROM " + pgutil.Ident(l.table)
	var args []any
	if releaseID != "" {
		q += " WHERE release_id = $1 OR starts_with(release_id, $1 || '/')"
		args = append(args, releaseID)
	}
	q += " ORDER BY seq"
	rows, err := l.pool.Query(ctx, q, args...)
	if err != nil {
		return pgutil.Redact(fmt.Errorf("read the audit ledger: %w", err), l.cfg)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := readRow(rows)
		if err != nil {
			return err
		}
		if !fn(r) {
			return nil
		}
	}
	return rows.Err()
}

// Last returns the newest row of kind among the releases whose ID starts
// with releasePrefix; ok is false when there is none.
func (l *Ledger) Last(ctx context.Context, kind, releasePrefix string) (Row, bool, error) {
	row, err := readRow(l.pool.QueryRow(ctx, "SELECT "+rowColumns+" FROM "+pgutil.Ident(l.table)+
		" WHERE kind = $1 AND starts_with(release_id, $2) ORDER BY seq DESC LIMIT 1", kind, releasePrefix))
	if errors.Is(err, pgx.ErrNoRows) {
		return Row{}, false, nil
	}
	if err != nil {
		return Row{}, false, pgutil.Redact(fmt.Errorf("read the audit ledger: %w", err), l.cfg)
	}
	return row, true, nil
}

// Verify walks the whole chain and reports the first tampered row.
func (l *Ledger) Verify(ctx context.Context) (VerifyReport, error) {
	c := NewChain()
	if err := l.scan(ctx, "", c.Add); err != nil {
		return VerifyReport{}, err
	}
	return c.Report(), nil
}

// Export writes the rows of one release (release_id equal to releaseID, or
// starting with releaseID + "/", e.g. a workflow ID followed by a run ID) as JSON lines (canonical JSON, with
// their hashes) and returns how many.
func (l *Ledger) Export(ctx context.Context, releaseID string, w io.Writer) (int, error) {
	n := 0
	var werr error
	err := l.scan(ctx, releaseID, func(r Row) bool {
		b, err := Canonical(exportRow(r))
		if err != nil {
			werr = err
			return false
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			werr = err
			return false
		}
		n++
		return true
	})
	if err != nil {
		return n, err
	}
	return n, werr
}

func exportRow(r Row) map[string]any {
	m := map[string]any{
		"seq": r.Seq, "release_id": r.ReleaseID, "at": FormatTime(r.At), "kind": r.Kind, "action": r.Action,
		"prev_hash": r.PrevHash, "hash": r.Hash,
	}
	if r.Actor != "" {
		m["actor"] = r.Actor
	}
	if r.Reason != "" {
		m["reason"] = r.Reason
	}
	if len(r.Data) > 0 {
		m["data"] = r.Data
	}
	if r.Key != "" {
		m["key"] = r.Key
	}
	return m
}
