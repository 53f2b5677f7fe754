package activities

import (
	"context"
	"log/slog"
	"strings"
)

// Notifier sends catalogue events to people. Channel "log" prints each message
// to the worker log (the demo uses it); live channels arrive with the
// notifications integration.
type Notifier struct {
	Logger *slog.Logger
}

// Notify sends one event to its recipients.
func (n *Notifier) Notify(ctx context.Context, in NotifyInput) (NotifyResult, error) {
	switch in.Notify.Channel {
	case "", "log":
		text := factValue(in.Facts, "text")
		for _, to := range in.To {
			n.Logger.InfoContext(ctx, "notify", "release", in.ReleaseID, "event", in.Event, "level", in.Level, "to", to.Person, "text", text)
		}
		return NotifyResult{Result: Result{State: StatePassed, Value: "logged for " + names(in.To)}, Delivered: len(in.To)}, nil
	}
	return NotifyResult{Result: Result{State: StateUnavailable, Detail: "not configured: channel " + in.Notify.Channel + " arrives with the notifications integration"}}, nil
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
