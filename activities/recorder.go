package activities

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/golive/golive/internal/evidence"
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

// Recorder writes the release record: the evidence pack and incident records.
type Recorder struct {
	Logger *slog.Logger
}

// Evidence writes the filled checklist as Markdown and HTML and returns the Markdown path.
func (r *Recorder) Evidence(ctx context.Context, in RecordInput) (string, error) {
	base := r.base(ctx, in)
	md := evidence.Markdown(in.Status)
	if err := writeFile(base+".md", md); err != nil {
		return "", err
	}
	if err := writeFile(base+".html", evidence.HTMLWith(in.Status, evidence.Options{Thresholds: in.Thresholds})); err != nil {
		return "", err
	}
	return base + ".md", nil
}

// Incident writes the incident record (the post-mortem skeleton) of a rollback.
func (r *Recorder) Incident(ctx context.Context, in RecordInput) (string, error) {
	path := r.base(ctx, in) + "-incident.md"
	if err := writeFile(path, evidence.Incident(in.Status)); err != nil {
		return "", err
	}
	return path, nil
}

// base is the file name stem: release ID and run ID, so reruns never overwrite.
func (r *Recorder) base(ctx context.Context, in RecordInput) string {
	run := "local"
	if activity.IsActivity(ctx) {
		run = activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	name := strings.NewReplacer(":", "_", "/", "_").Replace(in.Status.ReleaseID) + "-" + run
	return filepath.Join(in.Dir, name)
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("evidence dir: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
