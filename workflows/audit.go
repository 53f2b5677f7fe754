package workflows

import (
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
)

// auditLog buffers audit events and appends them to the ledger in batches: at
// each stage change, after each human input or decision, and when the release
// ends. Since auditBatched a batch in flight is followed by one more only when
// such a moment came meanwhile (before, by one for whatever was buffered,
// which made an append of nearly every step at T-0). The
// ledger lives in golive's own database (retention is the database's, six years
// for HIPAA, not Temporal's). Without a ledger configured on the worker, the
// release notes it once and goes on: the Temporal history still holds it all.
type auditLog struct {
	pending  []audit.Event
	flushing bool
	// again is set when a flush is asked for while one runs; final when the
	// release ends and everything buffered goes.
	again, final bool
	off          bool
}

// changeAudit is the workflow change that appends the audit ledger once per
// flush moment instead of once per batch in flight, and appends the events
// of the evidence stage (the last one, "done") when the release ends.
const (
	changeAudit  = "audit-batched"
	auditBatched = workflow.Version(1)
)

var auditor *activities.Audit

// audit buffers one event.
func (r *release) audit(ctx workflow.Context, kind, actor, action, reason string, data map[string]string) {
	if r.ledger.off {
		return
	}
	r.ledger.pending = append(r.ledger.pending, audit.Event{At: workflow.Now(ctx), Kind: kind, Actor: actor, Action: action, Reason: reason, Data: data})
}

// flushAudit appends what is buffered. One flush runs at a time; events added
// meanwhile go with the next batch.
func (r *release) flushAudit(ctx workflow.Context) {
	if r.ledger.off {
		return
	}
	if r.ledger.flushing {
		r.ledger.again = true
		return
	}
	r.ledger.flushing = true
	defer func() { r.ledger.flushing = false }()
	info := workflow.GetInfo(ctx)
	for len(r.ledger.pending) > 0 && !r.ledger.off {
		batch := r.ledger.pending
		r.ledger.pending = nil
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			Summary:             "Audit ledger: append " + batch[0].Kind + " events",
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 10, MaximumInterval: time.Minute, NonRetryableErrorTypes: nonRetryable},
		})
		var res activities.AppendResult
		in := activities.AppendInput{ReleaseID: info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID, Events: batch}
		if err := workflow.ExecuteActivity(actx, auditor.Append, in).Get(ctx, &res); err != nil {
			var app *temporal.ApplicationError
			if temporal.IsApplicationError(err) && asApp(err, &app) && app.Type() == activities.ErrNotConfigured {
				r.ledger.off = true
				r.st.AuditHead = "not configured: " + firstLine(app.Message())
				return
			}
			// The ledger is down past the retries: keep the events for the next flush.
			r.ledger.pending = append(batch, r.ledger.pending...)
			workflow.GetLogger(ctx).Warn("audit append failed", "error", err)
			return
		}
		r.st.AuditHead = res.Head
		if r.vAudit >= auditBatched {
			if !r.ledger.again && !r.ledger.final {
				return
			}
			r.ledger.again = false
		}
	}
}

// flushAll appends everything buffered, once any flush in flight is done:
// the release is ending.
func (r *release) flushAll(ctx workflow.Context) {
	_ = workflow.Await(ctx, func() bool { return !r.ledger.flushing })
	r.ledger.final = true
	r.flushAudit(ctx)
}

func asApp(err error, target **temporal.ApplicationError) bool {
	for e := err; e != nil; {
		if a, ok := e.(*temporal.ApplicationError); ok {
			*target = a
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// inputAudit records a human input, accepted or refused.
func (r *release) inputAudit(ctx workflow.Context, name, person, slot, outcome, reason string) {
	kind := refusalKind(name)
	data := map[string]string{"input": name}
	if slot != "" {
		data["slot"] = slot
	}
	r.audit(ctx, kind, person, strings.TrimSpace(name+" "+outcome), reason, data)
	workflow.Go(ctx, r.flushAudit)
}
