package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/golive/golive/internal/pgutil"
)

// DefaultLedgerTable is the table PGLedger keeps deliveries in, in golive's
// own database (beside the audit ledger).
const DefaultLedgerTable = "golive_notify_ledger"

// InitLedger creates the ledger table and grants writer (the audit ledger's
// writer role, which must exist) what PGLedger needs. It can run again.
// Unlike the audit ledger the table is not append-only: entries expire, and
// the audit ledger and the release's history are the record of what was sent.
func InitLedger(ctx context.Context, conn *pgx.Conn, table, writer string) error {
	if table == "" {
		table = DefaultLedgerTable
	}
	if err := pgutil.CheckIdents(table, writer); err != nil {
		return err
	}
	if err := createLedger(ctx, conn, table); err != nil {
		return err
	}
	t := pgutil.Ident(table)
	for _, s := range []string{
		`REVOKE ALL ON ` + t + ` FROM PUBLIC`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ` + t + ` TO ` + pgutil.Ident(writer),
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("grant on notification ledger %s: %w", table, err)
		}
	}
	return nil
}

// beginner is a connection or a pool.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// createLedger creates the table unless it exists, one caller at a time (workers
// starting together would otherwise race on CREATE TABLE IF NOT EXISTS).
func createLedger(ctx context.Context, db beginner, table string) error {
	t := pgutil.Ident(table)
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "golive-notify-ledger:"+table); err != nil {
			return err
		}
		for _, s := range []string{
			`CREATE TABLE IF NOT EXISTS ` + t + ` (
				key      text NOT NULL,
				channel  text NOT NULL,
				delivery jsonb NOT NULL,
				recorded timestamptz NOT NULL,
				PRIMARY KEY (key, channel)
			)`,
			`CREATE INDEX IF NOT EXISTS ` + pgutil.Ident(table+"_recorded") + ` ON ` + t + ` (recorded)`,
			`COMMENT ON TABLE ` + t + ` IS 'golive notification dedupe ledger: one row per delivered (key, channel), expires after its TTL'`,
		} {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("create notification ledger %s: %w", table, err)
			}
		}
		return nil
	})
}

// PGLedger is a Ledger in golive's PostgreSQL database, shared by every
// worker: a retried Notify on another worker finds what the first one sent.
// Entries older than TTL (default DefaultLedgerTTL) count as absent and are
// deleted now and then, as MemoryLedger forgets them.
type PGLedger struct {
	pool  *pgxpool.Pool
	table string
	cfg   *pgx.ConnConfig
	// TTL is how long a delivery is remembered.
	TTL time.Duration
	// Now defaults to time.Now (the workers' clocks, not the server's, so tests can move it).
	Now func() time.Time

	mu     sync.Mutex
	pruned time.Time
}

// OpenPGLedger connects to golive's database with a small pool.
func OpenPGLedger(ctx context.Context, cfg *pgx.ConnConfig, table string) (*PGLedger, error) {
	if table == "" {
		table = DefaultLedgerTable
	}
	if err := pgutil.CheckIdents(table); err != nil {
		return nil, err
	}
	pool, err := pgutil.Pool(ctx, cfg, "golive-notify-ledger", 2)
	if err != nil {
		return nil, err
	}
	l := &PGLedger{pool: pool, table: table, cfg: cfg}
	if err := pgutil.EnsureTable(ctx, pool, cfg, table, func(ctx context.Context) error { return createLedger(ctx, pool, table) }); err != nil {
		pool.Close()
		return nil, err
	}
	return l, nil
}

// Close closes the pool.
func (l *PGLedger) Close() { l.pool.Close() }

func (l *PGLedger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Delivered implements Ledger.
func (l *PGLedger) Delivered(ctx context.Context, key, channel string) (Delivery, bool, error) {
	var raw []byte
	err := l.pool.QueryRow(ctx, "SELECT delivery FROM "+pgutil.Ident(l.table)+" WHERE key = $1 AND channel = $2 AND recorded >= $3",
		key, channel, l.now().Add(-ledgerTTL(l.TTL))).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return Delivery{}, false, nil
	}
	if err != nil {
		return Delivery{}, false, l.wrap(err)
	}
	var d Delivery
	if err := json.Unmarshal(raw, &d); err != nil {
		return Delivery{}, false, fmt.Errorf("notification ledger: entry %s on %s: %w", key, channel, err)
	}
	return d, true, nil
}

// Record implements Ledger: the latest delivery under a key wins, as in MemoryLedger.
func (l *PGLedger) Record(ctx context.Context, d Delivery) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	now := l.now()
	t := pgutil.Ident(l.table)
	if _, err := l.pool.Exec(ctx, "INSERT INTO "+t+` (key, channel, delivery, recorded) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key, channel) DO UPDATE SET delivery = EXCLUDED.delivery, recorded = EXCLUDED.recorded`,
		d.Key, d.Channel, raw, now); err != nil {
		return l.wrap(err)
	}
	return l.prune(ctx, now)
}

// prune deletes expired entries, at most once a minute per ledger.
func (l *PGLedger) prune(ctx context.Context, now time.Time) error {
	l.mu.Lock()
	due := now.Sub(l.pruned) >= time.Minute
	if due {
		l.pruned = now
	}
	l.mu.Unlock()
	if !due {
		return nil
	}
	_, err := l.pool.Exec(ctx, "DELETE FROM "+pgutil.Ident(l.table)+" WHERE recorded < $1", now.Add(-ledgerTTL(l.TTL)))
	return l.wrap(err)
}

func (l *PGLedger) wrap(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
		return fmt.Errorf("notification ledger table %s does not exist: run `golive db init`", l.table)
	}
	return pgutil.Redact(fmt.Errorf("notification ledger: %w", err), l.cfg)
}
