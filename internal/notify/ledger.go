package notify

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultLedgerTTL is how long a ledger remembers a delivery: longer than any
// activity's retries last, short enough that the ledger stays small.
const DefaultLedgerTTL = 48 * time.Hour

// Ledger remembers successful deliveries by idempotency key and channel, so a
// retried send never goes out twice, on Twilio too, which takes no key.
// PGLedger keeps them in golive's database, where every worker sees them;
// MemoryLedger only in one process.
type Ledger interface {
	// Delivered returns the delivery recorded for key on channel within the TTL.
	Delivered(ctx context.Context, key, channel string) (Delivery, bool, error)
	// Record keeps a successful delivery.
	Record(ctx context.Context, d Delivery) error
}

// MemoryLedger is a Ledger in memory that forgets entries after TTL (default
// DefaultLedgerTTL). It is what a worker without a database uses (dev, tests):
// another worker, or this one after a restart, does not see its entries.
type MemoryLedger struct {
	TTL time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	mu sync.Mutex
	m  map[string]ledgerEntry
}

type ledgerEntry struct {
	d  Delivery
	at time.Time
}

func (l *MemoryLedger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func ledgerTTL(ttl time.Duration) time.Duration {
	if ttl > 0 {
		return ttl
	}
	return DefaultLedgerTTL
}

// Delivered implements Ledger.
func (l *MemoryLedger) Delivered(_ context.Context, key, channel string) (Delivery, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.m[key+"\x00"+channel]
	if !ok || l.now().Sub(e.at) > ledgerTTL(l.TTL) {
		return Delivery{}, false, nil
	}
	return e.d, true, nil
}

// Record implements Ledger.
func (l *MemoryLedger) Record(_ context.Context, d Delivery) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]ledgerEntry{}
	}
	now := l.now()
	for k, e := range l.m {
		if now.Sub(e.at) > ledgerTTL(l.TTL) {
			delete(l.m, k)
		}
	}
	l.m[d.Key+"\x00"+d.Channel] = ledgerEntry{d: d, at: now}
	return nil
}

// LedgerError is a ledger that could not be read or written: Deliver stops
// there, and the caller retries rather than send without it.
type LedgerError struct {
	Op, Key, Channel string
	Err              error
}

func (e *LedgerError) Error() string {
	return fmt.Sprintf("notification ledger: %s %s on %s: %v", e.Op, e.Key, e.Channel, e.Err)
}

func (e *LedgerError) Unwrap() error { return e.Err }
