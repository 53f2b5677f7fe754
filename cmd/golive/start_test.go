package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

// A T-0 in the past is refused with the reason (it used to become "now", and the
// release deployed right after its approvals with no T-4h lead).
func TestStartRefusesAWindowInThePast(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"2026-12-07T11:00:00Z", "in the past"},
		{"+-1h", "in the past"},
		{"yesterday", "RFC 3339"},
	} {
		if _, err := parseWindow(tc.in, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseWindow(%q): %v, want an error with %q", tc.in, err, tc.want)
		}
	}
	for _, ok := range []string{"", "+6h", "2026-12-07T22:00:00Z"} {
		if _, err := parseWindow(ok, now); err != nil {
			t.Errorf("parseWindow(%q): %v", ok, err)
		}
	}
}

// Every outcome but completed has its own exit code, none of them 0 or 1.
func TestEveryOutcomeHasItsOwnExitCode(t *testing.T) {
	seen := map[int]record.Outcome{}
	for _, o := range []record.Outcome{record.OutcomeCompleted, record.OutcomeRolledBack, record.OutcomeRejected,
		record.OutcomeAborted, record.OutcomeNotReady, record.OutcomeTimedOut, record.OutcomeFailed} {
		code := outcomeError{outcome: o}.ExitCode()
		if prev, dup := seen[code]; dup {
			t.Errorf("%s and %s share exit code %d", o, prev, code)
		}
		seen[code] = o
		if (o == record.OutcomeCompleted) != (code == 0) || code == 1 {
			t.Errorf("%s exits %d", o, code)
		}
	}
}

// outcomeStub is a release as `golive start --wait` sees it through the
// status query: in the deploy stage for a moment, then done with an outcome.
func outcomeStub(ctx workflow.Context, outcome record.Outcome) error {
	st := record.Status{Stage: record.StageDeploy, Outcome: record.OutcomeRunning}
	if err := workflow.SetQueryHandler(ctx, workflows.StatusQuery, func() (record.Status, error) { return st, nil }); err != nil {
		return err
	}
	if err := workflow.Sleep(ctx, 300*time.Millisecond); err != nil {
		return err
	}
	st.Stage, st.Outcome, st.Reason = record.StageDone, outcome, "ended "+string(outcome)
	return workflow.Await(ctx, func() bool { return false }) // stays open: the query is answered
}

// `golive start --wait` follows a release through the status query on a real
// server and ends with the outcome's exit code: 0 only for completed, the
// documented code for each other outcome (what main exits with).
func TestStartWaitExitsWithTheOutcomesCode(t *testing.T) {
	discard := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{Logger: discard}))
	ts.NewWorker("outcome-test", func(r worker.Registry) { r.RegisterWorkflow(outcomeStub) })
	c := ts.GetDefaultClient()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for o, want := range map[record.Outcome]int{
		record.OutcomeCompleted: 0, record.OutcomeRolledBack: 10, record.OutcomeRejected: 11, record.OutcomeAborted: 12,
		record.OutcomeNotReady: 13, record.OutcomeTimedOut: 14, record.OutcomeFailed: 15,
	} {
		id := "release:wait-" + string(o) + ":production"
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "outcome-test"}, outcomeStub, o); err != nil {
			t.Fatal(err)
		}
		err := followRelease(ctx, c, id, 50*time.Millisecond)
		code := 0
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			code = coded.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		if code != want {
			t.Errorf("%s: exit code %d, want %d (%v)", o, code, want, err)
		}
		if err != nil && !strings.Contains(err.Error(), "ended "+string(o)) {
			t.Errorf("%s: %q does not give the release's reason", o, err)
		}
		_ = c.TerminateWorkflow(ctx, id, "", "test done")
	}
}
