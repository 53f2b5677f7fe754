package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// waitFor names what the release waits for from now, with its deadline (zero:
// until somebody acts) and what happens then; status, the UI's current details
// and -o json show it. Waits may overlap (the watch pauses for a decision while
// the completion sign-offs are open): the status shows the latest one still
// open, and done removes this one whatever order they end in.
func (r *release) waitFor(ctx workflow.Context, kind record.WaitKind, what string, until time.Time, then string) (done func()) {
	w := &record.Wait{Kind: kind, For: what, Until: until, Then: then}
	r.waits = append(r.waits, w)
	r.st.Waiting = w
	r.publish(ctx)
	return func() {
		r.waits = slices.DeleteFunc(r.waits, func(o *record.Wait) bool { return o == w })
		r.st.Waiting = nil
		if n := len(r.waits); n > 0 {
			r.st.Waiting = r.waits[n-1]
		}
	}
}

// waitUntil is timerUntil for a stage: the status says the release waits for that moment.
func (r *release) waitUntil(ctx workflow.Context, t time.Time, summary string) error {
	if !t.After(workflow.Now(ctx)) {
		return nil
	}
	defer r.waitFor(ctx, record.WaitTimer, summary, t, "")()
	return timerUntil(ctx, t, summary)
}
