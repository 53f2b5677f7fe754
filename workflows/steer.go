package workflows

import (
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// maySteer: who may abort, hold or resume. The requester, the spec's rollback
// approvers and, once the directory is pinned, only people its policy lets
// steer or roll back in this environment.
func (r *release) maySteer(person, what string) error {
	if r.dir != nil {
		if err := r.dirRole(person, slices.Concat(r.dir.Policy.Steer, r.dir.Policy.Rollback), what); err != nil && person != r.in.Requester {
			return err
		}
	}
	if person == r.in.Requester {
		return nil
	}
	return r.anyRole(person, r.spec.Rollback.Approvers, what)
}

// mayRollback: who may request a rollback, skip a failed item or override a
// freeze. A rollback approver of the spec, and, once the directory is pinned,
// a person its policy lets roll back in this environment.
func (r *release) mayRollback(person, what string) error {
	if err := r.anyRole(person, r.spec.Rollback.Approvers, what); err != nil {
		return err
	}
	if r.dir != nil {
		return r.dirRole(person, r.dir.Policy.Rollback, what)
	}
	return nil
}

func (r *release) abort(ctx workflow.Context, a Abort) (InputResult, error) {
	if err := r.maySteer(a.Person, "abort"); err != nil {
		return InputResult{}, err
	}
	fp, err := r.proveInput(ctx, a)
	if err != nil {
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
	r.proven(ctx, AbortName, a.Person, fp, reason)
	r.stopLifecycle(record.OutcomeAborted, a.Person, reason)
	return InputResult{Message: reason + "; compensating what was done" + proofNote(fp)}, nil
}

func (r *release) hold(ctx workflow.Context, h Hold) (InputResult, error) {
	if err := r.maySteer(h.Person, "hold"); err != nil {
		return InputResult{}, err
	}
	fp, err := r.proveInput(ctx, h)
	if err != nil {
		return InputResult{}, err
	}
	if r.st.Held {
		return InputResult{Message: "already held by " + r.st.HeldBy, Duplicate: true}, nil
	}
	r.st.Held, r.st.HeldBy = true, h.Person
	r.proven(ctx, HoldName, h.Person, fp, h.Reason)
	return InputResult{Message: "held by " + h.Person + "; the release stops before its next step" + proofNote(fp)}, nil
}

func (r *release) resume(ctx workflow.Context, h Resume) (InputResult, error) {
	if err := r.maySteer(h.Person, "resume"); err != nil {
		return InputResult{}, err
	}
	fp, err := r.proveInput(ctx, h)
	if err != nil {
		return InputResult{}, err
	}
	if !r.st.Held {
		return InputResult{}, errors.New("release is not held")
	}
	r.st.Held, r.st.HeldBy = false, ""
	r.proven(ctx, ResumeName, h.Person, fp, "")
	return InputResult{Message: "resumed by " + h.Person + proofNote(fp)}, nil
}

func (r *release) requestRollback(ctx workflow.Context, q RollbackRequest) (InputResult, error) {
	if err := r.mayRollback(q.Person, "request a rollback"); err != nil {
		return InputResult{}, err
	}
	fp, err := r.proveInput(ctx, q)
	if err != nil {
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
	r.proven(ctx, RollbackName, q.Person, fp, reason)
	r.stopLifecycle(record.OutcomeRolledBack, q.Person, reason)
	return InputResult{Message: reason + proofNote(fp)}, nil
}

// proofNote tells the sender how their input was proven.
func proofNote(fingerprint string) string {
	if fingerprint == "" {
		return ""
	}
	return " (signed " + fingerprint + ")"
}
