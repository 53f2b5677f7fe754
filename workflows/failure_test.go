package workflows_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// deploysTo counts the version switches to version at the demo app: the
// deploy's side effect as the target saw it.
func (h *harness) deploysTo(version string) int {
	n := 0
	for _, d := range h.app.DeployLog() {
		if d.To == version {
			n++
		}
	}
	return n
}

// evidenceText is the Markdown evidence the release wrote.
func (h *harness) evidenceText(st record.Status) string {
	h.t.Helper()
	b, err := os.ReadFile(st.Evidence)
	if err != nil {
		h.t.Fatalf("evidence: %v", err)
	}
	return string(b)
}

// at runs f at a simulated time after the start.
func (h *harness) at(d time.Duration, f func()) { h.env.RegisterDelayedCallback(f, d) }

func TestSmokeFailureWaitsForADecisionAndARetryCompletesWithOneDeploy(t *testing.T) {
	h := newHarness(t)
	h.spec.Failure.Smoke.OnFailure = spec.FailAsk
	// T-0 is at 6 h: the T-0 smoke test's appointment booking fails once, as a flaky dependency would.
	h.at(5*time.Hour+50*time.Minute, func() { h.failNext("POST /api/appointments", 1, false) })
	var asked record.Status
	var details string
	h.at(6*time.Hour+10*time.Minute, func() {
		asked = h.status()
		v, err := h.env.QueryWorkflow("__temporal_workflow_metadata")
		var md sdk.WorkflowMetadata
		if err == nil {
			err = v.Get(&md)
		}
		if err != nil {
			t.Errorf("workflow metadata: %v", err)
		}
		details = md.GetCurrentDetails()
	})
	h.at(6*time.Hour+20*time.Minute, func() {
		h.signal(workflows.RetryName, workflows.Retry{Person: requester, Step: "smoke", Reason: "booking API back"})
	})
	res := h.run(h.input("1.1.0"))
	st := h.status()

	f := asked.Failure
	if f == nil {
		t.Fatalf("10 min after the failed smoke test the release waits for no decision: stage %s, waiting %v", asked.Stage, asked.Waiting)
	}
	if f.Step != "smoke" || !slices.Equal(f.Items, []string{"deploy.smoke"}) || f.Attempt != 1 || !strings.Contains(f.Error, "appointments") {
		t.Errorf("failure %+v, want smoke, item deploy.smoke, attempt 1, naming the appointments flow", f)
	}
	// After the deploy the default is a rollback, half an hour after the failure.
	if f.OnTimeout != record.ChoiceRollback || f.Deadline.Sub(f.Since) != spec.DefaultDecisionTimeout {
		t.Errorf("on timeout %s after %s, want rollback after %s", f.OnTimeout, f.Deadline.Sub(f.Since), spec.DefaultDecisionTimeout)
	}
	var choices []record.Choice
	for _, o := range f.Options {
		choices = append(choices, o.Choice)
		if o.Command == "" || o.Effect == "" {
			t.Errorf("option %s says nothing: %+v", o.Choice, o)
		}
	}
	if !slices.Equal(choices, []record.Choice{record.ChoiceRetry, record.ChoiceSkip, record.ChoiceRollback, record.ChoiceAbort}) {
		t.Errorf("options %v", choices)
	}
	if w := asked.Waiting; w == nil || w.Kind != record.WaitDecision || !w.Until.Equal(f.Deadline) {
		t.Errorf("waiting %+v, want a decision until %s", w, f.Deadline)
	}
	// The Temporal UI's current details say the same.
	for _, want := range []string{"**Waiting for** a decision on the failed smoke step", "**Failed step** smoke (attempt 1, items deploy.smoke)", "`golive retry "} {
		if !strings.Contains(details, want) {
			t.Errorf("current details lack %q:\n%s", want, details)
		}
	}
	if asked.DeployAt.IsZero() || asked.LiveVersion != "1.1.0" {
		t.Errorf("the deploy should stand while people decide: live %q", asked.LiveVersion)
	}

	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s), want completed after the retry", res.Outcome, res.Reason)
	}
	if n := h.deploysTo("1.1.0"); n != 1 {
		t.Errorf("the app saw %d deploys of 1.1.0, want 1: a retried smoke test must not deploy again", n)
	}
	smoke := h.item(st, "deploy.smoke")
	if smoke.State != record.ItemPassed || len(smoke.Attempts) != 1 || smoke.Attempts[0].State != record.ItemFailed {
		t.Errorf("deploy.smoke %s with attempts %+v, want passed after one failed attempt", smoke.State, smoke.Attempts)
	}
	if len(st.Decisions) != 1 || st.Decisions[0].Choice != record.ChoiceRetry || !slices.Equal(st.Decisions[0].By, []string{requester}) {
		t.Errorf("decisions %+v, want one retry by %s", st.Decisions, requester)
	}
	for _, a := range st.Alerts {
		if strings.HasPrefix(a.Key, "failure:smoke") && a.AckedBy != requester {
			t.Errorf("the failure's alert %s was not answered by the retry: acked by %q", a.ID, a.AckedBy)
		}
	}
	ev := h.evidenceText(st)
	for _, want := range []string{"attempt 1 failed", "smoke: retry (attempt 1) by " + requester} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q", want)
		}
	}
}

func TestDeploySkipNeedsTwoDistinctRollbackApprovers(t *testing.T) {
	h := newHarness(t)
	h.spec.Failure.Deploy.OnFailure = spec.FailAsk
	// The deploy is applied but its answer says it failed (a timed-out deploy).
	h.at(5*time.Hour+50*time.Minute, func() { h.failNext("POST /admin/deploy", 1, true) })
	skip := func(person string) workflows.Skip {
		return workflows.Skip{Person: person, Item: "deploy.app", Reason: person + " checked the live version by hand"}
	}
	var one record.Status
	h.at(6*time.Hour+10*time.Minute, func() {
		h.signal(workflows.SkipName, skip("carol")) // compliance officer: not a rollback approver
		h.signal(workflows.SkipName, skip("alice"))
		h.signal(workflows.SkipName, skip("alice")) // the same person twice counts once
	})
	h.at(6*time.Hour+15*time.Minute, func() { one = h.status() })
	h.at(6*time.Hour+20*time.Minute, func() { h.signal(workflows.SkipName, skip("bob")) })
	res := h.run(h.input("1.1.0"))
	st := h.status()

	if one.Failure == nil || one.Failure.Step != "deploy" {
		t.Fatalf("with one approver's skip the release should still wait on the failed deploy: %+v", one.Failure)
	}
	if it := h.item(one, "deploy.app"); it.State != record.ItemFailed {
		t.Errorf("deploy.app %s after one skip, want still failed", it.State)
	}
	if len(one.Failure.Skips) != 1 || one.Failure.Skips[0].Person != "alice" {
		t.Errorf("skip consents %+v, want alice's alone", one.Failure.Skips)
	}
	refused := false
	for _, r := range st.Refused {
		if r.Input == workflows.SkipName && r.Person == "carol" {
			refused = true
		}
	}
	if !refused {
		t.Errorf("carol's skip was not refused: %+v", st.Refused)
	}

	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s), want completed: the deploy had applied, so verify and smoke pass after the skip", res.Outcome, res.Reason)
	}
	app := h.item(st, "deploy.app")
	if app.State != record.ItemSkipped || app.Actor != "alice, bob" || !strings.Contains(app.Detail, "bob checked") {
		t.Errorf("deploy.app %s by %q (%s), want skipped by alice, bob with their reasons", app.State, app.Actor, app.Detail)
	}
	if d := st.Decisions; len(d) != 1 || d[0].Choice != record.ChoiceSkip || !slices.Equal(d[0].By, []string{"alice", "bob"}) {
		t.Errorf("decisions %+v, want one skip by alice and bob", d)
	}
	if n := h.deploysTo("1.1.0"); n != 1 {
		t.Errorf("%d deploys of 1.1.0 at the app, want 1", n)
	}
	if ev := h.evidenceText(st); !strings.Contains(ev, "deploy: skip (attempt 1) by alice and bob") {
		t.Error("evidence does not say who skipped the deploy")
	}
}

func TestNoDecisionWithinTheTimeoutRollsBack(t *testing.T) {
	h := newHarness(t)
	h.spec.Failure.Smoke = spec.StepFailure{OnFailure: spec.FailAsk, DecisionTimeout: spec.Duration(45 * time.Minute)}
	h.at(5*time.Hour+50*time.Minute, func() { h.failNext("POST /api/appointments", 1, false) })
	res := h.run(h.input("1.1.0"))
	st := h.status()

	if res.Outcome != record.OutcomeRolledBack || h.app.Version() != "1.0.0" {
		t.Fatalf("outcome %s, app on %s: want rolled back to 1.0.0 when nobody decides", res.Outcome, h.app.Version())
	}
	if len(st.Decisions) != 1 || st.Decisions[0].Choice != record.ChoiceTimeout || !slices.Equal(st.Decisions[0].By, []string{"golive"}) {
		t.Fatalf("decisions %+v, want golive's timeout", st.Decisions)
	}
	smoke := h.item(st, "deploy.smoke")
	if d := st.Decisions[0].At.Sub(smoke.At); d < 45*time.Minute || d > 46*time.Minute {
		t.Errorf("decided %s after the failure, want the 45m decision timeout", d)
	}
	if !strings.Contains(st.Reason, "no decision") {
		t.Errorf("reason %q does not say nobody decided", st.Reason)
	}
}

func TestHoldDuringTheT0WaitStopsBeforeTheCodeFreeze(t *testing.T) {
	h := newHarness(t)
	h.at(5*time.Hour, func() { h.signal(workflows.HoldName, workflows.Hold{Person: requester, Reason: "vendor call"}) })
	var held record.Status
	h.at(7*time.Hour, func() { held = h.status() })
	h.at(8*time.Hour, func() { h.signal(workflows.ResumeName, workflows.Resume{Person: requester}) })
	res := h.run(h.input("1.1.0"))
	st := h.status()

	if held.Stage != record.StageDeploy || held.Waiting == nil || held.Waiting.Kind != record.WaitHold ||
		!strings.Contains(held.Waiting.For, "before the code freeze") {
		t.Fatalf("at 7 h: stage %s, waiting %v; want held in the deploy stage before the code freeze", held.Stage, held.Waiting)
	}
	if it := h.item(held, "deploy.freeze"); it.State != record.ItemPending || !held.DeployAt.IsZero() {
		t.Errorf("held release already froze code (%s) or deployed (%v)", it.State, held.DeployAt)
	}
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	if d := st.DeployAt.Sub(st.StartedAt); d < 8*time.Hour {
		t.Errorf("deployed %s after the start, want after the resume at 8 h", d)
	}
}

func TestHoldBetweenMigrationsAndDeploy(t *testing.T) {
	h := newHarness(t)
	var held record.Status
	// The hold comes while the migrations run.
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "Migrate" {
			h.signal(workflows.HoldName, workflows.Hold{Person: requester, Reason: "check the schema first"})
		}
	})
	h.at(7*time.Hour, func() { held = h.status() })
	h.at(8*time.Hour, func() { h.signal(workflows.ResumeName, workflows.Resume{Person: requester}) })
	res := h.run(h.input("1.1.0"))
	st := h.status()

	if held.Waiting == nil || held.Waiting.Kind != record.WaitHold || !strings.Contains(held.Waiting.For, "before the deploy") {
		t.Fatalf("at 7 h waiting %v; want held before the deploy", held.Waiting)
	}
	if it := h.item(held, "deploy.migrations"); !it.State.Done() {
		t.Errorf("migrations %s at the hold, want done", it.State)
	}
	if it := h.item(held, "deploy.app"); it.State != record.ItemPending {
		t.Errorf("deploy.app %s while held, want pending", it.State)
	}
	if res.Outcome != record.OutcomeCompleted || st.DeployAt.Sub(st.StartedAt) < 8*time.Hour {
		t.Errorf("outcome %s, deployed %s after the start; want completed after the resume at 8 h", res.Outcome, st.DeployAt.Sub(st.StartedAt))
	}
}

// freezeAt is a one-off UTC freeze from a to b (minute precision, as a spec writes it).
func freezeAt(name string, a, b time.Time) spec.Freeze {
	const layout = "2006-01-02T15:04"
	return spec.Freeze{Name: name, Reason: "EHR vendor upgrade", TimeZone: "UTC", Start: a.UTC().Format(layout), End: b.UTC().Format(layout)}
}

func TestFreezeThatBeginsDuringApprovalsHoldsTheDeployUntilItEnds(t *testing.T) {
	h := newHarness(t)
	start := h.env.Now().Truncate(time.Minute).Add(time.Minute)
	end := start.Add(9 * time.Hour)
	h.spec.Freeze = []spec.Freeze{freezeAt("vendor-upgrade", start.Add(time.Hour), end)}
	var frozen record.Status
	h.at(7*time.Hour, func() { frozen = h.status() })
	res := h.run(h.input("1.1.0"))
	st := h.status()

	if w := frozen.Waiting; w == nil || w.Kind != record.WaitFreeze || !w.Until.Equal(end) || !strings.Contains(w.For, "vendor-upgrade") {
		t.Fatalf("at 7 h waiting %+v; want the freeze vendor-upgrade until %s", w, end)
	}
	if frozen.Stage != record.StageDeploy || !frozen.DeployAt.IsZero() || h.item(frozen, "deploy.freeze").State != record.ItemPending {
		t.Errorf("inside the freeze: stage %s, deployed %v, code freeze %s", frozen.Stage, frozen.DeployAt, h.item(frozen, "deploy.freeze").State)
	}
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	if st.DeployAt.Before(end) || st.DeployAt.Sub(end) > time.Minute {
		t.Errorf("deployed at %s, want right after the freeze ends at %s", st.DeployAt, end)
	}
}

func TestFreezeOverrideNeedsTwoRollbackApprovers(t *testing.T) {
	h := newHarness(t)
	start := h.env.Now().Truncate(time.Minute).Add(time.Minute)
	h.spec.Freeze = []spec.Freeze{freezeAt("vendor-upgrade", start.Add(time.Hour), start.Add(20*time.Hour))}
	override := func(person string) workflows.OverrideFreeze {
		return workflows.OverrideFreeze{Person: person, Freeze: "vendor-upgrade", Reason: "security fix"}
	}
	var one record.Status
	h.at(6*time.Hour+30*time.Minute, func() { h.signal(workflows.OverrideFreezeName, override("alice")) })
	h.at(7*time.Hour, func() { one = h.status() })
	h.at(7*time.Hour+30*time.Minute, func() { h.signal(workflows.OverrideFreezeName, override("bob")) })
	res := h.run(h.input("1.1.0"))
	st := h.status()

	if one.Waiting == nil || one.Waiting.Kind != record.WaitFreeze || !one.DeployAt.IsZero() {
		t.Fatalf("one approver's override deployed or stopped waiting: %+v", one.Waiting)
	}
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	if d := st.DeployAt.Sub(st.StartedAt); d < 7*time.Hour+30*time.Minute || d > 7*time.Hour+31*time.Minute {
		t.Errorf("deployed %s after the start, want at the second override (7h30m)", d)
	}
	if len(st.FreezeOverrides) != 1 || st.FreezeOverrides[0].Granted.IsZero() || len(st.FreezeOverrides[0].By) != 2 {
		t.Errorf("freeze overrides %+v", st.FreezeOverrides)
	}
}

func TestStatusNamesEveryWaitWithItsDeadline(t *testing.T) {
	h := newHarness(t)
	in := h.input("1.1.0")
	type sample struct {
		at   time.Duration
		kind record.WaitKind
		has  string
		st   record.Status
	}
	samples := []*sample{
		{at: 2 * time.Minute, kind: record.WaitPerson, has: "attestations by"},
		{at: time.Hour, kind: record.WaitTimer, has: "T-4h"},
		{at: 5 * time.Hour, kind: record.WaitTimer, has: "T-0"},
		{at: 6*time.Hour + 30*time.Minute, kind: record.WaitTimer, has: "T+1h"},
		{at: 12 * time.Hour, kind: record.WaitWatch, has: "24-hour watch"},
	}
	for _, s := range samples {
		h.at(s.at, func() { s.st = h.status() })
	}
	h.run(in)
	st := h.status()
	watchEnd := st.DeployAt.Add(24 * time.Hour)
	wantUntil := map[record.WaitKind]time.Time{record.WaitWatch: watchEnd}
	for _, s := range samples {
		w := s.st.Waiting
		if w == nil || w.Kind != s.kind || !strings.Contains(w.For, s.has) || w.Until.IsZero() {
			t.Errorf("at +%s (stage %s): waiting %+v, want %s %q with a deadline", s.at, s.st.Stage, w, s.kind, s.has)
			continue
		}
		if want, ok := wantUntil[s.kind]; ok && !w.Until.Equal(want) {
			t.Errorf("at +%s: until %s, want %s", s.at, w.Until, want)
		}
	}
	// The T-4h and T-0 waits end at those moments of the window.
	if w := samples[1].st.Waiting; w != nil && !w.Until.Equal(in.Window.Add(-4*time.Hour)) {
		t.Errorf("T-4h wait until %s, want %s", w.Until, in.Window.Add(-4*time.Hour))
	}
	if w := samples[2].st.Waiting; w != nil && !w.Until.Equal(in.Window) {
		t.Errorf("T-0 wait until %s, want %s", w.Until, in.Window)
	}
}

func TestARetriedDeployDeploysOnceAtTheTarget(t *testing.T) {
	h := newHarness(t)
	h.spec.Failure.Deploy.OnFailure = spec.FailAsk
	// Applied, but answered as failed: the retry sends the same idempotency key.
	h.at(5*time.Hour+50*time.Minute, func() { h.failNext("POST /admin/deploy", 1, true) })
	h.at(6*time.Hour+10*time.Minute, func() { h.signal(workflows.RetryName, workflows.Retry{Person: "alice"}) })
	res := h.run(h.input("1.1.0"))
	st := h.status()

	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	if n := h.deploysTo("1.1.0"); n != 1 {
		t.Errorf("the app switched to 1.1.0 %d times, want once: the retry must replay the first deploy's key", n)
	}
	app := h.item(st, "deploy.app")
	if app.State != record.ItemPassed || len(app.Attempts) != 1 || st.PreviousVersion != "1.0.0" {
		t.Errorf("deploy.app %s, attempts %d, previous %q; want passed on the second attempt with previous 1.0.0", app.State, len(app.Attempts), st.PreviousVersion)
	}
}
