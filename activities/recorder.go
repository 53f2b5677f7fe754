package activities

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/activity"

	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/evidencestore"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// RecordInput carries the release record to write.
type RecordInput struct {
	Dir    string        `json:"dir"`
	Status record.Status `json:"status"`
	// Thresholds draw the target, critical and rollback lines on the charts.
	Thresholds *spec.Thresholds `json:"thresholds,omitempty"`
}

// Recorder writes the release record: the evidence pack and incident
// records, each sealed with its own digest and the audit chain head
// (evidence.Seal), to Store.
type Recorder struct {
	Logger *slog.Logger
	// Store is where every worker writes and golive report reads (golive's
	// database or S3: worker --evidence-store); nil writes files under the
	// release's evidence.dir on this worker's disk (dev, one worker).
	Store evidencestore.Store
}

// Evidence writes the filled checklist as Markdown and HTML and returns where
// the Markdown is (a path, postgres:TABLE/ID or s3://BUCKET/KEY).
func (r *Recorder) Evidence(ctx context.Context, in RecordInput) (string, error) {
	ref, err := r.put(ctx, in, evidence.KindMarkdown, evidence.Markdown(in.Status))
	if err != nil {
		return "", err
	}
	if _, err := r.put(ctx, in, evidence.KindHTML, evidence.HTMLWith(in.Status, evidence.Options{Thresholds: in.Thresholds})); err != nil {
		return "", err
	}
	return ref, nil
}

// Incident writes the incident record (the post-mortem skeleton) of a rollback.
func (r *Recorder) Incident(ctx context.Context, in RecordInput) (string, error) {
	return r.put(ctx, in, evidence.KindIncident, evidence.Incident(in.Status))
}

// put seals and stores one document under the release and run (the run ID,
// so reruns never overwrite), with the audit chain head the release holds.
func (r *Recorder) put(ctx context.Context, in RecordInput, kind evidence.Kind, doc string) (string, error) {
	run := "local"
	if activity.IsActivity(ctx) {
		run = activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	st := r.Store
	if st == nil {
		st = evidencestore.Dir{Root: in.Dir}
	}
	ref, err := st.Put(ctx, evidencestore.New(in.Status.ReleaseID, run, kind, doc, in.Status.AuditHead))
	if err != nil {
		return "", fmt.Errorf("write %s of %s: %w", kind, in.Status.ReleaseID, err)
	}
	return ref, nil
}
