package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

const deployAt = 6 * time.Hour // T-0 in the harness

func watchChecks(st record.Status) []record.CheckReport {
	var out []record.CheckReport
	for _, c := range st.Checks {
		if c.Window == workflows.WindowWatch {
			out = append(out, c)
		}
	}
	return out
}

func TestFailureLimitToleratesThenRollsBack(t *testing.T) {
	h := newHarness(t)
	h.spec.Metrics.Analysis = map[string]spec.Analysis{"error_rate": {FailureLimit: 1}}
	h.env.RegisterDelayedCallback(func() { h.metrics.set("error_rate", 9) }, deployAt+2*time.Hour+5*time.Minute)
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeRolledBack {
		t.Fatalf("outcome %s", res.Outcome)
	}
	// The first failure (at +2h15m) is tolerated; the second (at +2h30m) rolls back.
	if !strings.Contains(st.Rollback.Trigger, "error rate 9.00%") || !strings.Contains(st.Reason, "+2h30m0s") {
		t.Fatalf("trigger %q reason %q, want the check at +2h30m", st.Rollback.Trigger, st.Reason)
	}
}

func TestProviderDownEscalatesAndIsNeverAPass(t *testing.T) {
	h := newHarness(t)
	h.env.RegisterDelayedCallback(func() {
		h.metrics.mu.Lock()
		h.metrics.down = true
		h.metrics.mu.Unlock()
	}, deployAt+5*time.Hour+30*time.Minute)
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	checks := watchChecks(st)
	last := checks[len(checks)-1]
	if last.Worst != record.VerdictUnavailable {
		t.Fatalf("last check verdict %s, want unavailable while the provider is down", last.Worst)
	}
	// From +6h every check fails to measure; the 5th error in a row (+10h) passes the limit of 4.
	var escalatedAt time.Duration
	for _, c := range checks {
		if len(c.Escalate) > 0 && escalatedAt == 0 {
			escalatedAt = c.Offset
		}
	}
	if escalatedAt != 10*time.Hour {
		t.Errorf("escalated at +%s, want +10h (5th measurement error in a row)", escalatedAt)
	}
	if it := h.item(st, "watch.24h"); it.State == record.ItemPassed {
		t.Errorf("watch item passed while the provider was down: %+v", it)
	}
	found := false
	for _, a := range st.Alerts {
		found = found || strings.Contains(a.Reason, "could not be measured 5 times in a row")
	}
	if !found {
		t.Errorf("no escalation for the measurement errors: %+v", st.Alerts)
	}
}

func TestInconclusiveResultWaitsForAPerson(t *testing.T) {
	h := newHarness(t)
	h.spec.Metrics.Analysis = map[string]spec.Analysis{"error_rate": {SuccessCondition: "result < 1", FailureCondition: "result > 5"}}
	h.env.RegisterDelayedCallback(func() { h.metrics.set("error_rate", 3) }, deployAt+3*time.Hour+5*time.Minute)
	h.env.RegisterDelayedCallback(func() { h.metrics.set("error_rate", 0.02) }, deployAt+3*time.Hour+20*time.Minute)
	var pausedChecks int
	h.env.RegisterDelayedCallback(func() { pausedChecks = len(watchChecks(h.status())) }, deployAt+5*time.Hour)
	h.env.RegisterDelayedCallback(func() {
		for _, a := range h.status().Alerts {
			if strings.Contains(a.Reason, "inconclusive") {
				h.signal(workflows.AckName, workflows.Ack{Person: "alice", AlertID: a.ID})
			}
		}
	}, deployAt+6*time.Hour)
	res := h.run(h.input("1.1.0"))
	st := h.status()
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Reason)
	}
	// The check at +3h15m was inconclusive: nothing more was measured until alice decided at +6h.
	if pausedChecks != 13 {
		t.Errorf("%d checks by +5h, want 13 (paused after the inconclusive check at +3h15m)", pausedChecks)
	}
	if n := len(watchChecks(st)); n != 30 {
		t.Errorf("%d checks in all, want the 30 of the plan after the decision", n)
	}
}
