package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// Releases started before the team directory (identity version 0) still run
// on the worker until they finish, and the replay corpus keeps their
// histories: the code below is what they did, kept as it was.

// registerLegacyReports takes the monitoring child's check-report signals.
func (r *release) registerLegacyReports(ctx workflow.Context) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, CheckReportName)
		for {
			var rep record.CheckReport
			ch.Receive(ctx, &rep)
			r.onReport(ctx, rep)
		}
	})
}

// refuseLegacy records every refusal one by one.
func (r *release) refuseLegacy(ctx workflow.Context, input, person, slot, reason string) (InputResult, error) {
	r.st.Refused = append(r.st.Refused, record.Refusal{
		At: workflow.Now(ctx), Input: input, Person: person, Slot: slot, Reason: reason,
	})
	r.inputAudit(ctx, input, person, slot, "refused", reason)
	r.publish(ctx)
	workflow.GetLogger(ctx).Warn("input refused", "input", input, "person", person, "reason", reason)
	return InputResult{}, temporal.NewNonRetryableApplicationError(reason, ErrRefused, nil)
}
