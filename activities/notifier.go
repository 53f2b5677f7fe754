package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"

	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// Notifier sends catalogue events (internal/notify) to people. Channel "log"
// prints each message to the worker log (the demo uses it); channel "live"
// sends email through Resend and SMS through Twilio, with credentials resolved
// from the spec's references on the worker, an idempotency key per (release,
// event, recipient, occurrence), backoff on 429/5xx and fallback between the two.
type Notifier struct {
	Logger *slog.Logger
	// Secrets resolves the credential references; nil resolves env:// only.
	Secrets *secrets.Resolver
	// HTTP is the client both providers use (default: 30 s timeout).
	HTTP *http.Client
	// ResendBaseURL and TwilioBaseURL send the providers' requests elsewhere
	// (a contract mock in tests); empty means the providers' own APIs.
	ResendBaseURL, TwilioBaseURL string
	// Ledger remembers deliveries by idempotency key across activity attempts
	// (worker.Register gives every Notifier a NotifyLedger: golive's database,
	// shared by every worker, or memory when none is configured); nil remembers
	// nothing beyond one attempt.
	Ledger notify.Ledger
	// Retry is the per-channel backoff on 429 and 5xx (zero: notify's defaults).
	Retry notify.Retry
	// Link, when set, gives each recipient of an event that asks them to act
	// (sign-off requests, reminders, timeouts, attestation requests, alerts)
	// a short link to the release's approval page: it names that one person
	// and this release, expires, and signs nothing by itself
	// (approvals.Linker builds it from the pages' base URL and link key).
	Link func(release, person string) string
	// HeartbeatNow records deliveries on the server at once (ServerHeartbeat), so
	// a retry after a crash never sends an SMS twice; nil uses the batched heartbeat.
	HeartbeatNow func(context.Context, ...any)
}

func (n *Notifier) beat(ctx context.Context, details ...any) {
	if n.HeartbeatNow != nil {
		n.HeartbeatNow(ctx, details...)
		return
	}
	heartbeat(ctx, details...)
}

// Notify sends one event to its recipients. Delivery failures are reported in
// the result, never returned as errors: the release does not stop for a message.
// A ledger that cannot be read or written is an error, retried: sending
// without it could send twice.
func (n *Notifier) Notify(ctx context.Context, in NotifyInput) (NotifyResult, error) {
	switch in.Notify.Channel {
	case "", "log":
		return n.log(ctx, in), nil
	case "live":
		return n.live(ctx, in)
	}
	return undelivered(in, record.ItemUnavailable, "not configured: unknown notify channel "+in.Notify.Channel), nil
}

func (n *Notifier) logger() *slog.Logger {
	if n.Logger == nil {
		return slog.Default()
	}
	return n.Logger
}

// log prints each message to the worker log instead of sending it.
func (n *Notifier) log(ctx context.Context, in NotifyInput) NotifyResult {
	text := factValue(in.Facts, "text")
	for _, to := range in.To {
		attrs := []any{"release", in.ReleaseID, "event", in.Event, "level", in.Level, "to", to.Person, "text", text}
		if m, err := notify.Render(notify.NewData(in.ReleaseID, in.Event, in.Level, to.Name, facts(in.Facts)).With(n.link(in, to.Person), decided(in.Decided))); err == nil {
			attrs = append(attrs, "subject", m.Subject, "sms", m.SMS)
		}
		n.logger().InfoContext(ctx, "notify", attrs...)
	}
	res := NotifyResult{Result: Result{State: record.ItemPassed, Value: "logged for " + names(in.To)}, Delivered: len(in.To)}
	for _, to := range in.To {
		res.Deliveries = append(res.Deliveries, record.Notice{Event: in.Event, Person: to.Person, Channel: "log", OK: true})
	}
	return res
}

// undelivered is the result when nothing could be tried: every recipient missed, for one reason.
func undelivered(in NotifyInput, state record.ItemState, detail string) NotifyResult {
	res := NotifyResult{Result: Result{State: state, Detail: detail}, Failed: len(in.To)}
	for _, to := range in.To {
		res.Deliveries = append(res.Deliveries, record.Notice{Event: in.Event, Person: to.Person, Error: detail, Permanent: true})
	}
	return res
}

// notices turns the dispatcher's deliveries into release-record entries.
func notices(ds []notify.Delivery) []record.Notice {
	out := make([]record.Notice, 0, len(ds))
	for _, d := range ds {
		out = append(out, record.Notice{
			Event: d.Event, Person: d.Person, Channel: d.Channel, OK: d.OK, ID: d.ID, Duplicate: d.Duplicate,
			Fallback: d.Fallback, Attempts: d.Attempts, Error: d.Error, Permanent: d.Permanent,
		})
	}
	return out
}

// live delivers by email and SMS.
func (n *Notifier) live(ctx context.Context, in NotifyInput) (NotifyResult, error) {
	ev, ok := notify.Lookup(in.Event)
	if !ok {
		return undelivered(in, record.ItemFailed, fmt.Sprintf("event %q is not in the message catalogue", in.Event)), nil
	}
	d := n.dispatcher(ctx, in.Notify)
	if d.Email == nil && d.SMS == nil {
		return undelivered(in, record.ItemUnavailable, "not configured: "+unavailable(d.Unavailable)), nil
	}
	req := notify.Request{ReleaseID: in.ReleaseID, Event: in.Event, Level: in.Level, Occurrence: occurrence(ctx, in), Facts: facts(in.Facts), Decided: decided(in.Decided)}
	for _, r := range in.To {
		req.To = append(req.To, notify.Address{Person: r.Person, Name: r.Name, Email: r.Email, Phone: r.Phone, Link: n.link(in, r.Person)})
	}
	if activity.IsActivity(ctx) {
		// Deliveries of an earlier attempt of this activity (kept in its heartbeat)
		// count as sent, so an attempt that died half-way does not send twice.
		var done []notify.Delivery
		if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &done) == nil {
			d.Ledger = &layered{seen: done, next: d.Ledger}
		}
		d.OnDelivery = func(dl notify.Delivery) {
			if dl.OK {
				done = append(done, dl)
				n.beat(ctx, done)
			}
		}
	}
	rep, err := d.Deliver(ctx, req)
	var lerr *notify.LedgerError
	if errors.As(err, &lerr) {
		return NotifyResult{}, err
	}
	if err != nil {
		return undelivered(in, record.ItemFailed, err.Error()), nil
	}
	for _, dl := range rep.Deliveries {
		lg := n.logger().With("release", in.ReleaseID, "event", in.Event, "to", dl.Person, "channel", dl.Channel, "key", dl.Key)
		switch {
		case dl.Duplicate:
			lg.InfoContext(ctx, "notify: already delivered, not sent again", "id", dl.ID)
		case dl.OK:
			lg.InfoContext(ctx, "notify: delivered", "id", dl.ID, "attempts", dl.Attempts, "fallback", dl.Fallback)
		default:
			lg.WarnContext(ctx, "notify: delivery failed", "error", dl.Error, "permanent", dl.Permanent, "attempts", dl.Attempts)
		}
	}
	value, detail := rep.Summary()
	res := NotifyResult{Result: Result{State: record.ItemPassed, Value: value, Detail: detail}, Delivered: len(rep.Reached), Failed: len(rep.Missed), Deliveries: notices(rep.Deliveries)}
	switch {
	case len(rep.Missed) > 0:
		res.State = record.ItemFailed
	case ev.Route == notify.EveryChannel && (len(rep.Failures()) > 0 || len(d.Unavailable) > 0):
		// The T+1h test message checks that each enabled channel works: one that
		// failed, or could not be configured, fails it.
		res.State = record.ItemFailed
	case len(in.To) == 0:
		res.State, res.Detail = record.ItemFailed, "no recipients"
	}
	if msg := unavailable(d.Unavailable); msg != "" && res.State != record.ItemPassed {
		res.Detail = strings.TrimPrefix(res.Detail+"; not configured: "+msg, "; ")
	}
	return res, nil
}

// dispatcher builds the channels the spec enables, resolving credentials here,
// inside the activity: values never leave the worker.
func (n *Notifier) dispatcher(ctx context.Context, cfg spec.Notify) *notify.Dispatcher {
	d := &notify.Dispatcher{Retry: n.Retry, Ledger: n.Ledger, Unavailable: map[string]string{}}
	if d.Ledger == nil {
		d.Ledger = &notify.MemoryLedger{}
	}
	res := n.Secrets
	if res == nil {
		res = &secrets.Resolver{}
	}
	// resolve replaces each field's reference by its value; fields come in (name, pointer) pairs.
	resolve := func(ch string, fields ...any) bool {
		for i := 0; i < len(fields); i += 2 {
			name, r := fields[i].(string), fields[i+1].(*string)
			if *r == "" {
				d.Unavailable[ch] = "notify." + name + " is empty"
				return false
			}
			v, err := res.Resolve(ctx, *r)
			if err != nil {
				d.Unavailable[ch] = "notify." + name + ": " + err.Error()
				return false
			}
			*r = v
		}
		return true
	}
	channels := cfg.Channels
	if len(channels) == 0 {
		channels = []string{notify.ChannelEmail, notify.ChannelSMS}
	}
	for _, ch := range channels {
		switch ch {
		case notify.ChannelEmail:
			key, from := cfg.ResendAPIKey, cfg.From
			if resolve(ch, "resend_api_key", &key, "from", &from) {
				d.Email = &notify.Resend{APIKey: key, From: from, ClientOptions: notify.ClientOptions{HTTP: n.HTTP, BaseURL: n.ResendBaseURL}}
			}
		case notify.ChannelSMS:
			sid, token, from := cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioFrom
			if resolve(ch, "twilio_account_sid", &sid, "twilio_auth_token", &token, "twilio_from", &from) {
				d.SMS = &notify.Twilio{AccountSID: sid, AuthToken: token, From: from, ClientOptions: notify.ClientOptions{HTTP: n.HTTP, BaseURL: n.TwilioBaseURL}}
			}
		}
	}
	return d
}

// occurrence tells sends of one event in one release apart: the workflow run and
// the activity ID are the same on every retry of this activity and differ for
// the next reminder or alert.
func occurrence(ctx context.Context, in NotifyInput) string {
	var parts []string
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		parts = append(parts, info.WorkflowExecution.RunID, info.ActivityID)
	}
	if in.Attempt > 0 {
		parts = append(parts, fmt.Sprint(in.Attempt))
	}
	return strings.Join(parts, "/")
}

func unavailable(m map[string]string) string {
	var out []string
	for _, ch := range []string{notify.ChannelEmail, notify.ChannelSMS} {
		if why := m[ch]; why != "" {
			out = append(out, ch+": "+why)
		}
	}
	return strings.Join(out, "; ")
}

// layered is a ledger that first answers from an earlier attempt's deliveries.
type layered struct {
	mu   sync.Mutex
	seen []notify.Delivery
	next notify.Ledger
}

func (l *layered) Delivered(ctx context.Context, key, channel string) (notify.Delivery, bool, error) {
	l.mu.Lock()
	for _, d := range l.seen {
		if d.Key == key && d.Channel == channel && d.OK {
			l.mu.Unlock()
			return d, true, nil
		}
	}
	l.mu.Unlock()
	if l.next == nil {
		return notify.Delivery{}, false, nil
	}
	return l.next.Delivered(ctx, key, channel)
}

func (l *layered) Record(ctx context.Context, d notify.Delivery) error {
	if l.next != nil {
		return l.next.Record(ctx, d)
	}
	return nil
}

// link is person's approval-page link for this event, or "" (no pages
// configured, an event that asks nothing of them, or the users' notice).
func (n *Notifier) link(in NotifyInput, person string) string {
	ev, ok := notify.Lookup(in.Event)
	if n.Link == nil || !ok || !ev.Action || person == "" || person == "users" {
		return ""
	}
	return n.Link(in.ReleaseID, person)
}

func decided(in []Decision) []notify.Decision {
	out := make([]notify.Decision, 0, len(in))
	for _, d := range in {
		out = append(out, notify.Decision{Slot: d.Slot, Decision: d.Decision, Name: d.Name, At: d.At})
	}
	return out
}

func facts(in []Fact) []notify.Fact {
	out := make([]notify.Fact, 0, len(in))
	for _, f := range in {
		out = append(out, notify.Fact{Key: f.Key, Value: f.Value})
	}
	return out
}

func factValue(facts []Fact, key string) string {
	for _, f := range facts {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

func names(to []Recipient) string {
	ids := make([]string, 0, len(to))
	for _, r := range to {
		ids = append(ids, r.Person)
	}
	return strings.Join(ids, ", ")
}
