package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// TestSmokeFailureRetriedOnARealServerCompletesWithOneDeploy is the issue's
// "done when": on a real server with the real activities, the T-0 smoke test
// of a release whose spec asks on failure fails once (the demo app refuses
// its first appointment booking after the deploy); the release stops there,
// says so in its status, takes a signed `retry` as an Update, and completes. The app
// saw one deploy of the version; the history holds both smoke runs and the
// retry; the audit ledger the question and the decision; the evidence shows
// the failed attempt.
func TestSmokeFailureRetriedOnARealServerCompletesWithOneDeploy(t *testing.T) {
	c, ledger := startServerWithLedger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	app, url := flakyBookingApp(t, "1.1.0")
	s := fastSpec(t, url)
	s.Failure.Smoke.OnFailure = spec.FailAsk
	r := startSigned(ctx, t, c, s, "erin", "erin")

	asked := r.answerUntil(func(st record.Status) bool { return st.Failure != nil })
	if asked.Failure.Step != string(spec.StepSmoke) || asked.Waiting == nil || asked.Waiting.Kind != record.WaitDecision {
		t.Fatalf("failure %+v, waiting %+v", asked.Failure, asked.Waiting)
	}
	answer, err := r.update(workflows.RetryName, r.retry("erin", "erin", "smoke", "booking backend back"))
	if err != nil || !strings.Contains(answer.Message, "attempt 2") {
		t.Fatalf("retry: %v %q", err, answer.Message)
	}
	r.answer()

	var res workflows.ReleaseResult
	if err := workflows.EndedResult(r.run.Get(ctx, &res), &res); err != nil || res.Outcome != record.OutcomeCompleted {
		t.Fatalf("release: %v, outcome %s (%s)", err, res.Outcome, res.Reason)
	}
	deploys := 0
	for _, d := range app.DeployLog() {
		if d.To == "1.1.0" {
			deploys++
		}
	}
	if deploys != 1 {
		t.Errorf("the app saw %d deploys of 1.1.0, want 1", deploys)
	}

	smokes, retries := 0, 0
	for _, ev := range historyOf(ctx, t, c, r.id, r.run.GetRunID()) {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "Smoke" {
			smokes++
		}
		if u := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); u != nil && u.GetAcceptedRequest().GetInput().GetName() == workflows.RetryName {
			retries++
		}
	}
	// T-0: the failed run and the retried one; T+1h: the critical workflows.
	if smokes != 3 || retries != 1 {
		t.Errorf("history: %d smoke activities and %d retry updates, want 3 and 1", smokes, retries)
	}
	// The ledger has the question and the answer.
	var asks, decided int
	for _, row := range auditRows(t, ledger) {
		if strings.HasPrefix(row, "asked | ") && strings.Contains(row, `"step":"smoke"`) {
			asks++
		}
		if strings.HasPrefix(row, "retry | ") {
			decided++
		}
	}
	if asks != 1 || decided != 1 {
		t.Errorf("audit ledger: %d asked and %d retry rows for the smoke step, want 1 and 1", asks, decided)
	}
	b, err := os.ReadFile(res.EvidencePath)
	if err != nil {
		t.Fatal(err)
	}
	if ev := string(b); !strings.Contains(ev, "attempt 1 failed") || !strings.Contains(ev, "smoke: retry (attempt 1) by erin") {
		t.Errorf("evidence lacks the failed attempt or the decision:\n%s", ev)
	}
}

// flakyBookingApp is a demo app at 1.0.0 whose first appointment booking
// once version is live is refused (503), as a flaky dependency would refuse it.
func flakyBookingApp(t testing.TB, version string) (*demoapp.App, string) {
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var failed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/appointments" && app.Version() == version && failed.Add(1) == 1 {
			http.Error(w, "booking backend unavailable", http.StatusServiceUnavailable)
			return
		}
		app.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return app, srv.URL
}

// retryWhenAsked sends retry, as the requester, to the first failed step the release asks about.
func retryWhenAsked(ctx context.Context, t testing.TB, c client.Client, run client.WorkflowRun) {
	for ctx.Err() == nil {
		if st := queryStatusOf(ctx, t, c, run); st.Failure != nil {
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), UpdateName: workflows.RetryName,
				Args: []any{workflows.Retry{Person: st.Requester, Step: st.Failure.Step}}, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err == nil {
				err = h.Get(ctx, nil)
			}
			if err != nil {
				t.Errorf("retry: %v", err)
			}
			return
		} else if st.Stage == record.StageDone {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func queryStatusOf(ctx context.Context, t testing.TB, c client.Client, run client.WorkflowRun) record.Status {
	t.Helper()
	v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st record.Status
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestFreezeOverrideByTwoApproversIsInTheLedger runs a release whose T-0 falls
// in a freeze of its spec (as one started with --override-freeze does): it
// waits before its code freeze, one rollback approver's override leaves it
// waiting, the second's lets it deploy; the ledger has the hold and the grant.
func TestFreezeOverrideByTwoApproversIsInTheLedger(t *testing.T) {
	c, ledger := startServerWithLedger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app, url := serveDemoApp(ctx, t)
	s := fastSpec(t, url)
	now := time.Now().UTC()
	s.Freeze = []spec.Freeze{{Name: "vendor-upgrade", Reason: "EHR vendor upgrade", TimeZone: "UTC",
		Start: now.Add(-time.Minute).Format("2006-01-02T15:04"), End: now.Add(time.Hour).Format("2006-01-02T15:04")}}
	r := startSigned(ctx, t, c, s, "erin", "erin")

	frozen := func() record.Status {
		return r.answerUntil(func(st record.Status) bool {
			if !st.DeployAt.IsZero() {
				t.Fatalf("the release deployed inside the freeze at %v", st.DeployAt)
			}
			return st.Waiting != nil && st.Waiting.Kind == record.WaitFreeze
		})
	}
	override := func(person string) string {
		res, err := r.update(workflows.OverrideFreezeName, r.overrideFreeze(person, person, "vendor-upgrade", person+": security fix"))
		if err != nil {
			t.Fatalf("override by %s: %v", person, err)
		}
		return res.Message
	}
	st := frozen()
	if st.Stage != record.StageDeploy || !strings.Contains(st.Waiting.For, "before the code freeze") {
		t.Errorf("frozen at stage %s: %s", st.Stage, st.Waiting.For)
	}
	if msg := override("alice"); !strings.Contains(msg, "1 of 2") {
		t.Errorf("first override: %q", msg)
	}
	time.Sleep(time.Second)
	if st := frozen(); len(app.DeployLog()) != 0 {
		t.Errorf("deployed after one approver's override (%v)", st.Waiting)
	}
	if msg := override("bob"); !strings.Contains(msg, "overridden by alice and bob") {
		t.Errorf("second override: %q", msg)
	}
	r.answer()
	var res workflows.ReleaseResult
	if err := workflows.EndedResult(r.run.Get(ctx, &res), &res); err != nil || res.Outcome != record.OutcomeCompleted {
		t.Fatalf("release: %v, outcome %s (%s)", err, res.Outcome, res.Reason)
	}
	var held, granted int
	for _, row := range auditRows(t, ledger) {
		if strings.HasPrefix(row, "held | EHR vendor upgrade") {
			held++
		}
		if strings.HasPrefix(row, "overridden | alice: security fix; bob: security fix") {
			granted++
		}
	}
	if held != 1 || granted != 1 {
		t.Errorf("audit ledger: %d held and %d overridden rows, want 1 and 1", held, granted)
	}
}
