package devserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/devserver"
)

const taskQueue = "devserver-test"

var (
	serviceKey = temporal.NewSearchAttributeKeyKeyword("GoliveService")
	stageKey   = temporal.NewSearchAttributeKeyKeyword("GoliveStage")
)

// upsertStage marks the workflow with GoliveStage = stage.
func upsertStage(ctx workflow.Context, stage string) (string, error) {
	err := workflow.UpsertTypedSearchAttributes(ctx, stageKey.ValueSet(stage), serviceKey.ValueSet("api"))
	return stage, err
}

// awaitThenUpsert reports "waiting" through a query, waits for the "go"
// signal, then upserts GoliveStage to the signalled value.
func awaitThenUpsert(ctx workflow.Context) (string, error) {
	state := "waiting"
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil }); err != nil {
		return "", err
	}
	var stage string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &stage)
	state = "released"
	return upsertStage(ctx, stage)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func start(t *testing.T, o devserver.Options) *devserver.Server {
	t.Helper()
	o.Logger = testLogger(t)
	begin := time.Now()
	s, err := devserver.Start(t.Context(), o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %s (frontend %s, UI %q)", time.Since(begin).Round(time.Millisecond), s.FrontendAddress(), s.UIURL())
	t.Cleanup(s.Stop)
	return s
}

// connect dials s and runs a worker for both test workflows. The returned
// func stops both; cleanup calls it too.
func connect(t *testing.T, s *devserver.Server) (client.Client, func()) {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.FrontendAddress(),
		Namespace: s.Namespace(),
		Logger:    sdklog.NewStructuredLogger(testLogger(t)),
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(upsertStage)
	w.RegisterWorkflow(awaitThenUpsert)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	stop := sync.OnceFunc(func() { w.Stop(); c.Close() })
	t.Cleanup(stop)
	return c, stop
}

// eventually polls f until it succeeds or 20 s pass.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listed fails unless query finds exactly the workflow id.
func listed(ctx context.Context, c client.Client, query, id string) error {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
	if err != nil {
		return err
	}
	if n := len(resp.GetExecutions()); n != 1 || resp.GetExecutions()[0].GetExecution().GetWorkflowId() != id {
		return fmt.Errorf("query %q found %d executions, want %s", query, n, id)
	}
	return nil
}

func TestSearchAttributeUpsertIsQueryable(t *testing.T) {
	s := start(t, devserver.Options{
		Address:          "127.0.0.1:0",
		NoUI:             true,
		Ephemeral:        true,
		SearchAttributes: []string{"GoliveService", "GoliveStage"},
	})
	if s.Namespace() != "default" || s.UIURL() != "" {
		t.Fatalf("namespace %q, UI %q; want default and no UI", s.Namespace(), s.UIURL())
	}
	c, _ := connect(t, s)
	ctx := t.Context()

	begin := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sa-test", TaskQueue: taskQueue}, upsertStage, "x")
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "x" {
		t.Fatalf("result %q, %v; want x", got, err)
	}
	t.Logf("first workflow done in %s", time.Since(begin).Round(time.Millisecond))
	eventually(t, "list by GoliveStage", func() error {
		return listed(ctx, c, `GoliveStage = "x" AND GoliveService = "api"`, "sa-test")
	})
}

// TestUIAnswers checks the UI page, that the UI reaches the frontend, and
// that it was given the codec endpoint.
func TestUIAnswers(t *testing.T) {
	const codec = "http://127.0.0.1:8081/codec"
	s := start(t, devserver.Options{Address: "127.0.0.1:0", UIAddress: "127.0.0.1:0", Ephemeral: true,
		CodecEndpoint: codec})
	if s.UIURL() == "" {
		t.Fatal("UIURL is empty")
	}
	for path, want := range map[string]string{
		"/":                          "<html",
		"/api/v1/namespaces/default": "NAMESPACE_STATE_REGISTERED",
		"/api/v1/settings":           codec,
	} {
		eventually(t, "GET "+path, func() error { return get(s.UIURL()+path, want) })
	}
	s.Stop()
	s.Stop() // idempotent
	if _, err := http.Get(s.UIURL()); err == nil {
		t.Fatal("UI still answers after Stop")
	}
}

// get fails unless url answers 200 with a body containing want.
func get(url, want string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("status %s, body %.200q lacks %q", resp.Status, body, want)
	}
	return nil
}

// TestWorkflowSurvivesRestart also checks that a search attribute missing from
// an existing database is added on start: GoliveStage is only asked for the
// second time.
func TestWorkflowSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	const id = "restart-test"

	first := start(t, devserver.Options{Address: "127.0.0.1:0", NoUI: true, DataDir: dir,
		SearchAttributes: []string{"GoliveService"}})
	if _, err := os.Stat(filepath.Join(dir, devserver.DBFile)); err != nil {
		t.Fatalf("database file: %v", err)
	}
	c, disconnect := connect(t, first)
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, awaitThenUpsert); err != nil {
		t.Fatalf("execute: %v", err)
	}
	eventually(t, "workflow waits for its signal", func() error {
		v, err := c.QueryWorkflow(ctx, id, "", "state")
		if err != nil {
			return err
		}
		var state string
		if err := v.Get(&state); err != nil || state != "waiting" {
			return fmt.Errorf("state %q, %v", state, err)
		}
		return nil
	})
	disconnect()
	stopping := time.Now()
	first.Stop()
	t.Logf("Stop took %s", time.Since(stopping).Round(time.Millisecond))

	second := start(t, devserver.Options{Address: "127.0.0.1:0", NoUI: true, DataDir: dir,
		SearchAttributes: []string{"GoliveService", "GoliveStage"}})
	if second.FrontendAddress() == first.FrontendAddress() {
		t.Fatalf("both servers on %s; want a fresh port", first.FrontendAddress())
	}
	c, _ = connect(t, second)
	if err := c.SignalWorkflow(ctx, id, "", "go", "restarted"); err != nil {
		t.Fatalf("signal: %v", err)
	}
	signalled := time.Now()
	var got string
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &got); err != nil || got != "restarted" {
		t.Fatalf("result %q, %v; want restarted", got, err)
	}
	t.Logf("completed %s after the signal", time.Since(signalled).Round(time.Millisecond))
	eventually(t, "list by GoliveStage", func() error {
		return listed(ctx, c, `GoliveStage = "restarted"`, id)
	})
}

// TestBadOptions also covers busy ports, on which the server and the UI
// would otherwise exit the process.
func TestBadOptions(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for name, o := range map[string]devserver.Options{
		"neither":       {},
		"bad address":   {Ephemeral: true, Address: "nonsense"},
		"busy frontend": {Ephemeral: true, Address: busy.Addr().String(), NoUI: true},
		"busy UI":       {Ephemeral: true, Address: "127.0.0.1:0", UIAddress: busy.Addr().String()},
	} {
		if s, err := devserver.Start(t.Context(), o); err == nil {
			s.Stop()
			t.Errorf("%s: Start succeeded, want an error", name)
		}
	}
}
