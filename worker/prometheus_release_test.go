package worker_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/promtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// PromQL over the demo app's metrics with the windows `golive demo` uses: a
// scrape every second, a watch check every 2 s.
var promReleaseQueries = map[string]string{
	"error_rate":    `100 * (sum(rate(http_requests_total{path=~"/api/.*",code=~"5.."}[3s])) or vector(0)) / sum(rate(http_requests_total{path=~"/api/.*"}[3s]))`,
	"latency_p95":   `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{path=~"/api/.*"}[3s])))`,
	"failed_logins": `100 * (sum(rate(login_attempts_total{result="failure"}[15s])) or vector(0)) / sum(rate(login_attempts_total[15s]))`,
}

// How each metric's rollback trigger names it.
var promReleaseWords = map[string]string{"error_rate": "error rate", "latency_p95": "p95"}

// TestBadReleaseRolledBackThroughPrometheus releases a bad version of the demo
// app on a real Temporal server, with the watch reading its metrics in PromQL
// from a real Prometheus scraping the app, and checks what a person checks:
// the release rolled back, the trigger names the metric, the status shows the
// query and a value Prometheus gives for that moment, and the old version is live.
func TestBadReleaseRolledBackThroughPrometheus(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// As in `golive demo`: the bad version degrades over its first 6 s live.
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, RampUp: 6 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	addr, err := app.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	prom := promtest.Start(t, promtest.Options{Targets: []string{addr}})
	// The baseline is read just before the deploy: wait until every query
	// answers (rate() needs two scrapes), so it is never "no data".
	for name, q := range promReleaseQueries {
		v := prom.WaitFor(q, func(float64) bool { return true }, 30*time.Second)
		t.Logf("healthy %s = %.3g", name, v)
	}

	s := fastSpec(t, "http://"+addr)
	s.Metrics.Provider, s.Metrics.URL, s.Metrics.Queries = "prometheus", prom.URL, promReleaseQueries
	// The demo's cadence: a check every 2 s; T+1h after the watch has had its chances.
	s.Watch.T1H = spec.Duration(10 * time.Second)
	s.Watch.Phases = []spec.Phase{{Name: "critical", Until: spec.Duration(16 * time.Second), Every: spec.Duration(2 * time.Second)}}
	s.Review.After = s.Watch.Phases[0].Until
	// Smoke tests probe endpoints the bad version leaves alone, so only the
	// watch can catch it: the demo's critical flows fail now and then right
	// after the deploy, which would roll back for another reason.
	s.Smoke.Flows = []spec.Flow{
		{ID: "version", Title: "Version endpoint", Method: "GET", Path: "/version", ExpectStatus: 200},
		{ID: "auth", Title: "API authentication", Method: "GET", Path: "/api/me", ExpectStatus: 401},
	}

	start := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment), TaskQueue: workflows.TaskQueue},
		workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.2.0-bad", Requester: "erin"})
	if err != nil {
		t.Fatal(err)
	}
	respond(ctx, t, c, run, s.Members)
	var res workflows.ReleaseResult
	if err := workflows.EndedResult(run.Get(ctx, &res), &res); err != nil {
		t.Fatal(err)
	}
	st, err := queryStatus(ctx, c, run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("release ended after %s: %s (%s)", time.Since(start).Round(100*time.Millisecond), res.Outcome, res.Reason)

	if res.Outcome != record.OutcomeRolledBack || st.Rollback == nil {
		t.Fatalf("outcome %s (%s), rollback %+v: want rolled back by the watch", res.Outcome, res.Reason, st.Rollback)
	}
	if v := app.Version(); v != "1.0.0" || st.LiveVersion != "1.0.0" {
		t.Errorf("app at %s, status says %s live: want 1.0.0 back", v, st.LiveVersion)
	}
	for _, b := range st.Baseline {
		if b.Verdict == record.VerdictUnavailable {
			t.Errorf("baseline %s unavailable: %s", b.Metric, b.Detail)
		}
	}

	// The check that triggered the rollback, as `golive status` shows it.
	var decisive *record.CheckReport
	for i, ck := range st.Checks {
		if ck.Window == workflows.WindowWatch && ck.Worst == record.VerdictRollback {
			decisive = &st.Checks[i]
			break
		}
	}
	if decisive == nil {
		t.Fatalf("no watch check triggered the rollback (trigger %q); checks %+v", st.Rollback.Trigger, st.Checks)
	}
	named := false
	for _, r := range decisive.Readings {
		if r.Verdict == record.VerdictUnavailable {
			t.Errorf("%s at +%s unavailable: %s", r.Metric, decisive.Offset, r.Detail)
			continue
		}
		if r.Query != promReleaseQueries[r.Metric] {
			t.Errorf("%s reading shows query %q, want the PromQL %q", r.Metric, r.Query, promReleaseQueries[r.Metric])
		}
		// The watch reads Prometheus at the check's scheduled time: asked
		// again for that moment, Prometheus gives the recorded value.
		if want := prom.Query(r.Query, r.At); math.Abs(r.Value-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s at %s: recorded %v, Prometheus says %v", r.Metric, r.At.Format(time.RFC3339Nano), r.Value, want)
		}
		if r.Verdict == record.VerdictRollback {
			word := promReleaseWords[r.Metric]
			if word == "" || !strings.Contains(r.Detail, word) || !strings.Contains(st.Rollback.Trigger, r.Detail) {
				t.Errorf("rollback trigger %q does not name %s (reading: %s)", st.Rollback.Trigger, r.Metric, r.Detail)
			}
			named = true
			t.Logf("check %d at +%s: %s = %.3g%s from Prometheus → rollback (%s)", decisive.Index, decisive.Offset, r.Metric, r.Value, r.Unit, r.Detail)
		}
	}
	if !named {
		t.Errorf("check %d at +%s is a rollback, but none of its readings is a trigger: %+v", decisive.Index, decisive.Offset, decisive.Readings)
	}
	if !strings.Contains(res.Reason, "rollback trigger") {
		t.Errorf("reason %q: want the watch's rollback trigger", res.Reason)
	}
}

// TestPrometheusStoppedMidWatchEscalates stops the real Prometheus in the
// middle of a good release's watch: the checks after it are unavailable,
// never a pass; the fifth measurement error in a row (the default
// consecutive_error_limit of 4) raises an alert; the watch item is not passed.
func TestPrometheusStoppedMidWatchEscalates(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	addr, err := app.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	prom := promtest.Start(t, promtest.Options{Targets: []string{addr}})
	for _, q := range promReleaseQueries {
		prom.WaitFor(q, func(float64) bool { return true }, 30*time.Second)
	}
	s := fastSpec(t, "http://"+addr)
	s.Metrics.Provider, s.Metrics.URL, s.Metrics.Queries = "prometheus", prom.URL, promReleaseQueries
	s.Watch.T1H = spec.Duration(2 * time.Second)
	s.Watch.Phases = []spec.Phase{{Name: "critical", Until: spec.Duration(12 * time.Second), Every: spec.Duration(time.Second)}}
	s.Review.After = s.Watch.Phases[0].Until

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment), TaskQueue: workflows.TaskQueue},
		workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"})
	if err != nil {
		t.Fatal(err)
	}
	// Stop Prometheus once three watch checks have read it.
	stopped := make(chan int, 1)
	go func() {
		for ctx.Err() == nil {
			if st, err := queryStatus(ctx, c, run.GetID()); err == nil {
				if n := len(watchReports(st)); n >= 3 {
					prom.Stop()
					stopped <- n
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	respond(ctx, t, c, run, s.Members)
	var res workflows.ReleaseResult
	if err := workflows.EndedResult(run.Get(ctx, &res), &res); err != nil {
		t.Fatal(err)
	}
	st, err := queryStatus(ctx, c, run.GetID())
	if err != nil {
		t.Fatal(err)
	}
	var before int
	select {
	case before = <-stopped:
	default:
		t.Fatal("the watch never reported three checks: Prometheus was not stopped mid-watch")
	}
	if res.Outcome == record.OutcomeRolledBack {
		t.Fatalf("rolled back (%s): an unreadable provider escalates, it does not roll back a healthy release", res.Reason)
	}
	checks := watchReports(st)
	if len(checks) != 12 {
		t.Fatalf("%d watch checks, want all 12", len(checks))
	}
	down := 0
	for _, ck := range checks[before:] {
		if ck.Worst == record.VerdictOK {
			t.Errorf("check %d at +%s passed while Prometheus was stopped: %+v", ck.Index, ck.Offset, ck.Readings)
		}
		if ck.Worst == record.VerdictUnavailable {
			down++
		}
	}
	if down < 5 {
		t.Fatalf("%d unavailable checks after the stop, want at least 5", down)
	}
	escalated := false
	for _, a := range st.Alerts {
		escalated = escalated || strings.Contains(a.Reason, "could not be measured 5 times in a row")
	}
	if !escalated {
		t.Errorf("no alert for the measurement errors: %+v", st.Alerts)
	}
	for _, it := range st.Items {
		if it.ID == "watch.24h" && it.State == record.ItemPassed {
			t.Errorf("the watch item passed although Prometheus was down: %+v", it)
		}
	}
	t.Logf("Prometheus stopped after %d checks; %d of the remaining %d unavailable; outcome %s", before, down, len(checks)-before, res.Outcome)
}

// watchReports are the watch window's check reports, in order.
func watchReports(st record.Status) []record.CheckReport {
	var out []record.CheckReport
	for _, ck := range st.Checks {
		if ck.Window == workflows.WindowWatch {
			out = append(out, ck)
		}
	}
	return out
}
