package activities

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/secrets"
)

// NotifyLedger is the Notifier's dedupe ledger as a worker configures it: in
// golive's own database (the audit ledger's, URL) when one is configured, so
// every worker shares it and a Notify retried on another worker does not send
// again; in this process's memory when none is (dev, tests), which only holds
// for retries on the same worker. The database is opened on first use.
type NotifyLedger struct {
	// URL is a reference to golive's database (the worker's AuditURL); a
	// reference that resolves to nothing (env:// unset) means memory.
	URL     string
	Table   string
	Secrets *secrets.Resolver
	Logger  *slog.Logger

	mu     sync.Mutex
	ledger notify.Ledger
}

func (l *NotifyLedger) open(ctx context.Context) (notify.Ledger, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ledger != nil {
		return l.ledger, nil
	}
	cfg, err := pgutil.Config(ctx, l.Secrets, l.URL)
	switch {
	case l.URL == "" || errors.Is(err, secrets.ErrNotFound):
		l.logger().WarnContext(ctx, "notification ledger in this worker's memory: no golive database configured ("+EnvAuditURL+"); a retry on another worker may send again")
		l.ledger = &notify.MemoryLedger{}
		return l.ledger, nil
	case err != nil:
		return nil, err
	}
	pg, err := notify.OpenPGLedger(ctx, cfg, l.Table)
	if err != nil {
		return nil, err
	}
	l.ledger = pg
	return pg, nil
}

func (l *NotifyLedger) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.Default()
	}
	return l.Logger
}

// Delivered implements notify.Ledger.
func (l *NotifyLedger) Delivered(ctx context.Context, key, channel string) (notify.Delivery, bool, error) {
	led, err := l.open(ctx)
	if err != nil {
		return notify.Delivery{}, false, err
	}
	return led.Delivered(ctx, key, channel)
}

// Record implements notify.Ledger.
func (l *NotifyLedger) Record(ctx context.Context, d notify.Delivery) error {
	led, err := l.open(ctx)
	if err != nil {
		return err
	}
	return led.Record(ctx, d)
}
