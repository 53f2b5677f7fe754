package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/internal/telemetry"
)

// changeIdentity is the workflow change that brought the team directory,
// proofs on every human input, counted refusals and watch checks as child
// results; versionIdentity is the version releases start under since.
const (
	changeIdentity  = "identity-directory"
	versionIdentity = workflow.Version(1)
)

// ReleaseWorkflow runs one release through the ten stages of the checklist.
// It is thin on purpose: setup validates the input and registers every handler
// before the first blocking call; run does the work.
func ReleaseWorkflow(ctx workflow.Context, in ReleaseInput) (ReleaseResult, error) {
	r, err := newRelease(ctx, in)
	if err != nil {
		return ReleaseResult{}, err
	}
	return r.run(ctx)
}

// release is the state of one running release. Everything the status query
// shows lives in st; the rest steers the run.
type release struct {
	in   ReleaseInput
	spec spec.Spec
	st   record.Status
	// v is the identity version the release started under (versionIdentity
	// and later: team directory, proofs on every input, check children).
	v workflow.Version
	// dir is the team directory pinned at the plan stage (nil before it, and
	// for releases started before directories).
	dir *directory.Snapshot
	// usedSigs are the signatures already accepted (digest -> when), so a
	// replayed input is refused.
	usedSigs map[string]time.Time
	// refusals indexes st.Refused by refusal key (index+1), to count repeats.
	refusals map[string]int

	// lifecycle is cancelled by an abort, a rollback request or a rollback trigger.
	cancelLifecycle workflow.CancelFunc
	// stop is why the lifecycle was cancelled (nil while it runs).
	stop *stopReason
	// rejected is set by a rejected sign-off.
	rejected *record.SignedBy
	// open is the sign-off block that currently accepts sign-offs.
	open string
	// comps are compensations of what was done, applied in reverse on rollback.
	comps []compensation
	// reports counts monitoring reports per window, for Await conditions.
	reports map[string]int
	alerts  *escalations
	ledger  auditLog
}

// stopKind says why the lifecycle stopped early.
type stopKind int

const (
	stopAbort stopKind = iota + 1
	stopRollback
)

// stopReason is why the lifecycle was cancelled and by whom.
type stopReason struct {
	kind   stopKind
	by     string
	reason string
}

// errStopped is returned by steps after the lifecycle has been cancelled.
var errStopped = errors.New("release stopped")

func newRelease(ctx workflow.Context, in ReleaseInput) (*release, error) {
	if in.Spec.Service == "" || in.Spec.Environment == "" {
		return nil, temporal.NewNonRetryableApplicationError("spec has no service or environment", "BadInput", nil)
	}
	if in.Version == "" {
		return nil, temporal.NewNonRetryableApplicationError("no version to release", "BadInput", nil)
	}
	now := workflow.Now(ctx)
	window := in.Window
	if window.IsZero() || window.Before(now) {
		window = now
	}
	r := &release{
		in:       in,
		spec:     in.Spec,
		v:        workflow.GetVersion(ctx, changeIdentity, workflow.DefaultVersion, versionIdentity),
		reports:  map[string]int{},
		usedSigs: map[string]time.Time{},
		refusals: map[string]int{},
		st: record.Status{
			ReleaseID:   workflow.GetInfo(ctx).WorkflowExecution.ID,
			Service:     in.Spec.Service,
			Environment: in.Spec.Environment,
			Version:     in.Version,
			Requester:   in.Requester,
			SpecFile:    in.SpecFile,
			SpecDigest:  in.SpecDigest,
			StartedAt:   now,
			Window:      window,
			Stage:       record.StagePlan,
			Outcome:     record.OutcomeRunning,
		},
	}
	r.alerts = newEscalations(r)
	r.st.Items = checklistItems(in.Spec)
	r.st.Slots = slotStates(in.Spec)
	if err := r.registerHandlers(ctx); err != nil {
		return nil, fmt.Errorf("register handlers: %w", err)
	}
	return r, nil
}

// run drives the lifecycle, then the rollback saga or the review, then the evidence.
func (r *release) run(ctx workflow.Context) (ReleaseResult, error) {
	r.alerts.root = ctx
	lctx, cancel := workflow.WithCancel(ctx)
	r.cancelLifecycle = cancel
	err := r.lifecycle(lctx)

	// From here on, work runs on a disconnected context so that a cancelled
	// release (abort, UI cancel) still compensates and records what happened.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	switch {
	case err == nil:
		r.st.Outcome = record.OutcomeCompleted
	case r.st.Outcome != record.OutcomeRunning:
		// The stage that failed has already set a terminal outcome (rejected, not ready, timed out).
	default:
		r.finishWithRollback(dctx, err)
	}
	r.setStage(dctx, record.StageEvidence)
	// The ledger's chain head goes into the evidence: flush everything first.
	_ = workflow.Await(dctx, func() bool { return !r.ledger.flushing })
	r.flushAudit(dctx)
	r.writeEvidence(dctx)
	r.setStage(dctx, record.StageDone)
	telemetry.ReleaseFinished(workflow.GetMetricsHandler(dctx), string(r.st.Outcome))
	return ReleaseResult{
		Outcome:      r.st.Outcome,
		Version:      r.in.Version,
		LiveVersion:  r.st.LiveVersion,
		Reason:       r.st.Reason,
		EvidencePath: r.st.Evidence,
	}, nil
}

// finishWithRollback decides what an interrupted lifecycle means and runs the saga.
func (r *release) finishWithRollback(ctx workflow.Context, err error) {
	trigger, by := r.stopCause(ctx, err)
	aborted := r.stop != nil && r.stop.kind == stopAbort
	if len(r.comps) == 0 {
		// Nothing was changed yet: there is nothing to roll back.
		r.st.Outcome = record.OutcomeFailed
		if aborted {
			r.st.Outcome = record.OutcomeAborted
		}
		r.st.Reason = trigger
		return
	}
	telemetry.Rollback(workflow.GetMetricsHandler(ctx), telemetry.RollbackReason(aborted, r.stop != nil && r.stop.kind == stopRollback, by, trigger))
	r.rollback(ctx, trigger, by)
	r.st.Outcome = record.OutcomeRolledBack
	if aborted {
		r.st.Outcome = record.OutcomeAborted
	}
	r.st.Reason = trigger
	if !aborted {
		r.postRollbackReview(ctx)
	}
}

// stopCause names why the lifecycle ended early and who decided it.
func (r *release) stopCause(ctx workflow.Context, err error) (string, string) {
	if r.stop != nil {
		return r.stop.reason, r.stop.by
	}
	if temporal.IsCanceledError(err) || ctx.Err() != nil {
		return "release cancelled from Temporal", "temporal"
	}
	return err.Error(), "golive"
}

// stopped reports whether the lifecycle was interrupted; steps turn that into errStopped.
func (r *release) stopped() bool { return r.stop != nil }

// lifecycle runs stages 1-7 and 9. Any error sends the release to rollback.
func (r *release) lifecycle(ctx workflow.Context) error {
	steps := []func(workflow.Context) error{
		r.plan,
		r.readiness,
		r.approvals,
		r.prepare,
		r.deploy,
		r.watch,
		r.review,
	}
	for _, step := range steps {
		if err := r.step(ctx, step); err != nil {
			return err
		}
	}
	return nil
}

// step waits out a hold, then runs one stage, turning a cancellation caused by
// an abort or rollback request into errStopped.
func (r *release) step(ctx workflow.Context, f func(workflow.Context) error) error {
	if err := r.waitHold(ctx); err != nil {
		return r.stopErr(err)
	}
	if err := f(ctx); err != nil {
		return r.stopErr(err)
	}
	if r.stopped() {
		return errStopped
	}
	return nil
}

func (r *release) stopErr(err error) error {
	if r.stopped() {
		return errStopped
	}
	return err
}

// waitHold blocks while the release is held.
func (r *release) waitHold(ctx workflow.Context) error {
	if !r.st.Held {
		return nil
	}
	r.st.Waiting = "held by " + r.st.HeldBy + ": resume with golive resume"
	err := workflow.Await(ctx, func() bool { return !r.st.Held })
	r.st.Waiting = ""
	return err
}

// timerUntil sleeps on a durable timer until t; the summary names the checklist moment.
func timerUntil(ctx workflow.Context, t time.Time, summary string) error {
	d := t.Sub(workflow.Now(ctx))
	if d <= 0 {
		return nil
	}
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: summary}).Get(ctx, nil)
}
