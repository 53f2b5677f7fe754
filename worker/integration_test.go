package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// startServer runs a real Temporal server in-process with golive's search
// attributes registered and a golive worker polling it.
func startServer(t *testing.T) client.Client { return startServerTB(t) }

func startServerTB(t testing.TB, serverOpts ...temporal.ServerOption) client.Client {
	t.Helper()
	return startServerWithDirectory(t, worker.DemoDirectory(".."), serverOpts...)
}

// startServerWithDirectory is an in-process server with a worker reading dir.
func startServerWithDirectory(t testing.TB, dir *activities.Directory, serverOpts ...temporal.ServerOption) client.Client {
	t.Helper()
	// Clients and workers use the production converters: payloads are encrypted
	// when GOLIVE_CODEC_KEYS is set (the replay corpus is recorded that way).
	opts := client.Options{Logger: sdklog.NewStructuredLogger(testLogger())}
	cod, err := worker.Encryption(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	worker.ApplyConverters(&opts, cod)
	ts := temporaltest.NewServer(temporaltest.WithBaseClientOptions(opts), temporaltest.WithBaseServerOptions(serverOpts...))
	t.Cleanup(ts.Stop)
	c := ts.GetDefaultClient()
	attrs := map[string]enums.IndexedValueType{}
	for _, name := range workflows.SearchAttributeNames() {
		attrs[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ts.GetDefaultNamespace(), SearchAttributes: attrs,
	}); err != nil {
		t.Fatalf("register search attributes: %v", err)
	}
	w := worker.New(c, worker.Options{Logger: testLogger(), Directory: dir})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return c
}

// testLogger discards the worker's logs, unless GOLIVE_TEST_LOG is set (then
// they go to stderr): the way to see why a release on the test server stalls.
func testLogger() *slog.Logger {
	if os.Getenv("GOLIVE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// compressedSpec is the demo spec against a demo app at appURL with its
// schedule compressed to seconds, still holding the demo database settings.
func compressedSpec(t testing.TB, appURL string) spec.Spec {
	t.Helper()
	l, err := spec.Load("../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	s.App.URL, s.Deploy.URL, s.Metrics.URL = appURL, "", appURL+"/stats"
	s.Window.PrepareLead = spec.Duration(time.Second)
	s.Watch.T1H = spec.Duration(time.Second)
	s.Watch.Phases = []spec.Phase{{Name: "critical", Until: spec.Duration(2 * time.Second), Every: spec.Duration(time.Second)}, {Name: "later", Until: spec.Duration(4 * time.Second), Every: spec.Duration(2 * time.Second)}}
	s.Review.After = spec.Duration(4 * time.Second)
	s.Evidence.Dir = t.TempDir()
	return s
}

// fastSpec is compressedSpec with a fresh database on the local PostgreSQL.
func fastSpec(t testing.TB, appURL string) spec.Spec {
	t.Helper()
	s := compressedSpec(t, appURL)
	// A fresh database on the local PostgreSQL, with the demo's first three migrations to apply.
	s.Database.URL = pgtest.NewDatabase(t)
	s.Database.Migrations = filepath.Join(t.TempDir(), "migrations")
	if err := migrate.Stage("../examples/migrations/demo", s.Database.Migrations, 3); err != nil {
		t.Fatal(err)
	}
	// Database checks carry the spec's database as loaded: copy the new one in.
	for i := range s.Readiness.Items {
		if a := s.Readiness.Items[i].Auto; a != nil {
			a.Database, a.Backup = nil, nil
		}
	}
	spec.ApplyDefaults(&s)
	return s
}

// serveDemoApp serves a demo app at 1.0.0 with synthetic traffic until ctx
// ends, so its metrics have data; it returns the app and its URL.
func serveDemoApp(ctx context.Context, t testing.TB) (*demoapp.App, string) {
	t.Helper()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	actx, stopTraffic := context.WithCancel(ctx)
	t.Cleanup(stopTraffic)
	go app.RunTraffic(actx)
	return app, srv.URL
}

func TestReleaseOnARealServerWithUpdatesAndSignals(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	app, appURL := serveDemoApp(ctx, t)
	s := fastSpec(t, appURL)
	in := workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"}
	id := workflows.ReleaseID(s.Service, s.Environment)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.ReleaseWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	// A second start for the same service and environment is refused at once.
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.ReleaseWorkflow, in); err == nil {
		t.Fatal("second release of the same service and environment was started")
	}

	update := func(name string, arg any) (workflows.InputResult, error) {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		var res workflows.InputResult
		if err == nil {
			err = h.Get(ctx, &res)
		}
		return res, err
	}
	status := func() record.Status {
		qctx, qcancel := context.WithTimeout(ctx, 10*time.Second)
		defer qcancel()
		v, err := c.QueryWorkflow(qctx, id, "", workflows.StatusQuery)
		if err != nil {
			t.Fatalf("status query: %v", err)
		}
		var st record.Status
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	waitFor := func(what string, ok func(record.Status) bool) record.Status {
		for ctx.Err() == nil {
			st := status()
			if ok(st) {
				return st
			}
			if st.Stage == record.StageDone {
				t.Fatalf("release ended (%s: %s) while waiting for %s", st.Outcome, st.Reason, what)
			}
			time.Sleep(100 * time.Millisecond)
		}
		st := status()
		t.Fatalf("timed out waiting for %s; stage %s waiting %q reason %q items %+v", what, st.Stage, st.Waiting, st.Reason, st.Items[:12])
		return record.Status{}
	}
	waitFor("readiness attestations", func(st record.Status) bool {
		return st.Waiting != nil && st.Waiting.Kind == record.WaitPerson && st.Stage == record.StageReadiness
	})

	// An update refused by policy tells the caller why, and the refusal is recorded.
	if _, err := update(workflows.SignoffName, workflows.Signoff{Person: "alice", Decision: workflows.Approve}); err == nil {
		t.Fatal("sign-off accepted during readiness")
	}
	for _, p := range []string{"alice", "bob", "carol", "dave"} {
		if _, err := update(workflows.AttestName, workflows.Attest{Person: p}); err != nil {
			t.Fatalf("attest by %s: %v", p, err)
		}
	}
	waitFor("approvals", func(st record.Status) bool {
		return st.Stage == record.StageApprovals && st.Waiting != nil && st.Waiting.Kind == record.WaitPerson
	})
	// Two sign-offs by Update, two by Signal (as from the Temporal UI).
	for _, p := range []string{"alice", "bob"} {
		res, err := update(workflows.SignoffName, workflows.Signoff{Person: p, Decision: workflows.Approve})
		if err != nil || res.Message == "" {
			t.Fatalf("sign-off by %s: %v", p, err)
		}
	}
	if res, err := update(workflows.SignoffName, workflows.Signoff{Person: "alice", Decision: workflows.Approve}); err != nil || !res.Duplicate {
		t.Fatalf("repeated sign-off: %+v %v, want a duplicate counted once", res, err)
	}
	for _, p := range []string{"carol", "dave"} {
		if err := c.SignalWorkflow(ctx, id, "", workflows.SignoffName, workflows.Signoff{Person: p, Decision: workflows.Approve}); err != nil {
			t.Fatal(err)
		}
	}
	// T-4h attestations, T+1h attestation and the completion and review sign-offs.
	answered := map[string]bool{}
	st := waitFor("the end", func(st record.Status) bool {
		for _, it := range st.Items {
			if it.State == record.ItemWaiting && !answered[it.ID] {
				for _, p := range s.Members(it.Role) {
					if p.ID != "erin" {
						if _, err := update(workflows.AttestName, workflows.Attest{Person: p.ID, Items: []string{it.ID}}); err == nil {
							answered[it.ID] = true
						}
						break
					}
				}
			}
		}
		for _, sl := range st.Slots {
			if sl.State == record.ItemWaiting && (sl.Block == "completion" || sl.Block == "review") && !answered[sl.ID] {
				for _, p := range s.Members(sl.Role) {
					if _, err := update(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: p.ID, Decision: workflows.Approve}); err == nil {
						answered[sl.ID] = true
						break
					}
				}
			}
		}
		return st.Stage == record.StageDone
	})
	var res workflows.ReleaseResult
	if err := workflows.EndedResult(run.Get(ctx, &res), &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != record.OutcomeCompleted || app.Version() != "1.1.0" {
		t.Fatalf("outcome %s (%s), app at %s", res.Outcome, res.Reason, app.Version())
	}
	rehearsed := false
	for _, it := range st.Items {
		rehearsed = rehearsed || it.ID == "prepare.rollback_rehearsal"
		if it.ID == "deploy.migrations" && (it.State != record.ItemPassed || !strings.Contains(it.Value, "0 → 3")) {
			t.Errorf("migrations item %+v: want schema version 0 → 3", it)
		}
		// The rehearsal restores the empty database (version 0) and proves 001-003 go up and back down.
		if it.ID == "prepare.rollback_rehearsal" && (it.State != record.ItemPassed || !strings.Contains(it.Value, "rollback proven: 3 migration(s) up in ")) {
			t.Errorf("rehearsal item %+v", it)
		}
		if (it.ID == "prepare.backup" || it.ID == "post.backup") && it.State != record.ItemPassed {
			t.Errorf("%s is %s: %s", it.ID, it.State, it.Detail)
		}
	}
	if !rehearsed {
		t.Error("no rollback rehearsal item in the release")
	}
	if len(st.Refused) == 0 {
		t.Error("the refused sign-off is not in the status")
	}
	signals := 0
	for _, sl := range st.Slots {
		if sl.Block == "approvals" && len(sl.By) != 1 {
			t.Errorf("slot %s signed by %+v", sl.ID, sl.By)
		}
	}
	events := 0
	iter := c.GetWorkflowHistory(ctx, id, run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		if e.GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED {
			signals++
		}
	}
	if signals < 2 {
		t.Errorf("%d signals in history, want the two UI-style sign-offs", signals)
	}
	if events >= 2000 {
		t.Errorf("happy-path history has %d events, want < 2000", events)
	}
	t.Logf("happy-path history: %d events", events)
}
