package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// waitFor names what the release waits for from now, with its deadline (zero:
// until somebody acts) and what happens then; status, the UI's current details
// and -o json show it. The returned func puts back what was waited for before,
// so a wait inside another (a decision during T-0) ends where it began.
func (r *release) waitFor(ctx workflow.Context, kind record.WaitKind, what string, until time.Time, then string) (done func()) {
	prev := r.st.Waiting
	r.st.Waiting = &record.Wait{Kind: kind, For: what, Until: until, Then: then}
	r.publish(ctx)
	return func() { r.st.Waiting = prev }
}

// waitUntil is timerUntil for a stage: the status says the release waits for that moment.
func (r *release) waitUntil(ctx workflow.Context, t time.Time, summary string) error {
	if !t.After(workflow.Now(ctx)) {
		return nil
	}
	defer r.waitFor(ctx, record.WaitTimer, summary, t, "")()
	return timerUntil(ctx, t, summary)
}
