package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/pgtest"
)

// openLedger is one worker's ledger on the shared database url.
func openLedger(t *testing.T, url string) *notify.PGLedger {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	l, err := notify.OpenPGLedger(context.Background(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

func TestARetryOnAnotherWorkerFindsTheFirstWorkersSMSInThePostgresLedger(t *testing.T) {
	url := pgtest.NewDatabase(t)
	tf, turl := serve(t, twilioOK)
	first, _ := dispatcher(t, "", turl)
	second, _ := dispatcher(t, "", turl)
	first.Ledger, second.Ledger = openLedger(t, url), openLedger(t, url)
	if _, err := first.Deliver(context.Background(), request("alert_level_3", bob)); err != nil {
		t.Fatal(err)
	}
	rep, err := second.Deliver(context.Background(), request("alert_level_3", bob))
	if err != nil {
		t.Fatal(err)
	}
	if tf.count() != 1 || len(rep.Deliveries) != 1 || !rep.Deliveries[0].Duplicate || rep.Deliveries[0].ID == "" {
		t.Fatalf("second worker: %d SMS sent in all, deliveries %+v; want 1 and a duplicate with the first's ID", tf.count(), rep.Deliveries)
	}
}

func TestPostgresLedgerForgetsAfterItsTTLAsTheMemoryLedgerDoes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	pg := openLedger(t, url)
	pg.TTL, pg.Now = time.Hour, clock
	mem := &notify.MemoryLedger{TTL: time.Hour, Now: clock}
	ctx := context.Background()
	d := notify.Delivery{Person: "bob", Channel: "sms", Key: "r/e/bob/1", ID: "SM1", OK: true}
	for name, l := range map[string]notify.Ledger{"postgres": pg, "memory": mem} {
		now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		if err := l.Record(ctx, d); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		if got, ok, err := l.Delivered(ctx, d.Key, "sms"); err != nil || !ok || got.ID != "SM1" {
			t.Errorf("%s at the TTL: %+v %v %v, want the delivery", name, got, ok, err)
		}
		if _, ok, _ := l.Delivered(ctx, d.Key, "email"); ok {
			t.Errorf("%s: an SMS counts as an email", name)
		}
		now = now.Add(time.Second)
		if _, ok, err := l.Delivered(ctx, d.Key, "sms"); err != nil || ok {
			t.Errorf("%s past the TTL: still remembered (%v)", name, err)
		}
	}
}

func TestAnUnreachableLedgerStopsDeliveryWithALedgerError(t *testing.T) {
	tf, turl := serve(t, twilioOK)
	d, _ := dispatcher(t, "", turl)
	d.Ledger = failingLedger{}
	_, err := d.Deliver(context.Background(), request("alert_level_3", bob))
	var le *notify.LedgerError
	if !errors.As(err, &le) || tf.count() != 0 {
		t.Fatalf("err %v, %d SMS: want a LedgerError and nothing sent", err, tf.count())
	}
}

type failingLedger struct{}

func (failingLedger) Delivered(context.Context, string, string) (notify.Delivery, bool, error) {
	return notify.Delivery{}, false, errors.New("connection refused")
}
func (failingLedger) Record(context.Context, notify.Delivery) error {
	return errors.New("connection refused")
}
