package workflows_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// A drill whose result the audit ledger cannot take fails the workflow (and
// so shows as failed on its Schedule): an unrecorded drill proves nothing to
// the readiness gate. An unknown kind is refused before anything runs.
func TestADrillNotRecordedInTheLedgerFails(t *testing.T) {
	t.Setenv("GOLIVE_AUDIT_URL", "")
	run := func(in workflows.DrillInput) error {
		var suite testsuite.WorkflowTestSuite
		suite.SetLogger(nopLogger{})
		env := suite.NewTestWorkflowEnvironment()
		worker.Register(env, worker.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		env.ExecuteWorkflow(workflows.DrillWorkflow, in)
		if !env.IsWorkflowCompleted() {
			t.Fatal("drill did not complete")
		}
		return env.GetWorkflowError()
	}
	err := run(workflows.DrillInput{Service: "portal", Kind: spec.DrillBackupRestore, Staging: spec.Staging{Backup: spec.Backup{Type: "postgres"}}})
	if err == nil || !strings.Contains(err.Error(), "drill backup_restore unavailable, not recorded in the audit ledger") {
		t.Fatalf("unrecorded drill: %v", err)
	}
	if err := run(workflows.DrillInput{Service: "portal", Kind: "fire"}); err == nil || !strings.Contains(err.Error(), `unknown drill kind "fire"`) {
		t.Fatalf("unknown kind: %v", err)
	}
}
