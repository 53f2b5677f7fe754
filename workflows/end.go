package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// endError is how a release ends early: a stage returns one (not ready,
// rejected, timed out, start refused), an abort, a rollback request or a
// rollback trigger records one as the stop, and decide turns any other error
// into one. run alone writes its outcome and reason into the status.
type endError struct {
	Outcome record.Outcome
	Reason  string
	// By is who decided it: a person, "golive" or "temporal".
	By string
	// undo is set by decide when the saga has something to compensate.
	undo bool
}

func (e *endError) Error() string { return e.Reason }

// end is the terminal error a stage returns to end the release with an outcome.
func end(outcome record.Outcome, reason string) error {
	return &endError{Outcome: outcome, Reason: reason, By: "golive"}
}

// stopLifecycle records why the lifecycle stops (an abort or a rollback, and
// who decided it) and cancels it; the running step returns the stop and run
// compensates.
func (r *release) stopLifecycle(outcome record.Outcome, by, reason string) {
	r.stop = &endError{Outcome: outcome, Reason: reason, By: by}
	if r.cancelLifecycle != nil {
		r.cancelLifecycle()
	}
}

// decide turns how the lifecycle ended into how the release ends: nil is
// completed; a stage's end or the stop stands as it is; any other error is a
// rollback trigger. A rollback or an abort runs the saga when something was
// changed; with nothing changed a rollback ends the release as failed.
func (r *release) decide(ctx workflow.Context, err error) *endError {
	var e *endError
	switch {
	case err == nil:
		return &endError{Outcome: record.OutcomeCompleted, Reason: r.st.Reason}
	case errors.As(err, &e):
		e = &endError{Outcome: e.Outcome, Reason: e.Reason, By: e.By}
	case temporal.IsCanceledError(err) || ctx.Err() != nil:
		e = &endError{Outcome: record.OutcomeRolledBack, Reason: "release cancelled from Temporal", By: "temporal"}
	default:
		e = &endError{Outcome: record.OutcomeRolledBack, Reason: err.Error(), By: "golive"}
	}
	if e.Outcome != record.OutcomeRolledBack && e.Outcome != record.OutcomeAborted {
		return e
	}
	e.undo = len(r.comps) > 0
	if !e.undo && e.Outcome == record.OutcomeRolledBack {
		// Nothing was changed yet: there is nothing to roll back.
		e.Outcome = record.OutcomeFailed
	}
	return e
}

// requested reports whether a person (or a rollback trigger) asked for the rollback.
func (r *release) requested() bool {
	return r.stop != nil && r.stop.Outcome == record.OutcomeRolledBack
}
