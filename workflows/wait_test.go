package workflows

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
)

// Overlapping waits (the watch pausing for a decision while the completion
// sign-offs are open) end in any order; the status always shows the latest
// wait still open, never one that ended.
func TestOverlappingWaitsShowTheLatestOneStillOpen(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	var seen []string
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		r := &release{}
		show := func() {
			seen = append(seen, r.st.Waiting.String())
		}
		signoffs := r.waitFor(ctx, record.WaitPerson, "sign-offs", time.Time{}, "")
		decision := r.waitFor(ctx, record.WaitDecision, "decision", time.Time{}, "")
		show()
		signoffs() // the older one ends first
		show()
		decision()
		show()
		return nil
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := []string{"decision", "decision", ""}; len(seen) != 3 || seen[0] != got[0] || seen[1] != got[1] || seen[2] != got[2] {
		t.Errorf("status waits %q, want %q", seen, got)
	}
}
