package workflows

import (
	"slices"
	"strconv"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// notifyRoles sends one catalogue event to the people holding roles. A failed
// notification is recorded, never fatal: the release does not stop for a message.
func (r *release) notifyRoles(ctx workflow.Context, event string, roles []string, level int, text string) activities.NotifyResult {
	return r.send(ctx, event, level, r.recipients(roles), text)
}

// notifyUsers tells the application's users (maintenance window, rollback notice).
func (r *release) notifyUsers(ctx workflow.Context, event, text string) activities.NotifyResult {
	to := make([]activities.Recipient, 0, len(r.spec.Notify.Users))
	for _, u := range r.spec.Notify.Users {
		to = append(to, activities.Recipient{Person: "users", Email: u})
	}
	if len(to) == 0 {
		to = r.recipients([]string{"full_team"})
	}
	return r.send(ctx, event, 0, to, text)
}

func (r *release) send(ctx workflow.Context, event string, level int, to []activities.Recipient, text string) activities.NotifyResult {
	in := activities.NotifyInput{
		ReleaseID: r.st.ReleaseID, Event: event, Level: level, Notify: r.spec.Notify, To: to,
		Facts: []activities.Fact{
			{Key: "service", Value: r.spec.Service},
			{Key: "environment", Value: r.spec.Environment},
			{Key: "version", Value: r.in.Version},
			{Key: "stage", Value: string(r.st.Stage)},
			{Key: "text", Value: text},
		},
		Decided: r.decided(),
	}
	var res activities.NotifyResult
	r.sending++
	defer func() { r.sending-- }()
	if err := workflow.ExecuteActivity(act(ctx, "Notify: "+text, 0), notifier.Notify, in).Get(ctx, &res); err != nil {
		res = activities.NotifyResult{Result: activities.Result{State: record.ItemFailed, Detail: errText(err)}, Failed: len(to)}
		for _, p := range to {
			res.Deliveries = append(res.Deliveries, record.Notice{Event: event, Person: p.Person, Error: res.Detail})
		}
	}
	r.recordNotices(ctx, event, level, res)
	return res
}

// decided lists the sign-off decisions so far, oldest first, so a reminder or
// an escalation says who already decided and when ("approved by Grace at 14:02").
func (r *release) decided() []activities.Decision {
	var out []activities.Decision
	for _, sl := range r.st.Slots {
		for _, by := range sl.By {
			name := by.Name
			if name == "" {
				name = by.Person
			}
			out = append(out, activities.Decision{Slot: sl.ID, Decision: by.Decision, Name: name, At: by.At})
		}
	}
	slices.SortStableFunc(out, func(a, b activities.Decision) int { return a.At.Compare(b.At) })
	return out
}

// recordNotices keeps every delivery and failure in the release record and the
// audit ledger, one entry per person and channel tried.
func (r *release) recordNotices(ctx workflow.Context, event string, level int, res activities.NotifyResult) {
	now := workflow.Now(ctx)
	for _, n := range res.Deliveries {
		n.At, n.Level, n.Event = now, level, event
		r.st.Notices = append(r.st.Notices, n)
		outcome := "delivered"
		switch {
		case n.Duplicate:
			outcome = "already delivered"
		case !n.OK:
			outcome = "failed"
		}
		details := map[string]string{"person": n.Person, "level": strconv.Itoa(level)}
		if n.Channel != "" {
			details["channel"] = n.Channel
		}
		if n.ID != "" {
			details["id"] = n.ID
		}
		if n.Fallback {
			details["fallback"] = "true"
		}
		if n.Permanent {
			details["permanent"] = "true"
		}
		r.audit(ctx, audit.KindNotification, "golive", event+" "+outcome+" to "+n.Person, n.Error, details)
	}
	if len(res.Deliveries) == 0 {
		// Nobody to tell (no recipients): still on the record.
		r.audit(ctx, audit.KindNotification, "golive", event+" "+string(res.State), res.Detail,
			map[string]string{"delivered": "0", "failed": strconv.Itoa(res.Failed), "level": strconv.Itoa(level)})
	}
}

// level returns an escalation level's settings.
func (r *release) level(n int) spec.Level {
	for _, l := range r.spec.Escalation.Levels {
		if l.Level == n {
			return l
		}
	}
	return spec.Level{Level: n}
}

// levelRoles are the contact roles of an escalation level.
func (r *release) levelRoles(n int) []string { return r.level(n).Contacts }

// drainNotices waits, in releases since guidedFailure, for the notifications
// still in flight (an alert's ladder sends beside the lifecycle) before the
// evidence is written: a workflow that completes drops its pending
// activities, so an alert whose first attempt was lost would never be sent
// again and its delivery would be missing from the record. Each send is
// bounded by its own retry policy; ladders send no further level once the
// release has ended.
func (r *release) drainNotices(ctx workflow.Context) {
	if r.vGuided < guidedFailure {
		return
	}
	r.ended = true
	_ = workflow.Await(ctx, func() bool { return r.sending == 0 })
}
