package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
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
	// stop is how the lifecycle was stopped (nil while it runs): an abort or
	// a rollback, with who decided it (see stopLifecycle).
	stop *endError
	// rejected is set by a rejected sign-off in the open block.
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

func newRelease(ctx workflow.Context, in ReleaseInput) (*release, error) {
	if in.Spec.Service == "" || in.Spec.Environment == "" {
		return nil, temporal.NewNonRetryableApplicationError("spec has no service or environment", activities.ErrBadInput, nil)
	}
	if in.Version == "" {
		return nil, temporal.NewNonRetryableApplicationError("no version to release", activities.ErrBadInput, nil)
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

// run drives the lifecycle, then the rollback saga or the review, then the
// evidence. It alone sets the outcome, once, from how the lifecycle ended.
func (r *release) run(ctx workflow.Context) (ReleaseResult, error) {
	r.alerts.root = ctx
	lctx, cancel := workflow.WithCancel(ctx)
	r.cancelLifecycle = cancel
	err := r.lifecycle(lctx)

	// From here on, work runs on a disconnected context so that a cancelled
	// release (abort, UI cancel) still compensates and records what happened.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	e := r.decide(dctx, err)
	if e.undo {
		aborted := e.Outcome == record.OutcomeAborted
		telemetry.Rollback(workflow.GetMetricsHandler(dctx), telemetry.RollbackReason(aborted, r.requested(), e.By, e.Reason))
		r.rollback(dctx, e.Reason, e.By)
	}
	r.st.Outcome, r.st.Reason = e.Outcome, e.Reason
	if e.undo && e.Outcome == record.OutcomeRolledBack {
		r.postRollbackReview(dctx)
	}
	r.evidence(dctx)
	telemetry.ReleaseFinished(workflow.GetMetricsHandler(dctx), string(r.st.Outcome))
	return ReleaseResult{
		Outcome:      r.st.Outcome,
		Version:      r.in.Version,
		LiveVersion:  r.st.LiveVersion,
		Reason:       r.st.Reason,
		EvidencePath: r.st.Evidence,
	}, nil
}

// lifecycle runs the stages of record.Stages up to the review, one file each;
// the first that ends the release early returns its end (or an error, which
// run treats as a rollback trigger). Rollback (rollback.go) and evidence
// (evidence.go) follow in run.
func (r *release) lifecycle(ctx workflow.Context) error {
	steps := []func(workflow.Context) error{
		r.plan,      // plan.go
		r.readiness, // readiness.go
		r.approvals, // approvals.go
		r.prepare,   // prepare.go: T-4h
		r.deploy,    // deploy.go: T-0
		r.watch,     // watch.go, with post_deploy.go (T+1h) inside the first hour
		r.review,    // review.go
	}
	for _, step := range steps {
		if err := r.step(ctx, step); err != nil {
			return err
		}
	}
	return nil
}

// step waits out a hold, then runs one stage. A stage's own end stands; after
// an abort or a rollback request its error (a cancellation) becomes the stop.
func (r *release) step(ctx workflow.Context, f func(workflow.Context) error) error {
	err := r.waitHold(ctx)
	if err == nil {
		err = f(ctx)
	}
	var ended *endError
	if errors.As(err, &ended) {
		return err
	}
	if r.stop != nil {
		return r.stop
	}
	return err
}

// setStage moves the release to a stage and keeps the search attribute current.
func (r *release) setStage(ctx workflow.Context, s record.Stage) {
	r.st.Stage = s
	telemetry.StageEntered(workflow.GetMetricsHandler(ctx), string(s))
	_ = workflow.UpsertTypedSearchAttributes(ctx, SAStage.ValueSet(string(s)))
	r.audit(ctx, audit.KindStage, "golive", string(s), r.st.Reason, nil)
	if s != record.StageEvidence && s != record.StageDone {
		workflow.Go(ctx, r.flushAudit)
	}
	workflow.GetLogger(ctx).Info("stage", "release", r.st.ReleaseID, "stage", s)
	r.publish(ctx)
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
