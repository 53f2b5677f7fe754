package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/grpc"

	"github.com/golive/golive/internal/telemetry"
	"github.com/golive/golive/worker"
)

const telemetryQueue = "golive-telemetry-test"

// syncBuffer is a log sink written by the worker's goroutines and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// probe is a tiny activity standing in for golive's: it logs through the
// worker's slog logger and the SDK's activity logger, and counts a check verdict.
type probe struct{ log *slog.Logger }

func (p *probe) TelemetryProbe(ctx context.Context, metric string) (string, error) {
	p.log.InfoContext(ctx, "probe: own logger", "metric", metric)
	activity.GetLogger(ctx).Info("probe: sdk logger", "metric", metric)
	telemetry.CheckVerdict(telemetry.ActivityHandler(ctx), metric, "ok")
	return "ok", nil
}

// telemetryWorkflow enters a stage, logs and runs the probe: the shape of a
// release, in three events.
func telemetryWorkflow(ctx workflow.Context) (string, error) {
	telemetry.StageEntered(workflow.GetMetricsHandler(ctx), "plan")
	workflow.GetLogger(ctx).Info("stage", "stage", "plan")
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var p *probe
	var out string
	err := workflow.ExecuteActivity(ctx, p.TelemetryProbe, "error_rate").Get(ctx, &out)
	return out, err
}

// startTelemetryWorker runs an in-process Temporal server and a golive worker
// whose client carries tel's metrics handler and interceptors, logging to log.
func startTelemetryWorker(t *testing.T, tel *worker.Telemetry, log *slog.Logger) client.Client {
	t.Helper()
	opts := client.Options{Logger: sdklog.NewStructuredLogger(log.With("component", "temporal"))}
	tel.Apply(&opts)
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(opts))
	c := ts.GetDefaultClient()
	w := worker.New(c, worker.Options{Logger: log, TaskQueue: telemetryQueue, Directory: worker.DemoDirectory("..")})
	w.RegisterWorkflow(telemetryWorkflow)
	w.RegisterActivity(&probe{log: log})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return c
}

func runTelemetryWorkflow(t *testing.T, c client.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: telemetryQueue}, telemetryWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil || out != "ok" {
		t.Fatalf("workflow: %q %v", out, err)
	}
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// series returns the exposition lines of metric name.
func series(text, name string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name+"{") || strings.HasPrefix(l, name+" ") {
			out = append(out, l)
		}
	}
	return out
}

func TestWorkerServesPrometheusMetricsAndTagsLogsWithTheRelease(t *testing.T) {
	var logs syncBuffer
	log := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx := context.Background()
	tel, err := worker.StartTelemetry(ctx, worker.TelemetryOptions{MetricsListen: "127.0.0.1:0", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Close(context.Background()) })
	if tel.MetricsAddr() == "" || len(tel.Interceptors) != 0 {
		t.Fatalf("metrics at %q, %d interceptors (tracing is off)", tel.MetricsAddr(), len(tel.Interceptors))
	}
	c := startTelemetryWorker(t, tel, log)
	const id = "release:telemetry:test"
	runTelemetryWorkflow(t, c, id)

	// The SDK records a workflow's completion as its task completes: poll briefly.
	want := map[string][]string{
		"temporal_workflow_completed_total":                      {`workflow_type="telemetryWorkflow"`},
		"temporal_activity_execution_latency_seconds_bucket":     {`activity_type="TelemetryProbe"`},
		"temporal_workflow_task_execution_latency_seconds_count": nil,
		"golive_release_stage_entered_total":                     {`stage="plan"`, `workflow_type="telemetryWorkflow"`},
		"golive_check_verdicts_total":                            {`metric="error_rate"`, `verdict="ok"`, `activity_type="TelemetryProbe"`},
	}
	var text string
	missing := func() []string {
		var m []string
	next:
		for name, labels := range want {
			for _, l := range series(text, name) {
				ok := true
				for _, lb := range labels {
					ok = ok && strings.Contains(l, lb)
				}
				if ok {
					continue next
				}
			}
			m = append(m, name)
		}
		return m
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		text = scrape(t, tel.MetricsAddr())
		if len(missing()) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if m := missing(); len(m) > 0 {
		t.Fatalf("missing from /metrics: %v\n%s", m, text)
	}
	for _, l := range series(text, "golive_release_stage_entered_total") {
		if !strings.HasSuffix(l, " 1") {
			t.Errorf("stage counted more than once: %s", l)
		}
	}

	// Every line about the workflow or its activity carries release=<workflow ID>, once.
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad log line %q: %v", l, err)
		}
		msg, _ := m["msg"].(string)
		if m["WorkflowID"] == id || strings.HasPrefix(msg, "probe:") || msg == "stage" {
			seen[msg] = true
			if m["release"] != id {
				t.Errorf("line without release=%s: %s", id, l)
			}
			if strings.Count(l, `"release"`) != 1 {
				t.Errorf("release repeated: %s", l)
			}
		}
	}
	for _, msg := range []string{"probe: own logger", "probe: sdk logger", "stage"} {
		if !seen[msg] {
			t.Errorf("no %q line in the log:\n%s", msg, logs.String())
		}
	}
}

// collector is an OTLP/gRPC trace receiver: the wire protocol a real
// OpenTelemetry Collector speaks on :4317.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []string
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, s.GetName())
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (c *collector) names() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.spans, "\n")
}

func TestWorkerExportsTracesOverOTLP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, col)
	go func() { _ = gs.Serve(l) }()
	t.Cleanup(gs.Stop)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tel, err := worker.StartTelemetry(context.Background(), worker.TelemetryOptions{OTelEndpoint: l.Addr().String(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if tel.MetricsAddr() != "" || len(tel.Interceptors) != 1 {
		t.Fatalf("metrics at %q (off), %d interceptors", tel.MetricsAddr(), len(tel.Interceptors))
	}
	c := startTelemetryWorker(t, tel, log)
	runTelemetryWorkflow(t, c, "release:tracing:test")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tel.Close(ctx); err != nil { // flushes the batch
		t.Fatal(err)
	}
	got := col.names()
	for _, want := range []string{"StartWorkflow:telemetryWorkflow", "RunWorkflow:telemetryWorkflow", "StartActivity:TelemetryProbe", "RunActivity:TelemetryProbe"} {
		if !strings.Contains(got, want) {
			t.Errorf("no span %s; got:\n%s", want, got)
		}
	}
}
