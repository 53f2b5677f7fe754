package workflows_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

func TestHappyPathRunsTheWhole48Hours(t *testing.T) {
	h := newHarness(t)
	res := h.run(h.input("1.1.0"))
	st := h.status()

	if res.Outcome != record.OutcomeCompleted || res.LiveVersion != "1.1.0" {
		t.Fatalf("outcome %s live %s, reason %q", res.Outcome, res.LiveVersion, res.Reason)
	}
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatalf("a completed release completes its workflow, got %v", err)
	}
	if got := h.app.Version(); got != "1.1.0" {
		t.Fatalf("demo app runs %s, want 1.1.0", got)
	}
	if st.PreviousVersion != "1.0.0" {
		t.Fatalf("previous version %q, want 1.0.0", st.PreviousVersion)
	}
	for _, it := range st.Items {
		if it.Optional {
			continue
		}
		if it.State != record.ItemPassed && it.State != record.ItemSkipped {
			t.Errorf("item %s (%s) is %s: %s %s", it.ID, it.Title, it.State, it.Value, it.Detail)
		}
	}
	for _, sl := range st.Slots {
		if sl.State != record.ItemPassed {
			t.Errorf("slot %s/%s is %s", sl.Block, sl.ID, sl.State)
		}
	}
	if res.EvidencePath == "" || !strings.HasSuffix(res.EvidencePath, ".md") {
		t.Errorf("evidence path %q", res.EvidencePath)
	}
	// T-0 was six hours after the start: the deploy waited for its durable timer.
	if d := st.DeployAt.Sub(st.Window); d < 0 || d > time.Minute {
		t.Errorf("deployed at %s, window %s", st.DeployAt, st.Window)
	}
	if len(st.Compare) == 0 {
		t.Error("no pre/post comparison")
	}
	// The review_due notice went out when the review opened, 24 h after deploy,
	// to the people the review needs; every message is on the record.
	var due []string
	for _, n := range st.Notices {
		if !n.OK {
			t.Errorf("notice failed: %+v", n)
		}
		if n.Event == "review_due" {
			due = append(due, n.Person)
			if d := n.At.Sub(st.DeployAt); d < 24*time.Hour || d > 24*time.Hour+time.Minute {
				t.Errorf("review_due sent %s after deploy, want 24h", d)
			}
		}
	}
	if len(due) == 0 {
		t.Errorf("review_due never sent; notices: %d", len(st.Notices))
	}
}

func TestWatchMakesExactly30ChecksAtFixedOffsets(t *testing.T) {
	h := newHarness(t)
	h.run(h.input("1.1.0"))
	st := h.status()

	var want []time.Duration
	for m := 15; m <= 240; m += 15 {
		want = append(want, time.Duration(m)*time.Minute)
	}
	for hr := 5; hr <= 12; hr++ {
		want = append(want, time.Duration(hr)*time.Hour)
	}
	for hr := 14; hr <= 24; hr += 2 {
		want = append(want, time.Duration(hr)*time.Hour)
	}
	var got []record.CheckReport
	for _, c := range st.Checks {
		if c.Window == workflows.WindowWatch {
			got = append(got, c)
		}
	}
	if len(got) != 30 || len(want) != 30 {
		t.Fatalf("%d watch checks, want 30", len(got))
	}
	for i, c := range got {
		if c.Offset != want[i] {
			t.Errorf("check %d at offset %s, want %s", i+1, c.Offset, want[i])
		}
		if drift := c.At.Sub(st.DeployAt.Add(want[i])); drift != 0 {
			t.Errorf("check %d drifted by %s", i+1, drift)
		}
	}
	if !got[3].Targets {
		t.Error("the check at +1h should judge the T+1h targets")
	}
}

func TestRejectedSignoffEndsReleaseWithoutDeploying(t *testing.T) {
	h := newHarness(t)
	h.answer = func(h *harness, sl record.SlotState) bool {
		if sl.ID != "compliance_officer" {
			return false
		}
		h.signal(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: "carol", Decision: workflows.Reject, Comment: "BAA with SMS provider missing"})
		return true
	}
	res := h.run(h.input("1.1.0"))
	if res.Outcome != record.OutcomeRejected {
		t.Fatalf("outcome %s, want rejected", res.Outcome)
	}
	if !strings.Contains(res.Reason, "carol") || !strings.Contains(res.Reason, "BAA") {
		t.Errorf("reason %q does not name who rejected and why", res.Reason)
	}
	if n := len(h.app.DeployLog()); n != 0 {
		t.Errorf("%d deploys after a rejection", n)
	}
}

func TestApprovalTimeoutAbortsAfter24Hours(t *testing.T) {
	h := newHarness(t)
	h.answer = func(h *harness, sl record.SlotState) bool {
		return sl.Block == "approvals" && sl.ID == "project_manager"
	}
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeTimedOut {
		t.Fatalf("outcome %s, want timed_out", res.Outcome)
	}
	if !strings.Contains(res.Reason, "project_manager") {
		t.Errorf("reason %q should name the missing slot", res.Reason)
	}
	if len(h.app.DeployLog()) != 0 {
		t.Error("deployed without approvals")
	}
	// The open sign-off was escalated after 12 h (escalate_after).
	if len(st.Alerts) == 0 || !strings.Contains(st.Alerts[0].Reason, "project_manager") {
		t.Errorf("alerts %+v: want an escalation naming the overdue slot", st.Alerts)
	}
}

func TestErrorRateAbove5PercentAtHour6RollsBack(t *testing.T) {
	h := newHarness(t)
	in := h.input("1.1.0")
	// T-0 is 6 h after start; at 5h50m after deploy the error rate jumps to 7.5 %.
	h.env.RegisterDelayedCallback(func() { h.metrics.set("error_rate", 7.5) }, 6*time.Hour+5*time.Hour+50*time.Minute)
	res := h.run(in)
	st := h.status()
	if res.Outcome != record.OutcomeRolledBack {
		t.Fatalf("outcome %s, want rolled_back (reason %q)", res.Outcome, res.Reason)
	}
	// The workflow fails, typed, so the UI's list shows it; the result rides along.
	var app *temporal.ApplicationError
	if err := h.env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != workflows.ErrReleaseRolledBack || !app.NonRetryable() {
		t.Fatalf("workflow error %v, want a non-retryable %s", err, workflows.ErrReleaseRolledBack)
	}
	if res.EvidencePath == "" {
		t.Error("a rolled-back release's result has no evidence path: the evidence comes before the failure")
	}
	if h.app.Version() != "1.0.0" || res.LiveVersion != "1.0.0" {
		t.Fatalf("app runs %s (result %s), want the previous 1.0.0", h.app.Version(), res.LiveVersion)
	}
	if st.Rollback == nil || !strings.Contains(st.Rollback.Trigger, "error rate 7.50% > 5%") || st.Rollback.By != "golive" {
		t.Fatalf("rollback record %+v", st.Rollback)
	}
	if !strings.Contains(st.Rollback.Trigger, "+6h0m0s") {
		t.Errorf("trigger %q should be the check at +6h", st.Rollback.Trigger)
	}
	log := h.app.DeployLog()
	if len(log) != 2 || log[0].To != "1.1.0" || log[1].To != "1.0.0" {
		t.Errorf("deploy log %+v: want deploy 1.1.0 then revert to 1.0.0", log)
	}
	for _, id := range []string{"rollback.decision", "rollback.notify", "rollback.revert", "rollback.verify", "rollback.incident"} {
		if it := h.item(st, id); it.State != record.ItemPassed {
			t.Errorf("%s is %s: %s", id, it.State, it.Detail)
		}
	}
}

func TestAbortDuringWatchCompensates(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() {
		h.signal(workflows.AbortName, workflows.Abort{Person: requester, Reason: "vendor outage"})
	}, 6*time.Hour+3*time.Hour)
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeAborted {
		t.Fatalf("outcome %s, want aborted", res.Outcome)
	}
	if h.app.Version() != "1.0.0" {
		t.Fatalf("app runs %s after abort, want 1.0.0", h.app.Version())
	}
	if st.Rollback == nil || st.Rollback.By != requester || !st.Rollback.Completed {
		t.Fatalf("rollback record %+v", st.Rollback)
	}
}

func TestDuplicateAndRefusedSignoffs(t *testing.T) {
	h := newHarness(t)
	// alice also holds operations_lead here, to try one person in two slots.
	h.editDirectory("roles: [development_lead, on_call_developer]", "roles: [development_lead, on_call_developer, operations_lead]")
	alice, _ := h.spec.Person("alice")
	h.spec.Team["operations_lead"] = append(h.spec.Team["operations_lead"], alice)
	first := true
	h.answer = func(h *harness, sl record.SlotState) bool {
		if sl.ID != "development_lead" || !first {
			return false
		}
		first = false
		// The requester may not sign; bob holds no development_lead role; alice signs twice.
		h.signal(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: requester, Decision: workflows.Approve})
		h.signal(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: "bob", Decision: workflows.Approve})
		h.signal(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: "alice", Decision: workflows.Approve})
		h.signal(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: "alice", Decision: workflows.Approve})
		// alice again, now for another slot: one person fills one slot.
		h.signal(workflows.SignoffName, workflows.Signoff{Slot: "operations_lead", Person: "alice", Decision: workflows.Approve})
		return true
	}
	res := h.run(h.input("1.1.0"))
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	st := h.status()
	for _, sl := range st.Slots {
		if sl.ID == "development_lead" && (len(sl.By) != 1 || sl.By[0].Person != "alice") {
			t.Errorf("development_lead signed by %+v, want alice once", sl.By)
		}
	}
	want := map[string]string{requester: "separation of duties", "bob": "does not hold the role development_lead"}
	found := map[string]bool{}
	for _, r := range st.Refused {
		if w, ok := want[r.Person]; ok && strings.Contains(r.Reason, w) {
			found[r.Person] = true
		}
		if r.Person == "alice" && r.Slot == "operations_lead" && strings.Contains(r.Reason, "only one slot") {
			found["alice"] = true
		}
	}
	for _, p := range []string{requester, "bob", "alice"} {
		if !found[p] {
			t.Errorf("no refusal recorded for %s; refused: %+v", p, st.Refused)
		}
	}
}

func TestHumanRollbackRequestForDataCorruption(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() {
		// dave is no team lead: refused; alice (development lead) decides.
		h.signal(workflows.RollbackName, workflows.RollbackRequest{Person: "dave", Reason: workflows.ReasonDataCorruption})
		h.signal(workflows.RollbackName, workflows.RollbackRequest{Person: "alice", Reason: workflows.ReasonDataCorruption, Comment: "duplicate appointments"})
	}, 6*time.Hour+2*time.Hour)
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeRolledBack || h.app.Version() != "1.0.0" {
		t.Fatalf("outcome %s, app %s", res.Outcome, h.app.Version())
	}
	if st.Rollback == nil || st.Rollback.By != "alice" || !strings.Contains(st.Rollback.Trigger, "data_corruption") {
		t.Fatalf("rollback record %+v", st.Rollback)
	}
	refused := false
	for _, r := range st.Refused {
		refused = refused || (r.Person == "dave" && r.Input == workflows.RollbackName)
	}
	if !refused {
		t.Errorf("dave's rollback request was not refused: %+v", st.Refused)
	}
	// Post-rollback action items were attested before the release ended.
	if it := h.item(st, "rollback.root_cause"); it.State != record.ItemPassed {
		t.Errorf("rollback.root_cause is %s", it.State)
	}
}

func TestHoldStopsBeforeTheNextStepUntilResumed(t *testing.T) {
	h := newHarness(t)
	var heldStage record.Stage
	h.env.RegisterDelayedCallback(func() {
		h.signal(workflows.HoldName, workflows.Hold{Person: requester, Reason: "vendor maintenance"})
	}, 90*time.Minute)
	h.env.RegisterDelayedCallback(func() { heldStage = h.status().Stage }, 20*time.Hour)
	h.env.RegisterDelayedCallback(func() {
		h.signal(workflows.ResumeName, workflows.Resume{Person: requester})
	}, 20*time.Hour+time.Minute)
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	// Held at 1h30 while T-4h preparation was under way: parked before the deploy.
	if heldStage != record.StagePrepare {
		t.Errorf("held release was at stage %s at hour 20, want it parked before the deploy", heldStage)
	}
	// The deploy happened after the resume, not at the 6 h window.
	if st.DeployAt.Sub(st.StartedAt) < 20*time.Hour {
		t.Errorf("deployed %s after start, want after the resume at 20h", st.DeployAt.Sub(st.StartedAt))
	}
}

func TestComplianceSignsLast(t *testing.T) {
	h := newHarness(t)
	for i, sl := range h.spec.Approvals.Slots {
		if sl.ID == "compliance_officer" {
			h.spec.Approvals.Slots[i].After = []string{"development_lead", "operations_lead", "project_manager"}
		}
	}
	early := true
	h.answer = func(h *harness, sl record.SlotState) bool {
		if sl.ID == "compliance_officer" && early {
			early = false
			h.signal(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: "carol", Decision: workflows.Approve})
			return true
		}
		return false
	}
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	refused := false
	for _, r := range st.Refused {
		refused = refused || (r.Person == "carol" && strings.Contains(r.Reason, "signs after"))
	}
	if !refused {
		t.Errorf("carol's early sign-off was not refused: %+v", st.Refused)
	}
	var last, compliance time.Time
	for _, sl := range st.Slots {
		if sl.Block != "approvals" || len(sl.By) == 0 {
			continue
		}
		if sl.ID == "compliance_officer" {
			compliance = sl.By[0].At
		} else if sl.By[0].At.After(last) {
			last = sl.By[0].At
		}
	}
	if compliance.Before(last) {
		t.Errorf("compliance signed at %s, before the last other slot at %s", compliance, last)
	}
}

// A rolled-back release whose post-rollback review sign-offs time out (on_timeout
// abort) stays rolled back: only run sets the outcome, and a late review does
// not undo the rollback.
func TestRolledBackReleaseStaysRolledBackWhenItsReviewSignoffsTimeOut(t *testing.T) {
	h := newHarness(t)
	h.spec.Review.Signoffs.OnTimeout = "abort"
	h.answer = func(h *harness, sl record.SlotState) bool { return sl.Block == workflows.BlockReview }
	h.env.RegisterDelayedCallback(func() { h.metrics.set("error_rate", 7.5) }, 6*time.Hour+5*time.Hour+50*time.Minute)
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeRolledBack || st.Outcome != record.OutcomeRolledBack {
		t.Fatalf("outcome %s (status %s), want rolled_back (reason %q)", res.Outcome, st.Outcome, res.Reason)
	}
	if !strings.Contains(res.Reason, "review sign-offs overdue") || !strings.Contains(res.Reason, "review_24h") {
		t.Errorf("reason %q should say which review sign-offs are overdue", res.Reason)
	}
	if st.Rollback == nil || !strings.Contains(st.Rollback.Trigger, "error rate 7.50% > 5%") {
		t.Errorf("rollback record %+v should keep the trigger", st.Rollback)
	}
}
