package migrate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrLockBusy means another migrator held the advisory lock for longer than LockWait.
var ErrLockBusy = errors.New("another migrator holds the migration lock")

// lock takes the advisory session lock on the migrator's one connection,
// polling pg_try_advisory_lock until LockWait has passed.
func (m *Migrator) lock(ctx context.Context) error {
	deadline := time.Now().Add(m.opts.LockWait)
	poll := 100 * time.Millisecond
	for {
		var ok bool
		var pid uint32
		err := m.db.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1), pg_backend_pid()", m.lockKey).Scan(&ok, &pid)
		if err != nil {
			return m.redact(fmt.Errorf("take the migration lock on %s: %w", m.Describe(), err))
		}
		if ok {
			m.pid = pid
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w (%s) for more than %s", ErrLockBusy, m.holder(ctx), m.opts.LockWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
		poll = min(2*poll, 2*time.Second)
	}
}

// holder describes the session holding the lock.
func (m *Migrator) holder(ctx context.Context) string {
	var pid int
	var app, addr string
	_ = m.db.QueryRowContext(ctx, `
		SELECT l.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), '')
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND l.classid = (($1::bigint >> 32) & 4294967295)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1
		LIMIT 1`, m.lockKey).Scan(&pid, &app, &addr)
	return describeHolder(pid, app, addr)
}

// checkLock verifies that the connection running the migrations is still the
// one holding the advisory lock (a reconnect, or a pooler in between, would lose it).
func (m *Migrator) checkLock(ctx context.Context) error {
	var held bool
	err := m.db.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
		  AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1)`,
		m.lockKey).Scan(&held)
	if err != nil {
		return m.redact(fmt.Errorf("check the migration lock: %w", err))
	}
	if !held {
		return errors.New("the migration connection no longer holds the advisory lock (reconnected, or connected through a pooler): stopped")
	}
	return nil
}

func (m *Migrator) unlock() {
	if m.pid == 0 {
		return
	}
	_, _ = m.db.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", m.lockKey)
	m.pid = 0
}
