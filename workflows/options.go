package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/telemetry"
)

// Activities are called through nil typed pointers so names are checked by the compiler.
var (
	prober   *activities.Prober
	deployer *activities.Deployer
	database *activities.Database
	metrics  *activities.Metrics
	notifier *activities.Notifier
	recorder *activities.Recorder
	teamDir  *activities.Directory
)

// Errors that retrying cannot fix; every activity's retry policy stops on them.
var nonRetryable = []string{activities.ErrNotConfigured, activities.ErrBadInput, activities.ErrDeployFailed, activities.ErrDirectoryRefused}

// act returns a context for one activity with explicit timeouts, a bounded retry
// policy and a summary that reads as the checklist line.
func act(ctx workflow.Context, summary string, timeout time.Duration) workflow.Context {
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    heartbeatFor(timeout),
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: nonRetryable,
		},
	})
}

// heartbeatFor asks long activities to heartbeat so a dead worker is noticed quickly.
func heartbeatFor(timeout time.Duration) time.Duration {
	if timeout > 2*time.Minute {
		return time.Minute
	}
	return 0
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

// publish refreshes the UI's "current details" with the checklist as it stands.
func (r *release) publish(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, currentDetails(&r.st))
}

// currentDetails renders the release as Markdown for the Temporal UI.
func currentDetails(st *record.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s %s → %s** · stage **%s** · %s\n\n", st.Service, st.Environment, st.Version, st.Stage, st.Outcome)
	if st.Waiting != "" {
		fmt.Fprintf(&b, "**Waiting for** %s\n\n", st.Waiting)
	}
	var pending []string
	for _, sl := range st.Slots {
		if sl.State == record.ItemWaiting {
			pending = append(pending, sl.Title+" ("+sl.ID+")")
		}
	}
	if len(pending) > 0 {
		fmt.Fprintf(&b, "Pending sign-offs: %s\n\n", strings.Join(pending, ", "))
		for _, sl := range st.Slots {
			if sl.State != record.ItemWaiting && sl.State != record.ItemPassed || !slotOpen(st, sl.Block) {
				continue
			}
			who := "_________"
			if len(sl.By) > 0 {
				who = sl.By[0].Person
			}
			fmt.Fprintf(&b, "- %s %s: %s\n", box(sl.State), sl.Title, who)
		}
		b.WriteString("\n")
	}
	section := ""
	for _, it := range st.Items {
		if it.Stage != st.Stage {
			continue
		}
		if it.Section != section {
			section = it.Section
			fmt.Fprintf(&b, "\n**%s**\n\n", section)
		}
		fmt.Fprintf(&b, "- %s %s", box(it.State), it.Title)
		if it.Value != "" {
			fmt.Fprintf(&b, " — %s", it.Value)
		}
		if it.Actor != "" && it.Actor != "golive" {
			fmt.Fprintf(&b, " (%s)", it.Actor)
		}
		b.WriteString("\n")
	}
	for _, a := range st.Alerts {
		if a.AckedBy == "" {
			fmt.Fprintf(&b, "\n**ALERT** %s level %d: %s\n", a.ID, a.Level, a.Reason)
		}
	}
	return b.String()
}

func box(s record.ItemState) string {
	switch s {
	case record.ItemPassed:
		return "[x]"
	case record.ItemFailed:
		return "[!]"
	case record.ItemUnavailable:
		return "[?]"
	case record.ItemSkipped:
		return "[-]"
	case record.ItemWaiting, record.ItemRunning:
		return "[…]"
	}
	return "[ ]"
}

// slotOpen reports whether a block has a slot waiting (it is the open block).
func slotOpen(st *record.Status, block string) bool {
	for _, sl := range st.Slots {
		if sl.Block == block && sl.State == record.ItemWaiting {
			return true
		}
	}
	return false
}
