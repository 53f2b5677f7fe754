package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
)

// evidence is stage 10: the audit ledger is flushed first, since its chain
// head goes into the evidence, then the filled checklist is written; since
// auditBatched the ledger then takes the last events (the evidence written,
// done) too.
func (r *release) evidence(ctx workflow.Context) {
	r.setStage(ctx, record.StageEvidence)
	r.flushAll(ctx)
	r.writeEvidence(ctx)
	r.setStage(ctx, record.StageDone)
	if r.vAudit >= auditBatched {
		r.flushAll(ctx)
	}
}

// writeEvidence writes the filled checklist.
func (r *release) writeEvidence(ctx workflow.Context) {
	var path string
	in := activities.RecordInput{Dir: r.spec.Evidence.Dir, Status: r.st, Thresholds: &r.spec.Thresholds}
	if err := workflow.ExecuteActivity(act(ctx, "Write the filled checklist (evidence)", 0), recorder.Evidence, in).Get(ctx, &path); err != nil {
		workflow.GetLogger(ctx).Error("evidence not written", "error", err)
		return
	}
	r.st.Evidence = path
}
