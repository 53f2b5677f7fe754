package worker_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/devserver"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// TestServerRestartMidWatch stops the embedded server (and its worker) in the
// middle of the 24-hour watch and starts it again on the same SQLite file, on
// new ports, with a new worker. The release resumes where it was: every check
// is reported once, at its own offset, none early, and once the restart is
// behind it the watch is back on its cadence (from the fixed deploy time), not
// shifted by the outage.
func TestServerRestartMidWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded server twice")
	}
	const (
		every = time.Second
		watch = 30 * time.Second
		// onTime bounds how late a check may fire once the restart is behind
		// it. The server itself fires a timer up to about 1 s late, restart or
		// not (history.timerProcessorMaxTimeShift, 1 s by default); the rest
		// is the workflow task that records the check.
		onTime = 1500 * time.Millisecond
		// recovery is how long after the restart a check may still wait: a
		// workflow task the stopped worker had in flight (the release's or a
		// check child's) is handed out again only when its start-to-close
		// timeout (the SDK's default, 10 s) expires, and the dead worker's
		// sticky queue costs worker.StickyTimeout first. Whether a task was in
		// flight at the stop is down to timing; after recovery every check is
		// on time again, whichever it was.
		recovery = 10*time.Second + 2*worker.StickyTimeout
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dataDir := t.TempDir()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))

	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 20, Logger: discard})
	appSrv := httptest.NewServer(app.Handler())
	defer appSrv.Close()
	go app.RunTraffic(ctx)
	s := fastSpec(t, appSrv.URL)
	s.Service = "restart"
	s.Watch.Phases = []spec.Phase{{Name: "watch", Until: spec.Duration(watch), Every: spec.Duration(every)}}
	s.Review.After = spec.Duration(watch)
	plan := s.Watch.Offsets()

	srv, c, w := startDevStack(ctx, t, dataDir, discard)
	id := workflows.ReleaseID(s.Service, s.Environment)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true},
		workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"})
	if err != nil {
		t.Fatal(err)
	}
	stop := answer(ctx, c, id, s.Members, time.Duration(0))

	// Restart once a third of the watch has been reported.
	var st record.Status
	for {
		if st, err = queryStatus(ctx, c, id); err == nil && !st.DeployAt.IsZero() && len(st.Checks) >= len(plan)/3 {
			break
		}
		if err == nil && st.Stage == record.StageDone {
			t.Fatalf("the release ended before the watch: %s: %s", st.Outcome, st.Reason)
		}
		if ctx.Err() != nil {
			t.Fatalf("the watch did not start: %+v %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	down := time.Now()
	stop()
	w.Stop()
	c.Close()
	srv.Stop()
	t.Logf("server stopped at +%s of the watch after %d/%d checks", down.Sub(st.DeployAt).Round(time.Millisecond), len(st.Checks), len(plan))

	srv2, c2, _ := startDevStack(ctx, t, dataDir, discard)
	up := time.Now()
	t.Logf("server back on %s (was %s) after %s", srv2.FrontendAddress(), srv.FrontendAddress(), up.Sub(down).Round(time.Millisecond))
	defer answer(ctx, c2, id, s.Members, 0)()

	var res workflows.ReleaseResult
	if err := workflows.EndedResult(c2.GetWorkflow(ctx, id, run.GetRunID()).Get(ctx, &res), &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != record.OutcomeCompleted {
		t.Fatalf("outcome %s: %s", res.Outcome, res.Reason)
	}
	if st, err = queryStatus(ctx, c2, id); err != nil {
		t.Fatal(err)
	}

	var reports []record.CheckReport
	for _, r := range st.Checks {
		if r.Window == workflows.WindowWatch {
			reports = append(reports, r)
		}
	}
	if len(reports) != len(plan) {
		t.Fatalf("%d watch checks reported, want %d", len(reports), len(plan))
	}
	var before, during, recovering, after int
	var worstBefore, worstAfter time.Duration
	recovered := up.Add(recovery)
	for i, r := range reports {
		due := st.DeployAt.Add(plan[i].Offset)
		late := r.At.Sub(due)
		if testing.Verbose() {
			t.Logf("check %2d at +%-4s fired %s after its due time", r.Index, r.Offset, late.Round(time.Millisecond))
		}
		switch {
		case r.Index != i+1 || r.Offset != plan[i].Offset:
			t.Errorf("check %d: index %d at offset %s, want offset %s exactly", i+1, r.Index, r.Offset, plan[i].Offset)
		case late < 0:
			t.Errorf("check %d at +%s fired %s early", r.Index, r.Offset, -late)
		case due.Before(down):
			before++
			worstBefore = max(worstBefore, late)
		case due.Before(up):
			during++ // due while the server was down: fires as soon as it is back
			t.Logf("check %d at +%s was due during the outage: fired %s late", r.Index, r.Offset, late.Round(time.Millisecond))
		case due.Before(recovered):
			recovering++ // due while a task lost with the worker may still be pending
			if r.At.After(recovered.Add(onTime)) {
				t.Errorf("check %d at +%s fired %s after the restart, want within %s of it", r.Index, r.Offset, r.At.Sub(up).Round(time.Millisecond), recovery+onTime)
			}
		default:
			after++
			worstAfter = max(worstAfter, late)
			if late > onTime {
				t.Errorf("check %d at +%s fired %s late, want within %s of the deploy time + offset", r.Index, r.Offset, late.Round(time.Millisecond), onTime)
			}
		}
	}
	if after == 0 {
		t.Fatal("no check was due after the recovery: lengthen the watch")
	}
	t.Logf("%d checks before the stop (latest %s after its due time), %d due during the outage, %d during the recovery, %d after it (latest %s after its due time)",
		before, worstBefore.Round(time.Millisecond), during, recovering, after, worstAfter.Round(time.Millisecond))
}

// startDevStack starts the embedded server on dataDir (free ports), a client
// and a golive worker on it.
func startDevStack(ctx context.Context, t testing.TB, dataDir string, log *slog.Logger) (*devserver.Server, client.Client, sdkworker.Worker) {
	t.Helper()
	srv, err := devserver.Start(ctx, devserver.Options{
		Address: "127.0.0.1:0", NoUI: true, DataDir: dataDir,
		SearchAttributes: workflows.SearchAttributeNames(), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: srv.Namespace(), Logger: sdklog.NewStructuredLogger(log)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w := worker.New(c, worker.Options{Logger: log, Directory: worker.DemoDirectory("..")})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return srv, c, w
}

// queryStatus asks a release for its status (a worker must be running).
func queryStatus(ctx context.Context, c client.Client, id string) (record.Status, error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var st record.Status
	v, err := c.QueryWorkflow(qctx, id, "", workflows.StatusQuery)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// answer answers every waiting attestation and sign-off of release id by
// Update, polling its status every period (at least 100 ms, first poll at a
// random point of the period), until the release is done or stop is called.
// Unlike respond it tolerates failures (no worker, server restarting).
func answer(ctx context.Context, c client.Client, id string, members func(string) []spec.Person, period time.Duration) (stop func()) {
	return answerInputs(ctx, c, id, members, period, true)
}

// answerInputs is answer that leaves the sign-offs waiting unless signoffs
// is set (the upgrade test holds releases in their approvals).
func answerInputs(ctx context.Context, c client.Client, id string, members func(string) []spec.Person, period time.Duration, signoffs bool) (stop func()) {
	period = max(period, 100*time.Millisecond)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		wait := time.Duration(rand.Int64N(int64(period)))
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = period
			if answerOnce(ctx, c, id, members, signoffs) {
				return
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// answerOnce reads release id's status and answers what waits for people now:
// one attestation per person covering all of that person's waiting items, and,
// when signoffs is set, every waiting sign-off slot by each member of its role.
// It reports whether the release is done; a failed query is not.
func answerOnce(ctx context.Context, c client.Client, id string, members func(string) []spec.Person, signoffs bool) (done bool) {
	st, err := queryStatus(ctx, c, id)
	if err != nil {
		return false
	}
	if st.Stage == record.StageDone {
		return true
	}
	send := func(name string, arg any) {
		uctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		h, err := c.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			_ = h.Get(uctx, nil)
		}
	}
	byPerson := map[string][]string{}
	var people []string
	for _, it := range st.Items {
		if it.State != record.ItemWaiting {
			continue
		}
		for _, p := range members(it.Role) {
			if p.ID != st.Requester {
				if byPerson[p.ID] == nil {
					people = append(people, p.ID)
				}
				byPerson[p.ID] = append(byPerson[p.ID], it.ID)
				break
			}
		}
	}
	for _, p := range people {
		send(workflows.AttestName, workflows.Attest{Person: p, Items: byPerson[p]})
	}
	for _, sl := range st.Slots {
		if signoffs && sl.State == record.ItemWaiting {
			for _, p := range members(sl.Role) {
				send(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: p.ID, Decision: workflows.Approve})
			}
		}
	}
	return false
}
