package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// The history budget: Temporal terminates a workflow whose history passes
// 51,200 events or 50 MB (limit.historyCount.error, limit.historySize.error,
// the server's defaults). A release that gets there, say under a flood of
// inputs, would end mid-step with nothing compensated. golive stops it before:
// past these marks it aborts the release itself, compensating what was done,
// so it always ends with a defined, recorded outcome.
const (
	historyBudgetEvents = 40_000
	historyBudgetBytes  = 40 << 20
)

// HistoryOverBudget reports whether a history of this many events and bytes
// is past golive's budget, and why.
func HistoryOverBudget(events, bytes int) (bool, string) {
	switch {
	case events >= historyBudgetEvents:
		return true, fmt.Sprintf("the release's history has %d events, near Temporal's limit of 51,200", events)
	case bytes >= historyBudgetBytes:
		return true, fmt.Sprintf("the release's history has %d MB, near Temporal's limit of 50 MB", bytes>>20)
	}
	return false, ""
}

// guardHistory aborts the release when its history is over budget (after an
// input, the only thing outsiders can make the history grow by).
func (r *release) guardHistory(ctx workflow.Context) {
	if r.v < versionIdentity || r.stop != nil || r.st.Stage == record.StageEvidence || r.st.Stage == record.StageDone {
		return
	}
	info := workflow.GetInfo(ctx)
	over, why := HistoryOverBudget(info.GetCurrentHistoryLength(), info.GetCurrentHistorySize())
	if !over {
		return
	}
	reason := "aborted by golive: " + why + " (a flood of inputs?); what was done is compensated"
	r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, reason, "history-budget")
	r.stopLifecycle(record.OutcomeAborted, "golive", reason)
}
