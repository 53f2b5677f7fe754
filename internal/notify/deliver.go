package notify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Key is the idempotency key of one message to one recipient: release, event,
// recipient and occurrence (which send of the event this is: the activity's run
// and ID, so a reminder sent again an hour later is a new message, while a
// retried activity reuses its key). At most 256 characters, as Resend allows.
func Key(releaseID, event, person, occurrence string) string {
	k := releaseID + "/" + event + "/" + person
	if occurrence != "" {
		k += "/" + occurrence
	}
	return truncate(k, 256)
}

// Retry is the backoff on transient failures (429, 5xx, no response) of one channel.
type Retry struct {
	// Attempts per channel, the first one included (default 4).
	Attempts int
	// Initial is the first wait (default 500 ms); each wait doubles up to Max (default 8 s).
	// A provider's Retry-After is honoured up to Max.
	Initial, Max time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.Initial <= 0 {
		r.Initial = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 8 * time.Second
	}
	if r.Max < r.Initial {
		r.Max = r.Initial
	}
	return r
}

func (r Retry) wait(n int, after time.Duration) time.Duration {
	d := r.Initial << min(n, 20)
	if after > 0 {
		d = after
	}
	return min(d, r.Max)
}

// Delivery is the outcome of one message to one recipient on one channel.
type Delivery struct {
	Person  string `json:"person"`
	Event   string `json:"event"`
	Channel string `json:"channel"`
	// Key is the idempotency key (release/event/person/occurrence).
	Key string `json:"key"`
	// ID is the provider's message ID (Resend email ID, Twilio message SID).
	ID string `json:"id,omitempty"`
	OK bool   `json:"ok"`
	// Duplicate: the ledger already held a delivery under this key; nothing was sent again.
	Duplicate bool `json:"duplicate,omitempty"`
	// Fallback: this channel was tried because the recipient's first channel failed.
	Fallback bool `json:"fallback,omitempty"`
	Attempts int  `json:"attempts,omitempty"`
	// Error and Permanent describe a failure (redacted).
	Error     string `json:"error,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
}

// Request is one catalogue event for a list of recipients.
type Request struct {
	ReleaseID string
	Event     string
	Level     int
	// Occurrence tells sends of the same event apart (see Key).
	Occurrence string
	Facts      []Fact
	To         []Address
	// Decided are the decisions made so far, for "approved by Grace at 14:02".
	Decided []Decision
}

// Report is what happened to every recipient of a Request.
type Report struct {
	Event string `json:"event"`
	// Deliveries lists every channel tried, per recipient, in order.
	Deliveries []Delivery `json:"deliveries"`
	// Reached are the recipients that got the message on at least one channel.
	Reached []string `json:"reached,omitempty"`
	// Missed are the recipients that no channel reached.
	Missed []string `json:"missed,omitempty"`
}

// Failures are the deliveries that failed, fallbacks or not.
func (r Report) Failures() []Delivery {
	var out []Delivery
	for _, d := range r.Deliveries {
		if !d.OK {
			out = append(out, d)
		}
	}
	return out
}

// Summary is a one-line value ("3 of 3 reached: email 2, sms 1") and a detail
// naming each failure and fallback, both free of addresses and credentials.
func (r Report) Summary() (value, detail string) {
	by := map[string]int{}
	for _, d := range r.Deliveries {
		if d.OK {
			by[d.Channel]++
		}
	}
	var parts []string
	for _, ch := range []string{ChannelEmail, ChannelSMS} {
		if by[ch] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", ch, by[ch]))
		}
	}
	total := len(r.Reached) + len(r.Missed)
	value = fmt.Sprintf("%d of %d reached", len(r.Reached), total)
	if len(parts) > 0 {
		value += ": " + strings.Join(parts, ", ")
	}
	var notes []string
	for _, d := range r.Failures() {
		n := fmt.Sprintf("%s to %s failed after %d attempt(s): %s", d.Channel, d.Person, d.Attempts, d.Error)
		if fb := r.fallbackOf(d); fb != "" {
			n += "; " + fb
		}
		notes = append(notes, n)
	}
	if len(r.Missed) > 0 {
		notes = append(notes, "not reached: "+strings.Join(r.Missed, ", "))
	}
	return value, strings.Join(notes, "; ")
}

func (r Report) fallbackOf(failed Delivery) string {
	for _, d := range r.Deliveries {
		if d.Person == failed.Person && d.Fallback && d.Channel != failed.Channel && d.OK {
			return "sent by " + d.Channel + " instead"
		}
	}
	return ""
}

// Dispatcher renders catalogue events and delivers them by email and SMS.
type Dispatcher struct {
	// Email and SMS are the configured channels; nil means not available.
	Email, SMS Channel
	// Unavailable says why a channel is missing (e.g. "sms: env://TWILIO_AUTH_TOKEN is not set").
	Unavailable map[string]string
	Retry       Retry
	// Ledger remembers deliveries by key; nil means no memory beyond this call.
	Ledger Ledger
	// Sleep waits between attempts (default: a timer that stops with ctx).
	Sleep func(ctx context.Context, d time.Duration) error
	// OnDelivery is called after each channel's outcome (the activity heartbeats with it).
	OnDelivery func(Delivery)
}

func (d *Dispatcher) channel(name string) Channel {
	switch name {
	case ChannelEmail:
		return d.Email
	case ChannelSMS:
		return d.SMS
	}
	return nil
}

// Plan returns the channels a recipient gets an event by, in order: for
// EmailFirst and SMSFirst the first one the recipient and the dispatcher both
// have, then the fallback; for EveryChannel each of them.
func (d *Dispatcher) Plan(ev Event, to Address) []string {
	order := []string{ChannelEmail, ChannelSMS}
	if ev.Route == SMSFirst {
		order = []string{ChannelSMS, ChannelEmail}
	}
	var plan []string
	for _, ch := range order {
		if to.has(ch) && d.channel(ch) != nil {
			plan = append(plan, ch)
		}
	}
	return plan
}

// Deliver sends the event to every recipient. It returns an error when the
// event cannot be rendered or the ledger cannot be read or written (nothing
// more is sent then: a retry asks the ledger again); delivery failures are in
// the report.
func (d *Dispatcher) Deliver(ctx context.Context, req Request) (Report, error) {
	ev, ok := Lookup(req.Event)
	if !ok {
		return Report{}, fmt.Errorf("event %q is not in the message catalogue", req.Event)
	}
	rep := Report{Event: req.Event}
	for _, to := range req.To {
		msg, err := Render(NewData(req.ReleaseID, req.Event, req.Level, to.Name, req.Facts).With(to.Link, req.Decided))
		if err != nil {
			return Report{}, err
		}
		key := Key(req.ReleaseID, req.Event, to.Person, req.Occurrence)
		reached, err := d.deliverOne(ctx, ev, key, to, msg, &rep)
		if err != nil {
			return rep, err
		}
		if reached {
			rep.Reached = append(rep.Reached, to.Person)
		} else {
			rep.Missed = append(rep.Missed, to.Person)
		}
	}
	return rep, nil
}

// deliverOne sends to one recipient along its plan and reports whether it reached them.
func (d *Dispatcher) deliverOne(ctx context.Context, ev Event, key string, to Address, msg Message, rep *Report) (bool, error) {
	plan := d.Plan(ev, to)
	if len(plan) == 0 {
		rep.Deliveries = append(rep.Deliveries, Delivery{Person: to.Person, Event: ev.Name, Key: key, Permanent: true, Error: d.noRoute(to)})
		return false, nil
	}
	every := ev.Route == EveryChannel
	if !every {
		// Reached before on any channel (a fallback included): that counts for all.
		for _, ch := range plan {
			if dup, err := d.duplicate(ctx, key, ch, ev, rep); dup || err != nil {
				return dup, err
			}
		}
	}
	reached := false
	for i, ch := range plan {
		if reached && !every {
			break
		}
		if every {
			dup, err := d.duplicate(ctx, key, ch, ev, rep)
			if err != nil {
				return reached, err
			}
			if dup {
				reached = true
				continue
			}
		}
		dl := d.send(ctx, d.channel(ch), key, to, msg)
		dl.Event, dl.Fallback = ev.Name, i > 0 && !every
		rep.Deliveries = append(rep.Deliveries, dl)
		d.note(dl)
		if dl.OK {
			reached = true
			if err := d.record(ctx, dl); err != nil {
				// Sent but not remembered: the activity's heartbeat (note) still holds it.
				return reached, err
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return reached, nil
}

func (d *Dispatcher) record(ctx context.Context, dl Delivery) error {
	if d.Ledger == nil {
		return nil
	}
	if err := d.Ledger.Record(ctx, dl); err != nil {
		return &LedgerError{Op: "record", Key: dl.Key, Channel: dl.Channel, Err: err}
	}
	return nil
}

// duplicate reports a delivery the ledger already holds for key on ch, and records it as such.
func (d *Dispatcher) duplicate(ctx context.Context, key, ch string, ev Event, rep *Report) (bool, error) {
	if d.Ledger == nil {
		return false, nil
	}
	prev, ok, err := d.Ledger.Delivered(ctx, key, ch)
	if err != nil {
		return false, &LedgerError{Op: "look up", Key: key, Channel: ch, Err: err}
	}
	if !ok {
		return false, nil
	}
	prev.Duplicate, prev.Attempts, prev.Event, prev.Fallback = true, 0, ev.Name, false
	rep.Deliveries = append(rep.Deliveries, prev)
	d.note(prev)
	return true, nil
}

func (d *Dispatcher) note(dl Delivery) {
	if d.OnDelivery != nil {
		d.OnDelivery(dl)
	}
}

// noRoute explains why a recipient has no channel.
func (d *Dispatcher) noRoute(to Address) string {
	var why []string
	for _, ch := range []string{ChannelEmail, ChannelSMS} {
		switch {
		case !to.has(ch):
			why = append(why, "no "+map[string]string{ChannelEmail: "email address", ChannelSMS: "phone number"}[ch])
		case d.channel(ch) == nil:
			reason := d.Unavailable[ch]
			if reason == "" {
				reason = "not enabled"
			}
			why = append(why, ch+" "+reason)
		}
	}
	sort.Strings(why)
	return "no channel reaches " + to.Person + ": " + strings.Join(why, "; ")
}

// send tries one channel with backoff on transient failures.
func (d *Dispatcher) send(ctx context.Context, ch Channel, key string, to Address, msg Message) Delivery {
	r := d.Retry.withDefaults()
	dl := Delivery{Person: to.Person, Channel: ch.Name(), Key: key}
	for n := 0; n < r.Attempts; n++ {
		dl.Attempts = n + 1
		id, err := ch.Send(ctx, key, to, msg)
		if err == nil {
			dl.OK, dl.ID, dl.Error, dl.Permanent = true, id, "", false
			return dl
		}
		var se *Error
		if !errors.As(err, &se) {
			se = &Error{Channel: ch.Name(), Reason: Redact(err.Error())}
		}
		dl.Error, dl.Permanent = se.Error(), se.Permanent
		if se.Permanent || n == r.Attempts-1 {
			break
		}
		if err := d.sleep(ctx, r.wait(n, se.RetryAfter)); err != nil {
			dl.Error += "; " + err.Error()
			break
		}
	}
	return dl
}

func (d *Dispatcher) sleep(ctx context.Context, w time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, w)
	}
	t := time.NewTimer(w)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
