package codec_test

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
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/proto"

	"github.com/golive/golive/internal/codec"
)

func leakyActivity(_ context.Context, in string) (string, error) {
	return "", temporal.NewNonRetryableApplicationError("connect failed for "+in, "DBError", nil, in)
}

func canaryWorkflow(ctx workflow.Context, in string) (string, error) {
	if err := workflow.UpsertMemo(ctx, map[string]any{"note": in}); err != nil {
		return "", err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, leakyActivity, in).Get(ctx, &out)
	return "", temporal.NewApplicationErrorWithCause("release failed: "+in, "Failed", err)
}

// TestHistoryIsCiphertext runs a workflow through a real (in-process) Temporal
// server with the codec's data and failure converters, plants a canary in its
// input, memo, an activity error and the workflow failure, and reads the raw
// history without the codec: the canary appears nowhere. With the codec the
// failure reads as written.
func TestHistoryIsCiphertext(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	discard := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	dc := codec.NewDataConverter(newCodec(t, key(t, "k1")))
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc), Logger: discard,
	}))
	ts.NewWorker("codec-test", func(r worker.Registry) {
		r.RegisterWorkflow(canaryWorkflow)
		r.RegisterActivity(leakyActivity)
	})
	c := ts.GetDefaultClient()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "canary", TaskQueue: "codec-test"}, canaryWorkflow, canary)
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !strings.Contains(app.Message(), canary) {
		t.Fatalf("with the codec the failure should read as written: %v", err)
	}
	var act *temporal.ApplicationError
	if !errors.As(errors.Unwrap(app), &act) || !strings.Contains(act.Message(), canary) {
		t.Fatalf("activity failure through the codec: %v", errors.Unwrap(app))
	}

	plain := ts.NewClientWithOptions(client.Options{Logger: discard})
	it := plain.GetWorkflowHistory(ctx, "canary", run.GetRunID(), false, 0)
	events := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		// Binary protobuf: payload bytes appear as they are stored, not base64.
		raw, _ := proto.Marshal(ev)
		for _, s := range []string{"hunter2", "Jane Roe", "connect failed", "release failed"} {
			if strings.Contains(string(raw), s) {
				t.Fatalf("event %d (%s) holds %q in the clear", ev.GetEventId(), ev.GetEventType(), s)
			}
		}
	}
	if events < 8 {
		t.Fatalf("only %d events", events)
	}
	desc, err := plain.DescribeWorkflowExecution(ctx, "canary", run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := proto.Marshal(desc); strings.Contains(string(raw), "hunter2") {
		t.Fatalf("describe (memo) holds the canary")
	}
}
