package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
)

// maxSends bounds how often one alert is sent at the top level without an acknowledgement.
const maxSends = 10

// escalations runs the escalation ladder of every alert: notify the level's
// contacts, wait for an acknowledgement within the level's response time, and
// without one raise a level and send again.
type escalations struct {
	r    *release
	root workflow.Context
}

func newEscalations(r *release) *escalations { return &escalations{r: r} }

// raise opens an alert at a level, unless an unacknowledged alert with the same
// key is already open. It returns the alert ID.
func (e *escalations) raise(ctx workflow.Context, level int, reason, key string) string {
	st := &e.r.st
	level = e.clamp(level)
	if key != "" {
		for i := range st.Alerts {
			a := &st.Alerts[i]
			if a.Key == key && a.AckedBy == "" {
				if level > a.Level {
					// A worse breach of the same thing: raise the open alert now
					// (its ladder wakes up and sends at the new level).
					a.Level, a.Reason = level, reason
				}
				return a.ID
			}
		}
	}
	id := fmt.Sprintf("A%d", len(st.Alerts)+1)
	st.Alerts = append(st.Alerts, record.Alert{ID: id, Key: key, Level: level, Reason: reason, RaisedAt: workflow.Now(ctx)})
	root := e.root
	if root == nil {
		root = ctx
	}
	// Owed from now, though the ladder's coroutine has not run yet (see drainNotices).
	e.r.sending++
	workflow.Go(root, func(ctx workflow.Context) { e.ladder(ctx, id) })
	return id
}

func (e *escalations) clamp(level int) int {
	top := len(e.r.spec.Escalation.Levels)
	if level < 1 {
		level = 1
	}
	if top > 0 && level > top {
		level = top
	}
	return level
}

func (e *escalations) alert(id string) *record.Alert {
	for i := range e.r.st.Alerts {
		if e.r.st.Alerts[i].ID == id {
			return &e.r.st.Alerts[i]
		}
	}
	return nil
}

// ladder sends and raises one alert until it is acknowledged.
func (e *escalations) ladder(ctx workflow.Context, id string) {
	top := len(e.r.spec.Escalation.Levels)
	for {
		a := e.alert(id)
		lv := e.r.level(a.Level)
		a.Sent++
		e.r.notifyRoles(ctx, notify.AlertEvent(a.Level), lv.Contacts, a.Level,
			fmt.Sprintf("[%s] Level %d %s: %s (ack with: golive ack %s %s)", id, a.Level, lv.Name, a.Reason, record.ShortRelease(e.r.st.ReleaseID), id))
		if a.Sent == 1 {
			e.r.sending-- // the first send, owed since raise, is in the record
		}
		if lv.Response <= 0 && a.Level >= top || a.Sent >= maxSends {
			return
		}
		wait := max(lv.Response.D(), time.Second)
		sentAt := a.Level
		woke, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout:      wait,
			TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("Alert %s level %d: wait %s for an acknowledgement", id, a.Level, lv.Response)},
		}, func() bool { a := e.alert(id); return a.AckedBy != "" || a.Level != sentAt })
		if err != nil || e.alert(id).AckedBy != "" || e.r.ended {
			return
		}
		if a = e.alert(id); !woke && a.Level < top {
			a.Level++
		}
		e.r.publish(ctx)
	}
}

// ack acknowledges an alert, which stops its ladder.
func (r *release) ack(ctx workflow.Context, k Ack) (InputResult, error) {
	if err := r.member(k.Person); err != nil {
		return InputResult{}, err
	}
	a := r.alerts.alert(k.AlertID)
	if a == nil {
		return InputResult{}, fmt.Errorf("no alert %q; open alerts: %v", k.AlertID, r.openAlerts())
	}
	fp, err := r.proveInput(ctx, k)
	if err != nil {
		return InputResult{}, err
	}
	if a.AckedBy != "" {
		return InputResult{Message: fmt.Sprintf("%s was already acknowledged by %s", a.ID, a.AckedBy), Duplicate: true}, nil
	}
	a.AckedBy, a.AckedAt = k.Person, workflow.Now(ctx)
	r.proven(ctx, AckName, k.Person, fp, a.ID+": "+a.Reason)
	if r.v >= versionIdentity {
		// The watch of this release runs in the release itself now: a paused
		// watch waits for this acknowledgement (see monitorWindow).
		return InputResult{Message: fmt.Sprintf("%s acknowledged by %s at level %d", a.ID, k.Person, a.Level) + proofNote(fp)}, nil
	}
	if window, ok := strings.CutPrefix(a.Key, "inconclusive:"); ok {
		// The person decided: the paused watch goes on.
		child := MonitorID(r.st.ReleaseID, window)
		workflow.Go(ctx, func(ctx workflow.Context) {
			_ = workflow.SignalExternalWorkflow(ctx, child, "", WatchDecisionName, "continue by "+k.Person).Get(ctx, nil)
		})
	}
	return InputResult{Message: fmt.Sprintf("%s acknowledged by %s at level %d", a.ID, k.Person, a.Level)}, nil
}

func (r *release) openAlerts() []string {
	var ids []string
	for _, a := range r.st.Alerts {
		if a.AckedBy == "" {
			ids = append(ids, a.ID)
		}
	}
	return ids
}
