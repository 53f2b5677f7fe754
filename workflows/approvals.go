package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// approvals collects "Deployment Approved By" (stage 3).
func (r *release) approvals(ctx workflow.Context) error {
	r.setStage(ctx, record.StageApprovals)
	err := r.collectSignoffs(ctx, BlockApprovals)
	if err == errRejected {
		return end(record.OutcomeRejected, fmt.Sprintf("rejected by %s: %s", r.rejected.Person, r.rejected.Comment))
	}
	return err // nil, a timeout's end, or a cancellation
}
