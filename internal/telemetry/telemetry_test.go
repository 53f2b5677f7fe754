package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/telemetry"
)

// recorder is a client.MetricsHandler that remembers counter increments as "name{k=v,...}".
type recorder struct {
	mu     *sync.Mutex
	tags   map[string]string
	counts map[string]int64
}

func newRecorder() *recorder {
	return &recorder{mu: &sync.Mutex{}, tags: map[string]string{}, counts: map[string]int64{}}
}

func (r *recorder) WithTags(t map[string]string) client.MetricsHandler {
	n := &recorder{mu: r.mu, tags: map[string]string{}, counts: r.counts}
	for k, v := range r.tags {
		n.tags[k] = v
	}
	for k, v := range t {
		n.tags[k] = v
	}
	return n
}

func (r *recorder) key(name string) string {
	keys := make([]string, 0, len(r.tags))
	for k := range r.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+r.tags[k])
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

func (r *recorder) Counter(name string) client.MetricsCounter {
	return counterFunc(func(d int64) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.counts[r.key(name)] += d
	})
}
func (r *recorder) Gauge(string) client.MetricsGauge { return client.MetricsNopHandler.Gauge("") }
func (r *recorder) Timer(string) client.MetricsTimer { return client.MetricsNopHandler.Timer("") }

func (r *recorder) get(k string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[k]
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

func TestCountersCarryTheirTags(t *testing.T) {
	r := newRecorder()
	telemetry.StageEntered(r, "deploy")
	telemetry.StageEntered(r, "deploy")
	telemetry.ReleaseFinished(r, "rolled_back")
	telemetry.Rollback(r, telemetry.ReasonTrigger)
	telemetry.CheckVerdict(r, "error_rate", "critical")
	telemetry.NotificationFailed(r, "rollback_declared", "sms")
	telemetry.NotificationFailed(r, "rollback_declared", "")
	telemetry.StageEntered(nil, "plan") // no handler: nothing happens, no panic

	want := map[string]int64{
		"golive_release_stage_entered{stage=deploy}":                            2,
		"golive_release_finished{outcome=rolled_back}":                          1,
		"golive_rollbacks{reason=trigger}":                                      1,
		"golive_check_verdicts{metric=error_rate,verdict=critical}":             1,
		"golive_notification_failures{channel=sms,event=rollback_declared}":     1,
		"golive_notification_failures{channel=unknown,event=rollback_declared}": 1,
	}
	for k, n := range want {
		if got := r.get(k); got != n {
			t.Errorf("%s = %d, want %d (all: %v)", k, got, n, r.counts)
		}
	}
}

func TestRollbackReason(t *testing.T) {
	for _, tc := range []struct {
		aborted, requested bool
		by, trigger, want  string
	}{
		{true, false, "erin", "aborted by erin", telemetry.ReasonAborted},
		{false, true, "erin", "rollback requested by erin: security", telemetry.ReasonRequested},
		{false, false, "temporal", "release cancelled from Temporal", telemetry.ReasonCancelled},
		{false, false, "golive", "rollback trigger: error rate 6.00% > 5%", telemetry.ReasonTrigger},
		{false, false, "golive", "rollback trigger right after deploy: p95 3000ms > 2s", telemetry.ReasonTrigger},
		{false, false, "golive", "smoke tests failed: login HTTP 500", telemetry.ReasonFailure},
	} {
		if got := telemetry.RollbackReason(tc.aborted, tc.requested, tc.by, tc.trigger); got != tc.want {
			t.Errorf("RollbackReason(%v, %v, %q, %q) = %q, want %q", tc.aborted, tc.requested, tc.by, tc.trigger, got, tc.want)
		}
	}
}

func TestActivityHandlerOutsideAnActivityIsANoop(t *testing.T) {
	telemetry.CheckVerdict(telemetry.ActivityHandler(context.Background()), "error_rate", "ok")
}

// lines decodes JSON log output.
func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestLogHandlerAddsReleaseOnce(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(&b, nil)))

	// The SDK's loggers add WorkflowID with With: release follows it.
	sdk := sdklog.NewStructuredLogger(log.With("component", "temporal"))
	sdklog.With(sdk, "WorkflowID", "release:shop:prod", "RunID", "r1").Info("stage", "stage", "deploy")
	// A line that already names its release keeps it, once.
	sdklog.With(sdk, "WorkflowID", "release:shop:prod:watch").Warn("report to release failed", "release", "release:shop:prod")
	log.With("release", "release:a:b").Info("explicit on the logger")
	// WorkflowID on the record itself.
	log.Info("task", "WorkflowID", "release:c:d")
	// A context from WithRelease.
	log.InfoContext(telemetry.WithRelease(context.Background(), "release:e:f"), "from a command")
	// An empty release is replaced by the one the line belongs to.
	sdklog.With(sdk, "WorkflowID", "release:g:h").Info("command", "release", "", "version", "1.2.0")
	// Nothing to go on: unchanged.
	log.Info("worker polling", "task_queue", "golive")

	got := lines(t, &b)
	want := []string{"release:shop:prod", "release:shop:prod", "release:a:b", "release:c:d", "release:e:f", "release:g:h", ""}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), b.String())
	}
	for i, w := range want {
		rel, _ := got[i]["release"].(string)
		if rel != w {
			t.Errorf("line %d (%v): release=%q, want %q", i, got[i]["msg"], rel, w)
		}
	}
	if n := strings.Count(b.String(), `"release"`); n != 6 {
		t.Errorf("release appears %d times, want 6 (once per release line):\n%s", n, b.String())
	}
}

func TestLogHandlerTextFormat(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(slog.NewTextHandler(&b, nil)))
	log.With("WorkflowID", "release:shop:prod").Info("stage")
	if !strings.Contains(b.String(), "release=release:shop:prod") {
		t.Fatalf("no release= in %q", b.String())
	}
}

// An activity that logs through golive's own slog logger with its context, and
// through the SDK's activity logger, gets release=<workflow ID> on both lines.
func TestLogHandlerInAnActivity(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(telemetry.NewLogHandler(slog.NewJSONHandler(&b, nil)))
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(log))
	env := s.NewTestActivityEnvironment()
	probe := func(ctx context.Context) (string, error) {
		log.InfoContext(ctx, "own logger with context")
		telemetry.Logger(ctx, log).Info("own logger without context")
		return telemetry.ReleaseFrom(ctx), nil
	}
	env.RegisterActivity(probe)
	v, err := env.ExecuteActivity(probe)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := v.Get(&id); err != nil || id == "" {
		t.Fatalf("release from an activity context: %q %v", id, err)
	}
	seen := 0
	for _, l := range lines(t, &b) {
		if strings.HasPrefix(l["msg"].(string), "own logger") {
			seen++
			if l["release"] != id {
				t.Errorf("%v: release=%v, want %s", l["msg"], l["release"], id)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("saw %d activity lines:\n%s", seen, b.String())
	}
}

// A workflow's counters go through workflow.GetMetricsHandler and carry its tags.
func TestStageEnteredFromAWorkflow(t *testing.T) {
	r := newRecorder()
	var s testsuite.WorkflowTestSuite
	s.SetMetricsHandler(r)
	env := s.NewTestWorkflowEnvironment()
	wf := func(ctx workflow.Context) error {
		telemetry.StageEntered(workflow.GetMetricsHandler(ctx), "plan")
		return workflow.Sleep(ctx, time.Second)
	}
	env.RegisterWorkflow(wf)
	env.ExecuteWorkflow(wf)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	found := false
	r.mu.Lock()
	for k, n := range r.counts {
		if strings.HasPrefix(k, telemetry.MetricStageEntered+"{") && strings.Contains(k, "stage=plan") && n == 1 {
			found = true
		}
	}
	all := r.counts
	r.mu.Unlock()
	if !found {
		t.Fatalf("no stage counter: %v", all)
	}
}
