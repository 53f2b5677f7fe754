package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// plan records who releases what, and what is live now (stage 1).
func (r *release) plan(ctx workflow.Context) error {
	r.setStage(ctx, record.StagePlan)
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SAService.ValueSet(r.spec.Service), SAEnvironment.ValueSet(r.spec.Environment), SAVersion.ValueSet(r.in.Version))
	if r.v >= versionIdentity {
		if err := r.pinDirectory(ctx); err != nil {
			return err
		}
	}
	var prev string
	err := workflow.ExecuteActivity(act(ctx, "Record the version live before the release", 0), deployer.CurrentVersion, r.deployInput(r.in.Version)).Get(ctx, &prev)
	if err != nil {
		prev = ""
		workflow.GetLogger(ctx).Warn("previous version unknown", "error", err)
	}
	r.st.PreviousVersion, r.st.LiveVersion = prev, prev
	r.mark(ctx, itemPlan, record.ItemPassed,
		fmt.Sprintf("%s → %s by %s, window %s", orUnknown(prev), r.in.Version, r.requesterNote(), r.st.Window.UTC().Format(time.RFC3339)), "")
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
