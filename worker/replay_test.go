package worker_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

var recordCorpus = flag.Bool("record-corpus", false, "re-record the replay corpus in testdata/histories (after a deliberate, versioned workflow change)")

const corpusDir = "../testdata/histories"

// corpusKeys is the payload encryption the corpus is recorded and replayed with:
// the production converter with a test key committed for the purpose.
const corpusKeys = "corpus=file://../testdata/codec-test.key"

// scenarios are the recorded release shapes the replay corpus keeps.
var scenarios = []struct {
	name    string
	version string
	tweak   func(*spec.Spec)
	refuse  bool
	// silent: nobody signs off (attestations are still given).
	silent bool
	// signed: environment production, every input signed with its person's key.
	signed bool
	// retried: the T-0 smoke test fails once (failure policy ask) and is retried.
	retried bool
}{
	{name: "happy-path", version: "1.1.0"},
	{name: "rollback", version: "1.2.0-bad"},
	{name: "approval-timeout", version: "1.1.0", silent: true, tweak: func(s *spec.Spec) {
		s.Approvals.Timeout, s.Approvals.RemindEvery, s.Approvals.EscalateAfter = spec.Duration(3*time.Second), spec.Duration(time.Second), spec.Duration(2*time.Second)
	}},
	{name: "refused-approval", version: "1.1.0", refuse: true},
	{name: "signed-production", version: "1.1.0", signed: true},
	{name: "smoke-retried", version: "1.1.0", retried: true, tweak: func(s *spec.Spec) { s.Failure.Smoke.OnFailure = spec.FailAsk }},
}

// TestRecordReplayCorpus records the corpus; it runs only with -record-corpus.
func TestRecordReplayCorpus(t *testing.T) {
	if !*recordCorpus {
		t.Log("replay corpus kept as committed (pass -record-corpus to re-record)")
		return
	}
	t.Setenv("GOLIVE_CODEC_KEYS", corpusKeys)
	// With the audit ledger on, so the corpus holds its appends (audit-batched).
	c, _ := startServerWithLedger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	go app.RunTraffic(ctx)
	if err := os.MkdirAll(corpusDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		url := srv.URL
		if sc.retried {
			_, url = flakyBookingApp(t, sc.version)
		}
		s := fastSpec(t, url)
		s.Service = sc.name
		if sc.tweak != nil {
			sc.tweak(&s)
		}
		if sc.signed {
			s.Environment = "production"
			r := startSigned(ctx, t, c, s, "erin", "erin")
			r.answer()
			writeHistory(ctx, t, c, sc.name, r.run)
			continue
		}
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment), TaskQueue: workflows.TaskQueue},
			workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: sc.version, Requester: "erin"})
		if err != nil {
			t.Fatal(err)
		}
		if sc.refuse {
			// The requester signing off their own release is refused and recorded.
			if err := c.SignalWorkflow(ctx, run.GetID(), "", workflows.SignoffName, workflows.Signoff{Person: "erin", Decision: workflows.Approve}); err != nil {
				t.Fatal(err)
			}
		}
		var retrying sync.WaitGroup
		if sc.retried {
			retrying.Go(func() { retryWhenAsked(ctx, t, c, run) })
		}
		if sc.silent {
			respond(ctx, t, c, run, s.Members, true)
		} else {
			respond(ctx, t, c, run, s.Members)
		}
		retrying.Wait()
		writeHistory(ctx, t, c, sc.name, run)
	}
}

// writeHistory stores a finished run's history as the corpus file of name.
func writeHistory(ctx context.Context, t *testing.T, c client.Client, name string, run client.WorkflowRun) {
	hist := historyOf(ctx, t, c, run.GetID(), run.GetRunID())
	b, err := protojson.MarshalOptions{Indent: " "}.Marshal(&historypb.History{Events: hist})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(corpusDir, name+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s: %d events", name, len(hist))
}

// corpusFiles are today's recordings and, one folder down, those of earlier
// workflow versions (named for the change that followed them), which running
// releases may still have: each must replay against today's code.
func corpusFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil || len(files) < len(scenarios) {
		t.Fatalf("replay corpus incomplete in %s: %v %v", corpusDir, files, err)
	}
	older, err := filepath.Glob(filepath.Join(corpusDir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return append(files, older...)
}

func replayer(t *testing.T, release any) sdkworker.WorkflowReplayer {
	t.Setenv("GOLIVE_CODEC_KEYS", corpusKeys)
	r, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{DataConverter: worker.DataConverter()})
	if err != nil {
		t.Fatal(err)
	}
	r.RegisterWorkflowWithOptions(release, workflow.RegisterOptions{Name: "ReleaseWorkflow"})
	r.RegisterWorkflow(workflows.MonitorWorkflow)
	r.RegisterWorkflow(workflows.CheckWorkflow)
	return r
}

// TestReplayCorpus replays every recorded release against today's workflow code
// with the production data converter: a change that would break running
// releases fails here.
func TestReplayCorpus(t *testing.T) {
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range corpusFiles(t) {
		name, _ := filepath.Rel(corpusDir, f)
		t.Run(name, func(t *testing.T) {
			if err := replay(t, logger, workflows.ReleaseWorkflow, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

// reorderedRelease is a deliberately wrong copy of the release: it starts with
// a timer where the real one records the live version.
func reorderedRelease(ctx workflow.Context, in workflows.ReleaseInput) (workflows.ReleaseResult, error) {
	if err := workflow.Sleep(ctx, time.Second); err != nil {
		return workflows.ReleaseResult{}, err
	}
	return workflows.ReleaseWorkflow(ctx, in)
}

// TestReplayGuardCatchesReorderedSteps proves the corpus guards: the reordered
// copy must fail to replay the recorded happy path.
func TestReplayGuardCatchesReorderedSteps(t *testing.T) {
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	err := replay(t, logger, reorderedRelease, filepath.Join(corpusDir, "happy-path.json"))
	// TMPRL1100 is the SDK's nondeterminism error code.
	if err == nil || !strings.Contains(err.Error(), "TMPRL1100") {
		t.Fatalf("reordered workflow replayed without a nondeterminism error: %v", err)
	}
}

// replay replays one recorded release under its original workflow and run ID
// (as its start event names them; the children's IDs and every signed
// statement are derived from them), or release:<scenario>:demo for older
// recordings without them.
func replay(t *testing.T, logger sdklog.Logger, release any, file string) error {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id, runID := workflows.ReleaseID(strings.TrimSuffix(filepath.Base(file), ".json"), "demo"), "replay"
	if start := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes(); start.GetWorkflowId() != "" {
		id, runID = start.GetWorkflowId(), start.GetOriginalExecutionRunId()
	}
	return replayer(t, release).ReplayWorkflowHistoryWithOptions(logger, hist, sdkworker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: id, RunID: runID},
	})
}
