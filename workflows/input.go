package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// errRefused is the application error type of a refused human input.
const errRefused = "Refused"

// registerHandlers registers the status query, and each human input as both an
// Update (validator + handler) and a Signal. All of them end in apply, so one
// validation serves both; a refusal is recorded in the status either way.
//
// The Update validator only checks that the payload is well formed: a validator
// may not change state, and a refusal must be recorded, so policy checks run in
// the handler, which returns the refusal to the caller as an error.
func (r *release) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (record.Status, error) { return r.st, nil }); err != nil {
		return err
	}
	if err := registerInput(ctx, r, SignoffName, validSignoff, r.signoff); err != nil {
		return err
	}
	if err := registerInput(ctx, r, AttestName, func(a Attest) error { return needPerson(a.Person) }, r.attest); err != nil {
		return err
	}
	if err := registerInput(ctx, r, RollbackName, validRollback, r.requestRollback); err != nil {
		return err
	}
	if err := registerInput(ctx, r, AckName, validAck, r.ack); err != nil {
		return err
	}
	if err := registerInput(ctx, r, AbortName, func(a Abort) error { return needPerson(a.Person) }, r.abort); err != nil {
		return err
	}
	if err := registerInput(ctx, r, HoldName, func(h Hold) error { return needPerson(h.Person) }, r.hold); err != nil {
		return err
	}
	if err := registerInput(ctx, r, ResumeName, func(h Resume) error { return needPerson(h.Person) }, r.resume); err != nil {
		return err
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, CheckReportName)
		for {
			var rep record.CheckReport
			ch.Receive(ctx, &rep)
			r.onReport(ctx, rep)
		}
	})
	return nil
}

// registerInput wires one input type as an Update and a Signal of the same name.
func registerInput[T any](ctx workflow.Context, r *release, name string, valid func(T) error, apply func(workflow.Context, T) (InputResult, error)) error {
	handle := func(ctx workflow.Context, in T) (InputResult, error) {
		if err := valid(in); err != nil {
			return r.refuse(ctx, name, in, err.Error())
		}
		res, err := apply(ctx, in)
		if err != nil {
			return r.refuse(ctx, name, in, err.Error())
		}
		outcome := "accepted"
		if res.Duplicate {
			outcome = "duplicate"
		}
		r.inputAudit(ctx, name, in, outcome, res.Message)
		r.publish(ctx)
		return res, nil
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, name, handle, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, in T) error { return valid(in) },
	})
	if err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, name)
		for {
			var in T
			ch.Receive(ctx, &in)
			_, _ = handle(ctx, in)
		}
	})
	return nil
}

// refuse records a refused input and returns the refusal as a non-retryable error.
func (r *release) refuse(ctx workflow.Context, input string, in any, reason string) (InputResult, error) {
	person, slot := inputWho(in)
	r.st.Refused = append(r.st.Refused, record.Refusal{
		At: workflow.Now(ctx), Input: input, Person: person, Slot: slot, Reason: reason,
	})
	r.inputAudit(ctx, input, in, "refused", reason)
	r.publish(ctx)
	workflow.GetLogger(ctx).Warn("input refused", "input", input, "person", person, "reason", reason)
	return InputResult{}, temporal.NewNonRetryableApplicationError(reason, errRefused, nil)
}

func inputWho(in any) (person, slot string) {
	switch v := in.(type) {
	case Signoff:
		return v.Person, v.Slot
	case Attest:
		return v.Person, ""
	case RollbackRequest:
		return v.Person, ""
	case Ack:
		return v.Person, v.AlertID
	case Abort:
		return v.Person, ""
	case Hold:
		return v.Person, ""
	case Resume:
		return v.Person, ""
	}
	return "", ""
}

func needPerson(p string) error {
	if p == "" {
		return errors.New("person is required (golive --as ID, or \"person\" in the signal payload)")
	}
	return nil
}

func validSignoff(s Signoff) error {
	if err := needPerson(s.Person); err != nil {
		return err
	}
	if s.Decision != Approve && s.Decision != Reject {
		return fmt.Errorf("decision must be %q or %q, got %q", Approve, Reject, s.Decision)
	}
	if s.Decision == Reject && s.Comment == "" {
		return errors.New("a rejection needs a comment saying why")
	}
	return nil
}

func validRollback(q RollbackRequest) error {
	if err := needPerson(q.Person); err != nil {
		return err
	}
	switch q.Reason {
	case ReasonCriticalBug, ReasonDataCorruption, ReasonSecurity, ReasonPerformance, ReasonErrorRate:
		return nil
	}
	return fmt.Errorf("reason must be one of critical_bug, data_corruption, security, performance, error_rate; got %q", q.Reason)
}

func validAck(a Ack) error {
	if err := needPerson(a.Person); err != nil {
		return err
	}
	if a.AlertID == "" {
		return errors.New("alert_id is required (golive status lists open alerts)")
	}
	return nil
}

// member checks that a person is on the team.
func (r *release) member(person string) error {
	if _, ok := r.spec.Person(person); !ok {
		return fmt.Errorf("%q is not on the team in the release spec", person)
	}
	return nil
}

// anyRole checks that a person holds one of the roles.
func (r *release) anyRole(person string, roles []string, what string) error {
	if err := r.member(person); err != nil {
		return err
	}
	for _, role := range roles {
		if r.spec.HasRole(person, role) {
			return nil
		}
	}
	return fmt.Errorf("%s may %s only with one of the roles %v; %s holds %v", person, what, roles, person, r.spec.Roles(person))
}

// steerRoles are who may abort, hold or resume: the requester and the rollback approvers.
func (r *release) maySteer(person, what string) error {
	if person == r.in.Requester {
		return nil
	}
	return r.anyRole(person, r.spec.Rollback.Approvers, what)
}

func (r *release) abort(ctx workflow.Context, a Abort) (InputResult, error) {
	if err := r.maySteer(a.Person, "abort"); err != nil {
		return InputResult{}, err
	}
	if r.stop != nil {
		return InputResult{Message: "release is already stopping", Duplicate: true}, nil
	}
	if r.st.Stage == record.StageEvidence || r.st.Stage == record.StageDone || r.st.Stage == record.StageRollback {
		return InputResult{}, fmt.Errorf("release is in stage %s; nothing left to abort", r.st.Stage)
	}
	reason := "aborted by " + a.Person
	if a.Reason != "" {
		reason += ": " + a.Reason
	}
	r.stopLifecycle(stopAbort, a.Person, reason)
	return InputResult{Message: reason + "; compensating what was done"}, nil
}

func (r *release) hold(ctx workflow.Context, h Hold) (InputResult, error) {
	if err := r.maySteer(h.Person, "hold"); err != nil {
		return InputResult{}, err
	}
	if r.st.Held {
		return InputResult{Message: "already held by " + r.st.HeldBy, Duplicate: true}, nil
	}
	r.st.Held, r.st.HeldBy = true, h.Person
	return InputResult{Message: "held by " + h.Person + "; the release stops before its next step"}, nil
}

func (r *release) resume(ctx workflow.Context, h Resume) (InputResult, error) {
	if err := r.maySteer(h.Person, "resume"); err != nil {
		return InputResult{}, err
	}
	if !r.st.Held {
		return InputResult{}, errors.New("release is not held")
	}
	r.st.Held, r.st.HeldBy = false, ""
	return InputResult{Message: "resumed by " + h.Person}, nil
}

func (r *release) requestRollback(ctx workflow.Context, q RollbackRequest) (InputResult, error) {
	if err := r.anyRole(q.Person, r.spec.Rollback.Approvers, "request a rollback"); err != nil {
		return InputResult{}, err
	}
	if r.stop != nil {
		return InputResult{Message: "release is already stopping", Duplicate: true}, nil
	}
	if len(r.comps) == 0 {
		return InputResult{}, fmt.Errorf("nothing has been deployed yet (stage %s); use abort to end the release", r.st.Stage)
	}
	reason := fmt.Sprintf("rollback requested by %s: %s", q.Person, q.Reason)
	if q.Comment != "" {
		reason += " (" + q.Comment + ")"
	}
	r.stopLifecycle(stopRollback, q.Person, reason)
	return InputResult{Message: reason}, nil
}

// stopLifecycle cancels the lifecycle; run then compensates.
func (r *release) stopLifecycle(kind stopKind, by, reason string) {
	r.stop = &stopReason{kind: kind, by: by, reason: reason}
	if r.cancelLifecycle != nil {
		r.cancelLifecycle()
	}
}
