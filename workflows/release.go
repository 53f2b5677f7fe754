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

// changeOutcome is the workflow change that makes outcomes show: the
// GoliveOutcome search attribute is upserted to running at the start and to
// the outcome when it is decided, and a release that ended rolled_back or
// failed fails the workflow with a typed error carrying its ReleaseResult
// (ErrReleaseRolledBack, ErrReleaseFailed), so the UI's list shows it Failed.
const (
	changeOutcome = "outcome-shown"
	outcomeShown  = workflow.Version(1)
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
	// vOutcome is outcomeShown for releases whose outcome shows in their
	// search attributes and close status (DefaultVersion before).
	vOutcome workflow.Version
	// vGuided is guidedFailure for releases whose failed steps wait for
	// people's decisions, hold before each changing step and keep out of
	// freezes (DefaultVersion before).
	vGuided workflow.Version
	// vAudit is auditBatched for releases whose ledger appends go once per
	// flush moment (DefaultVersion before).
	vAudit workflow.Version
	// choice is the decision on the failed step that waits (nil until one comes).
	choice *record.Decision
	// waits are the waits open now, oldest first (see waitFor); st.Waiting is the last.
	waits []*record.Wait
	// signoffWait is the open block's wait, whose text each sign-off updates.
	signoffWait *record.Wait
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
	// watchChild is the 24-hour watch, started by postDeploy and awaited by watch.
	watchChild workflow.Future
	// comps are compensations of what was done, applied in reverse on rollback.
	comps []compensation
	// reports counts monitoring reports per window, for Await conditions.
	reports map[string]int
	alerts  *escalations
	ledger  auditLog
	// sending counts the notifications in flight or owed (an alert raised
	// whose ladder has not sent yet); ended is set once the release has
	// decided its outcome (see drainNotices).
	sending int
	ended   bool
}

func newRelease(ctx workflow.Context, in ReleaseInput) (*release, error) {
	if in.Spec.Service == "" || in.Spec.Environment == "" {
		return nil, temporal.NewNonRetryableApplicationError("spec has no service or environment", activities.ErrBadInput, nil)
	}
	if in.Version == "" {
		return nil, temporal.NewNonRetryableApplicationError("no version to release", activities.ErrBadInput, nil)
	}
	now := workflow.Now(ctx)
	window := spec.ResolveWindow(now, in.Window)
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
	r.vOutcome = workflow.GetVersion(ctx, changeOutcome, workflow.DefaultVersion, outcomeShown)
	r.vGuided = workflow.GetVersion(ctx, changeGuided, workflow.DefaultVersion, guidedFailure)
	r.vAudit = workflow.GetVersion(ctx, changeAudit, workflow.DefaultVersion, auditBatched)
	r.showOutcome(ctx)
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
	r.showOutcome(dctx)
	if e.undo && e.Outcome == record.OutcomeRolledBack {
		r.postRollbackReview(dctx)
	}
	r.drainNotices(dctx)
	r.evidence(dctx)
	telemetry.ReleaseFinished(workflow.GetMetricsHandler(dctx), string(r.st.Outcome))
	res := ReleaseResult{
		Outcome:      r.st.Outcome,
		Version:      r.in.Version,
		LiveVersion:  r.st.LiveVersion,
		Reason:       r.st.Reason,
		EvidencePath: r.st.Evidence,
	}
	if errType, fails := outcomeErrTypes[res.Outcome]; fails && r.vOutcome >= outcomeShown {
		return ReleaseResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("release ended %s: %s", res.Outcome, res.Reason), errType, nil, res)
	}
	return res, nil
}

// showOutcome keeps the GoliveOutcome search attribute at the release's
// outcome (running until run decides it), for releases since outcomeShown.
func (r *release) showOutcome(ctx workflow.Context) {
	if r.vOutcome >= outcomeShown {
		_ = workflow.UpsertTypedSearchAttributes(ctx, SAOutcome.ValueSet(string(r.st.Outcome)))
	}
}

// lifecycle runs the stages of record.Stages up to the review, one file each;
// the first that ends the release early returns its end (or an error, which
// run treats as a rollback trigger). Rollback (rollback.go) and evidence
// (evidence.go) follow in run.
func (r *release) lifecycle(ctx workflow.Context) error {
	steps := []lifecycleStep{
		{record.StagePlan, r.plan, true},             // plan.go
		{record.StageReadiness, r.readiness, true},   // readiness.go
		{record.StageApprovals, r.approvals, true},   // approvals.go
		{record.StagePrepare, r.prepare, true},       // prepare.go: T-4h
		{record.StageDeploy, r.deploy, true},         // deploy.go: T-0
		{record.StagePostDeploy, r.postDeploy, true}, // post_deploy.go: T+1h, with the watch started
		{record.StageWatch, r.watch, false},          // watch.go: the rest of the first 24 hours
		{record.StageReview, r.review, true},         // review.go
	}
	for _, s := range steps {
		if err := r.step(ctx, s); err != nil {
			return err
		}
	}
	return r.stopped()
}

// lifecycleStep is one stage of the lifecycle. A holdable stage waits out a
// hold before it starts; the watch is not holdable: a hold never stops the
// 24-hour watch, since watching changes nothing at the target and rollback
// triggers never wait.
type lifecycleStep struct {
	stage    record.Stage
	run      func(workflow.Context) error
	holdable bool
}

// step waits out a hold, then runs one stage. A stage's own end stands; after
// an abort or a rollback request its error (a cancellation) becomes the stop.
// A stop that came while a stage succeeded surfaces before the next holdable
// stage (or at the end), so a stage that continues the previous one (the
// watch after post_deploy) still runs as one piece with it.
func (r *release) step(ctx workflow.Context, s lifecycleStep) error {
	var err error
	if s.holdable {
		if err = r.stopped(); err != nil {
			return err
		}
		err = r.waitHold(ctx, "stage "+string(s.stage))
	}
	if err == nil {
		err = s.run(ctx)
	}
	var ended *endError
	if errors.As(err, &ended) {
		return err
	}
	if err != nil && r.stop != nil {
		return r.stop
	}
	return err
}

// stopped is the stop of an abort or a rollback request, if one came.
func (r *release) stopped() error {
	if r.stop != nil {
		return r.stop
	}
	return nil
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

// waitHold blocks while the release is held; before says where it holds
// (the next stage or step), for the status.
func (r *release) waitHold(ctx workflow.Context, before string) error {
	if !r.st.Held {
		return nil
	}
	defer r.waitFor(ctx, record.WaitHold, "held by "+r.st.HeldBy+" before "+before+": resume with golive resume", time.Time{}, "")()
	return workflow.Await(ctx, func() bool { return !r.st.Held })
}

// timerUntil sleeps on a durable timer until t; the summary names the checklist moment.
func timerUntil(ctx workflow.Context, t time.Time, summary string) error {
	d := t.Sub(workflow.Now(ctx))
	if d <= 0 {
		return nil
	}
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: summary}).Get(ctx, nil)
}
