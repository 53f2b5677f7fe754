package activities_test

import (
	"context"
	"testing"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/secrets"
)

// workerLedger is the ledger worker.Register gives a Notifier, with
// GOLIVE_AUDIT_URL as lookup holds it.
func workerLedger(lookup map[string]string) *activities.NotifyLedger {
	return &activities.NotifyLedger{URL: "env://" + activities.EnvAuditURL, Logger: quiet(), Secrets: &secrets.Resolver{LookupEnv: func(k string) (string, bool) {
		v, ok := lookup[k]
		return v, ok
	}}}
}

func TestNotifyRetriedOnAnotherWorkerDoesNotSendTwiceWithGoliveDatabase(t *testing.T) {
	p := newProviders(t)
	withDB := map[string]string{activities.EnvAuditURL: pgtest.NewDatabase(t)}
	a, b := notifier(p, env, nil), notifier(p, env, nil)
	a.Ledger, b.Ledger = workerLedger(withDB), workerLedger(withDB)
	in := input("smoke_failed", liveSpec(), alice)
	if res, err := a.Notify(context.Background(), in); err != nil || !res.Passed() {
		t.Fatalf("worker a: %+v %v", res, err)
	}
	res, err := b.Notify(context.Background(), in)
	if err != nil || !res.Passed() {
		t.Fatalf("worker b: %+v %v", res, err)
	}
	if _, sms := p.counts(); sms != 1 || !res.Deliveries[0].Duplicate {
		t.Errorf("%d SMS for one message retried on a second worker, deliveries %+v; want 1 and a duplicate", sms, res.Deliveries)
	}
}

func TestWithoutGoliveDatabaseTheLedgerIsThisWorkersMemory(t *testing.T) {
	p := newProviders(t)
	a, b := notifier(p, env, nil), notifier(p, env, nil)
	a.Ledger, b.Ledger = workerLedger(nil), workerLedger(nil)
	in := input("smoke_failed", liveSpec(), alice)
	for _, n := range []*activities.Notifier{a, a, b} {
		if _, err := n.Notify(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	// a's repeat is caught; b has its own memory and sends again: what the database fixes.
	if _, sms := p.counts(); sms != 2 {
		t.Errorf("%d SMS; want 2 (one per worker)", sms)
	}
}
