package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// BenchmarkReleaseHistory runs a whole release (compressed cadence) with the
// real activities (the demo app over HTTP, migrations on the local
// PostgreSQL) on an in-process server and reports its history's size, and
// the T-0 segment per step, activity work included. What golive's
// orchestration costs beside a bare chain is BenchmarkOrchestrationOverhead's.
func BenchmarkReleaseHistory(b *testing.B) {
	c := startServerTB(b)
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	go app.RunTraffic(ctx)

	var events, bytes int
	var step time.Duration
	for i := 0; i < b.N; i++ {
		s := fastSpec(b, srv.URL)
		s.Service = fmt.Sprintf("bench-%d", i)
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment), TaskQueue: workflows.TaskQueue},
			workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: fmt.Sprintf("1.1.%d", i), Requester: "erin"})
		if err != nil {
			b.Fatal(err)
		}
		respond(ctx, b, c, run, s.Members)
		hist := historyOf(ctx, b, c, run.GetID(), run.GetRunID())
		events, bytes = len(hist), 0
		for _, e := range hist {
			bytes += proto.Size(e)
		}
		step = segmentStep(hist, t0Steps())
		if testing.Verbose() {
			for _, e := range hist {
				if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
					fmt.Print(a.GetActivityType().GetName(), " ")
				}
			}
			fmt.Println()
		}
	}
	b.ReportMetric(float64(events), "history-events")
	b.ReportMetric(float64(bytes), "history-bytes")
	b.ReportMetric(float64(step.Microseconds()), "t0-µs/step")
	fmt.Printf("release history: %d events, %d bytes; T-0 step with the real activities %s\n", events, bytes, step.Round(10*time.Microsecond))
}

// bareChain runs n no-op activities one after the other.
func bareChain(ctx workflow.Context, n int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for i := 0; i < n; i++ {
		if err := workflow.ExecuteActivity(ctx, noop).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noop(context.Context) error { return nil }

func historyOf(ctx context.Context, tb testing.TB, c client.Client, id, runID string) []*history.HistoryEvent {
	var out []*history.HistoryEvent
	it := c.GetWorkflowHistory(ctx, id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// respond answers every waiting attestation and sign-off by Update until the release ends.
func respond(ctx context.Context, tb testing.TB, c client.Client, run client.WorkflowRun, members func(string) []spec.Person, noSignoffs ...bool) {
	tb.Helper()
	for ctx.Err() == nil {
		st := queryStatusOf(ctx, tb, c, run)
		if st.Stage == record.StageDone {
			return
		}
		send := func(name string, arg any) {
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err == nil {
				_ = h.Get(ctx, nil)
			}
		}
		for _, it := range st.Items {
			if it.State == record.ItemWaiting {
				for _, p := range members(it.Role) {
					if p.ID != st.Requester {
						send(workflows.AttestName, workflows.Attest{Person: p.ID, Items: []string{it.ID}})
						break
					}
				}
			}
		}
		for _, sl := range st.Slots {
			if sl.State == record.ItemWaiting && len(noSignoffs) == 0 {
				for _, p := range members(sl.Role) {
					send(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: p.ID, Decision: workflows.Approve})
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}
