package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// changeGuided is the workflow change that lets people decide on a failed
// step (the spec's failure policy: retry, skip with two rollback approvers,
// a default at the decision timeout), holds before each step that changes
// the target, and keeps forward steps out of freeze windows.
const (
	changeGuided  = "guided-failure"
	guidedFailure = workflow.Version(1)
)

// decisionNames are the inputs releases since guidedFailure take beside inputNames.
var decisionNames = []string{RetryName, SkipName, OverrideFreezeName}

// takes lists the inputs this release takes, for a refusal of an unknown one.
func (r *release) takes() []string {
	names := inputNames[:len(inputNames)-1] // check-report is only ever refused
	if r.vGuided >= guidedFailure {
		names = slices.Concat(names, decisionNames)
	}
	return names
}

func (r *release) registerDecisions(ctx workflow.Context) error {
	if err := registerInput(ctx, r, RetryName, func(q Retry) error { return needPerson(q.Person) }, r.retry); err != nil {
		return err
	}
	if err := registerInput(ctx, r, SkipName, validSkip, r.skip); err != nil {
		return err
	}
	return registerInput(ctx, r, OverrideFreezeName, validOverride, r.overrideFreeze)
}

func validSkip(q Skip) error {
	if err := needPerson(q.Person); err != nil {
		return err
	}
	if q.Item == "" {
		return errors.New("item is required: the failed item to skip (golive status lists it)")
	}
	if strings.TrimSpace(q.Reason) == "" {
		return errors.New("a skip needs a reason (-m REASON); it goes into the evidence")
	}
	return nil
}

func validOverride(q OverrideFreeze) error {
	if err := needPerson(q.Person); err != nil {
		return err
	}
	if q.Freeze == "" {
		return errors.New("freeze is required: the name of the freeze in the spec")
	}
	if strings.TrimSpace(q.Reason) == "" {
		return errors.New("a freeze override needs a reason (-m REASON); it goes into the ledger")
	}
	return nil
}

// guard runs one step under the spec's failure policy. A step set to ask
// that fails stops the release there: an alert goes out (escalating as any
// alert), the status shows what failed and what each choice would do, and
// the step waits for golive retry (it runs again), skip (two rollback
// approvers: its failed items are marked skipped and the release goes on),
// rollback or abort. Without a decision within the step's decision timeout
// golive takes the default: abort while nothing was changed, rollback after.
// failed names the items a failure left failed.
func (r *release) guard(ctx workflow.Context, step spec.Step, run func(workflow.Context) error, failed func() []string) error {
	for attempt := 1; ; attempt++ {
		err := run(ctx)
		if err == nil || r.vGuided < guidedFailure || !r.spec.Failure.Ask(step) || r.stop != nil || ctx.Err() != nil {
			return err
		}
		var ended *endError
		if errors.As(err, &ended) && ended.Outcome != record.OutcomeNotReady {
			return err // a rejection, a timeout, an alarm: not a failed step
		}
		items := failed()
		if len(items) == 0 {
			return err
		}
		choice, derr := r.awaitFailureDecision(ctx, step, attempt, err, items)
		if derr != nil {
			return derr
		}
		if choice == record.ChoiceSkip {
			return nil
		}
		for _, id := range items {
			r.keepAttempt(id)
		}
	}
}

// keepAttempt moves a failed item's run into its attempts before the retry.
func (r *release) keepAttempt(id string) {
	if it := r.item(id); it != nil {
		it.Attempts = append(it.Attempts, record.Attempt{At: it.At, State: it.State, Value: it.Value, Detail: it.Detail})
		it.State, it.Value, it.Detail = record.ItemPending, "", ""
	}
}

// failedItems are the IDs of items that did not pass (for the one-item steps).
func (r *release) failedItems(ids ...string) func() []string {
	return func() []string {
		var out []string
		for _, id := range ids {
			if it := r.item(id); it != nil && !it.State.Clears() {
				out = append(out, id)
			}
		}
		return out
	}
}

// awaitFailureDecision waits for a decision on a failed step; it returns
// retry or skip, or the end a timeout decides (an abort or rollback by a
// person stops the lifecycle, which cancels the wait).
func (r *release) awaitFailureDecision(ctx workflow.Context, step spec.Step, attempt int, cause error, items []string) (record.Choice, error) {
	now := workflow.Now(ctx)
	timeout := r.spec.Failure.Timeout(step)
	onTimeout := record.ChoiceAbort
	if len(r.comps) > 0 {
		onTimeout = record.ChoiceRollback
	}
	f := &record.Failure{Step: string(step), Items: items, Error: errText(cause), Attempt: attempt, Since: now,
		Deadline: now.Add(timeout), OnTimeout: onTimeout}
	f.Options = r.failureOptions(f)
	r.st.Failure, r.choice = f, nil
	defer func() { r.st.Failure = nil }()
	r.audit(ctx, audit.KindDecision, "golive", "asked", f.Error, map[string]string{"step": f.Step, "items": strings.Join(items, ","), "attempt": fmt.Sprint(attempt)})
	alert := r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, fmt.Sprintf("%s failed (attempt %d): %s. Decide by %s: golive retry, skip, rollback or abort; golive status %s shows what each does",
		step, attempt, f.Error, f.Deadline.UTC().Format(time.RFC3339), record.ShortRelease(r.st.ReleaseID)), fmt.Sprintf("failure:%s:%d", step, attempt))
	done := r.waitFor(ctx, record.WaitDecision, "a decision on the failed "+string(step)+" step (golive retry | skip | rollback | abort)", f.Deadline,
		"golive takes "+string(onTimeout))
	defer done()
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      timeout,
		TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("Failed step %s: waiting for a decision until %s", step, f.Deadline.UTC().Format(time.RFC3339))},
	}, func() bool { return r.choice != nil })
	if err != nil {
		return "", err
	}
	d := r.choice
	if !ok {
		d = &record.Decision{Step: f.Step, Attempt: attempt, Choice: record.ChoiceTimeout, Items: items, By: []string{"golive"}, At: workflow.Now(ctx),
			Reason: fmt.Sprintf("no decision on the failed %s step within %s: %s", step, timeout, onTimeout)}
	}
	r.st.Decisions = append(r.st.Decisions, *d)
	r.audit(ctx, audit.KindDecision, strings.Join(d.By, ","), string(d.Choice), d.Reason, map[string]string{"step": f.Step, "items": strings.Join(d.Items, ","), "attempt": fmt.Sprint(attempt)})
	if a := r.alerts.alert(alert); a != nil && a.AckedBy == "" {
		// The decision answers the alert: its ladder stops.
		a.AckedBy, a.AckedAt = strings.Join(d.By, ", "), workflow.Now(ctx)
	}
	workflow.Go(ctx, r.flushAudit)
	r.publish(ctx)
	if !ok {
		outcome := record.OutcomeAborted
		if onTimeout == record.ChoiceRollback {
			outcome = record.OutcomeRolledBack
		}
		return "", &endError{Outcome: outcome, Reason: d.Reason + " (" + f.Error + ")", By: "golive"}
	}
	return d.Choice, nil
}

// failureOptions say what each choice on a failed step would do.
func (r *release) failureOptions(f *record.Failure) []record.Option {
	rel := record.ShortRelease(r.st.ReleaseID)
	undo := "ends the release aborted; nothing was changed at the target yet"
	rollback := "refused: nothing was changed yet (use abort)"
	if len(r.comps) > 0 {
		names := make([]string, len(r.comps))
		for i, c := range r.comps {
			names[len(r.comps)-1-i] = c.name
		}
		undo = "ends the release aborted, compensating: " + strings.Join(names, ", ")
		rollback = "rolls back (" + strings.Join(names, ", ") + ") and ends rolled_back"
	}
	return []record.Option{
		{Choice: record.ChoiceRetry, Command: "golive retry " + rel, Effect: fmt.Sprintf("runs %s again (attempt %d); what it already did is not repeated", f.Step, f.Attempt+1)},
		{Choice: record.ChoiceSkip, Command: "golive skip " + rel + " --item ID -m REASON", Effect: "two distinct rollback approvers, each with a reason: the item (" +
			strings.Join(f.Items, ", ") + ") is marked skipped in the evidence, never passed, and the release goes on"},
		{Choice: record.ChoiceRollback, Command: "golive rollback " + rel, Effect: rollback},
		{Choice: record.ChoiceAbort, Command: "golive abort " + rel, Effect: undo},
	}
}

func (r *release) retry(ctx workflow.Context, q Retry) (InputResult, error) {
	if err := r.maySteer(q.Person, "retry a failed step"); err != nil {
		return InputResult{}, err
	}
	f := r.st.Failure
	if f == nil {
		return InputResult{}, fmt.Errorf("no failed step waits for a decision (stage %s)", r.st.Stage)
	}
	if q.Step != "" && q.Step != f.Step {
		return InputResult{}, fmt.Errorf("the failed step is %s, not %s", f.Step, q.Step)
	}
	fp, err := r.proveInput(ctx, q)
	if err != nil {
		return InputResult{}, err
	}
	if r.choice != nil {
		return InputResult{Message: fmt.Sprintf("%s was already decided: %s by %s", f.Step, r.choice.Choice, strings.Join(r.choice.By, ", ")), Duplicate: true}, nil
	}
	r.choice = &record.Decision{Step: f.Step, Attempt: f.Attempt, Choice: record.ChoiceRetry, Items: f.Items, By: []string{q.Person}, Reason: q.Reason, At: workflow.Now(ctx)}
	r.proven(ctx, RetryName, q.Person, fp, "retry "+f.Step)
	return InputResult{Message: fmt.Sprintf("%s runs again (attempt %d), retried by %s", f.Step, f.Attempt+1, q.Person) + proofNote(fp)}, nil
}

// skip takes one rollback approver's consent to skip a failed item; the
// second distinct approver's consent for the same item skips it.
func (r *release) skip(ctx workflow.Context, q Skip) (InputResult, error) {
	if err := r.mayRollback(q.Person, "skip a failed item"); err != nil {
		return InputResult{}, err
	}
	f := r.st.Failure
	if f == nil {
		return InputResult{}, fmt.Errorf("no failed step waits for a decision (stage %s); only a failed item can be skipped", r.st.Stage)
	}
	if !slices.Contains(f.Items, q.Item) {
		return InputResult{}, fmt.Errorf("%s is not a failed item of the %s step; its failed items: %s", q.Item, f.Step, strings.Join(f.Items, ", "))
	}
	fp, err := r.proveInput(ctx, q)
	if err != nil {
		return InputResult{}, err
	}
	var by []record.Consent
	for _, c := range f.Skips {
		if c.Item != q.Item {
			continue
		}
		if c.Person == q.Person {
			return InputResult{Message: fmt.Sprintf("%s already consented to skip %s; a skip needs a second, distinct rollback approver", q.Person, q.Item), Duplicate: true}, nil
		}
		by = append(by, c)
	}
	c := record.Consent{Person: q.Person, Item: q.Item, Reason: q.Reason, At: workflow.Now(ctx), Fingerprint: fp}
	f.Skips = append(f.Skips, c)
	by = append(by, c)
	r.proven(ctx, SkipName, q.Person, fp, "skip "+q.Item+": "+q.Reason)
	if len(by) < 2 {
		return InputResult{Message: fmt.Sprintf("skip of %s: 1 of 2 rollback approvers (%s); it counts once a second, distinct one consents", q.Item, q.Person) + proofNote(fp)}, nil
	}
	r.skipItem(ctx, q.Item, by)
	f.Items = slices.DeleteFunc(f.Items, func(id string) bool { return id == q.Item })
	names := consentNames(by)
	if len(f.Items) == 0 {
		r.choice = &record.Decision{Step: f.Step, Attempt: f.Attempt, Choice: record.ChoiceSkip, Items: []string{q.Item}, By: names, Reason: consentReasons(by), At: workflow.Now(ctx)}
	}
	msg := fmt.Sprintf("%s skipped by %s", q.Item, strings.Join(names, " and "))
	if len(f.Items) > 0 {
		msg += "; still failed: " + strings.Join(f.Items, ", ")
	}
	return InputResult{Message: msg + proofNote(fp)}, nil
}

// skipItem marks an item skipped by the approvers who consented, with the
// failure it had: the evidence shows it skipped, never passed.
func (r *release) skipItem(ctx workflow.Context, id string, by []record.Consent) {
	it := r.item(id)
	if it == nil {
		return
	}
	detail := "skipped after it " + string(it.State)
	if it.Detail != "" {
		detail += " (" + firstLine(it.Detail) + ")"
	}
	it.Actor = strings.Join(consentNames(by), ", ")
	r.mark(ctx, id, record.ItemSkipped, "skipped by "+strings.Join(consentNames(by), " and "), detail+"; "+consentReasons(by))
}

// consentReasons are the consents' reasons, each after its person ("alice: ...; bob: ...").
func consentReasons(cs []record.Consent) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Person + ": " + c.Reason
	}
	return strings.Join(out, "; ")
}

func consentNames(cs []record.Consent) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Person
	}
	return out
}
