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
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// deploySteps are the sequential T-0 activities from the migrations to the health check.
var deploySteps = []string{"Migrate", "Notify", "Deploy", "Notify", "VerifyVersion", "Smoke", "Sample", "Health"}

// BenchmarkReleaseHistoryAndOverhead runs a whole release (compressed cadence)
// on an in-process server and, side by side on the same server, a bare chain of
// the same number of no-op activities. It reports the release history's size
// and the orchestration time per step as a ratio against the bare chain.
func BenchmarkReleaseHistoryAndOverhead(b *testing.B) {
	c := startServerTB(b)
	bw := sdkworker.New(c, "bare-chain", sdkworker.Options{})
	bw.RegisterWorkflow(bareChain)
	bw.RegisterActivity(noop)
	if err := bw.Start(); err != nil {
		b.Fatal(err)
	}
	defer bw.Stop()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	go app.RunTraffic(ctx)

	var events, bytes int
	var releaseStep, bareStep time.Duration
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
		releaseStep = stepTime(hist, deploySteps)
		if testing.Verbose() {
			for _, e := range hist {
				if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
					fmt.Print(a.GetActivityType().GetName(), " ")
				}
			}
			fmt.Println()
		}

		bare, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "bare-chain"}, bareChain, len(deploySteps))
		if err != nil || bare.Get(ctx, nil) != nil {
			b.Fatalf("bare chain: %v", err)
		}
		names := make([]string, len(deploySteps))
		for j := range names {
			names[j] = "noop"
		}
		bareStep = stepTime(historyOf(ctx, b, c, bare.GetID(), bare.GetRunID()), names)
	}
	b.ReportMetric(float64(events), "history-events")
	b.ReportMetric(float64(bytes), "history-bytes")
	b.ReportMetric(float64(releaseStep.Microseconds()), "release-µs/step")
	b.ReportMetric(float64(bareStep.Microseconds()), "bare-µs/step")
	b.ReportMetric(float64(releaseStep)/float64(bareStep), "overhead-ratio")
	fmt.Printf("release history: %d events, %d bytes; T-0 step %s vs bare no-op chain %s per step: ratio %.2f\n",
		events, bytes, releaseStep, bareStep, float64(releaseStep)/float64(bareStep))
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

// stepTime is the time from scheduling the first of a run of activities of the
// given types to completing the last, divided by their number.
func stepTime(hist []*history.HistoryEvent, types []string) time.Duration {
	scheduled := map[int64]string{}
	var first, last time.Time
	matched := 0
	for _, e := range hist {
		switch e.GetEventType() {
		case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			name := e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			scheduled[e.GetEventId()] = name
			if matched < len(types) && name == types[matched] {
				if matched == 0 {
					first = e.GetEventTime().AsTime()
				}
				matched++
			} else if matched < len(types) {
				matched = 0
				if name == types[0] {
					first, matched = e.GetEventTime().AsTime(), 1
				}
			}
		case enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if matched == len(types) && last.IsZero() && scheduled[e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()] == types[len(types)-1] {
				last = e.GetEventTime().AsTime()
			}
		}
	}
	if first.IsZero() || last.IsZero() {
		return 0
	}
	return last.Sub(first) / time.Duration(len(types))
}

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
		v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.StatusQuery)
		if err != nil {
			tb.Fatal(err)
		}
		var st record.Status
		if err := v.Get(&st); err != nil {
			tb.Fatal(err)
		}
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
