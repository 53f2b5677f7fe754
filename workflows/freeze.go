package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// beforeChange runs before each step that changes the target (the code
// freeze, the migrations, the deploy) in releases since guidedFailure: a hold
// takes effect here rather than at the next stage, and a freeze window of the
// spec that holds now (one that began while the release waited, or one
// `golive start --override-freeze` let it start into) waits until it ends or
// two rollback approvers override it. Rollback and compensation never pass
// here: nothing holds or freezes them.
func (r *release) beforeChange(ctx workflow.Context, what string) error {
	if r.vGuided < guidedFailure {
		return nil
	}
	for {
		if err := r.stopped(); err != nil {
			return err
		}
		if err := r.waitHold(ctx, what); err != nil {
			return err
		}
		hit, frozen := spec.FreezeAt(r.activeFreezes(), workflow.Now(ctx))
		if !frozen {
			return nil
		}
		if err := r.waitFreeze(ctx, hit, what); err != nil {
			return err
		}
	}
}

// activeFreezes are the spec's freezes no override lets this release deploy in.
func (r *release) activeFreezes() []spec.Freeze {
	return slices.DeleteFunc(slices.Clone(r.spec.Freeze), func(f spec.Freeze) bool { return r.freezeOverridden(f.Name) })
}

func (r *release) freezeOverridden(name string) bool {
	for _, o := range r.st.FreezeOverrides {
		if o.Freeze == name && !o.Granted.IsZero() {
			return true
		}
	}
	return false
}

// waitFreeze waits while a freeze holds the release: until it (and any freeze
// right after it) ends, an override is granted, or a hold comes.
func (r *release) waitFreeze(ctx workflow.Context, hit spec.FreezeHit, what string) error {
	name := hit.Period.Name
	r.audit(ctx, audit.KindFreeze, "golive", "held", hit.Period.Reason, map[string]string{"freeze": name, "before": what, "until": hit.Until.UTC().Format(time.RFC3339)})
	r.notifyHeld(ctx, hit, what)
	defer r.waitFor(ctx, record.WaitFreeze, fmt.Sprintf("freeze %s (%s) to end before %s; golive override-freeze %s --freeze %s -m REASON by two rollback approvers deploys inside it",
		name, hit.Period.Reason, what, record.ShortRelease(r.st.ReleaseID), name), hit.Until, "the release goes on")()
	_, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      max(hit.Until.Sub(workflow.Now(ctx)), time.Millisecond),
		TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("Freeze %s: no %s until %s", name, what, hit.Until.UTC().Format(time.RFC3339))},
	}, func() bool { return r.freezeOverridden(name) || r.st.Held || r.stop != nil })
	return err
}

// notifyHeld raises an alert at the target level: a release that waits for
// a freeze is expected, but people should know it will deploy late.
func (r *release) notifyHeld(ctx workflow.Context, hit spec.FreezeHit, what string) {
	r.alerts.raise(ctx, r.spec.Escalation.TargetLevel, fmt.Sprintf("release held by freeze %s (%s) before %s until %s",
		hit.Period.Name, hit.Period.Reason, what, hit.Until.UTC().Format(time.RFC3339)), "freeze:"+hit.Period.Name)
}

// overrideFreeze takes one rollback approver's consent to deploy inside a
// freeze; the second distinct approver's consent grants it.
func (r *release) overrideFreeze(ctx workflow.Context, q OverrideFreeze) (InputResult, error) {
	if err := r.mayRollback(q.Person, "override a freeze"); err != nil {
		return InputResult{}, err
	}
	if !slices.ContainsFunc(r.spec.Freeze, func(f spec.Freeze) bool { return f.Name == q.Freeze }) {
		names := make([]string, len(r.spec.Freeze))
		for i, f := range r.spec.Freeze {
			names[i] = f.Name
		}
		return InputResult{}, fmt.Errorf("the spec has no freeze %q (its freezes: %s)", q.Freeze, strings.Join(names, ", "))
	}
	if r.st.Stage == record.StageEvidence || r.st.Stage == record.StageDone || r.st.Stage == record.StageRollback {
		return InputResult{}, fmt.Errorf("release is in stage %s; nothing left to deploy", r.st.Stage)
	}
	fp, err := r.proveInput(ctx, q)
	if err != nil {
		return InputResult{}, err
	}
	i := slices.IndexFunc(r.st.FreezeOverrides, func(o record.FreezeOverride) bool { return o.Freeze == q.Freeze })
	if i < 0 {
		r.st.FreezeOverrides = append(r.st.FreezeOverrides, record.FreezeOverride{Freeze: q.Freeze})
		i = len(r.st.FreezeOverrides) - 1
	}
	o := &r.st.FreezeOverrides[i]
	if !o.Granted.IsZero() {
		return InputResult{Message: fmt.Sprintf("freeze %s is already overridden by %s", q.Freeze, strings.Join(consentNames(o.By), " and ")), Duplicate: true}, nil
	}
	if slices.ContainsFunc(o.By, func(c record.Consent) bool { return c.Person == q.Person }) {
		return InputResult{Message: fmt.Sprintf("%s already consented to override freeze %s; it needs a second, distinct rollback approver", q.Person, q.Freeze), Duplicate: true}, nil
	}
	now := workflow.Now(ctx)
	o.By = append(o.By, record.Consent{Person: q.Person, Reason: q.Reason, At: now, Fingerprint: fp})
	r.proven(ctx, OverrideFreezeName, q.Person, fp, "override freeze "+q.Freeze+": "+q.Reason)
	if len(o.By) < 2 {
		return InputResult{Message: fmt.Sprintf("override of freeze %s: 1 of 2 rollback approvers (%s); it counts once a second, distinct one consents", q.Freeze, q.Person) + proofNote(fp)}, nil
	}
	o.Granted = now
	names := strings.Join(consentNames(o.By), " and ")
	r.audit(ctx, audit.KindFreeze, strings.Join(consentNames(o.By), ","), "overridden", o.By[0].Reason+"; "+o.By[1].Reason, map[string]string{"freeze": q.Freeze})
	workflow.Go(ctx, r.flushAudit)
	return InputResult{Message: fmt.Sprintf("freeze %s overridden by %s: the release may deploy inside it", q.Freeze, names) + proofNote(fp)}, nil
}
