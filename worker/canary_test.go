package worker_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/encoding/protojson"

	historypb "go.temporal.io/api/history/v1"

	"github.com/golive/golive/internal/awsfake"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// Canary strings planted where secrets and patient data could leak from.
const (
	canarySecret   = "Canary-Secret-Value-4b1d"   // in Secrets Manager, resolved by an activity
	canaryPassword = "Canary-DB-Password-77aa"    // inside that secret: the database password
	canaryPatient  = "Jane Canary-Doe 1961-04-02" // in the failing deploy command's output
)

// TestNoSecretOrPatientDataLeaves plants a secret value and a database password
// in Secrets Manager and a patient's name in a failing deploy's output, runs a
// release with payload encryption on, and searches the raw history (fetched
// without the codec), the search attributes, the memo and the worker's log.
func TestNoSecretOrPatientDataLeaves(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keyFile := filepath.Join(t.TempDir(), "codec.key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOLIVE_CODEC_KEYS", "test="+"file://"+keyFile)

	cloud := awsfake.Start(t)
	dbURL := strings.Replace(pgtestURL(t), "postgres@", "postgres:"+canaryPassword+"@", 1)
	cloud.Secrets.Put("golive/canary", `{"token":"`+canarySecret+`","url":"`+dbURL+`"}`)
	res := &secrets.Resolver{Backends: map[string]secrets.Backend{"aws": secrets.NewAWS(cloud.Config(t))}}

	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cod, err := worker.Encryption(context.Background(), res)
	if err != nil || cod == nil {
		t.Fatalf("encryption: %v", err)
	}
	opts := client.Options{Logger: sdklog.NewStructuredLogger(logger)}
	worker.ApplyConverters(&opts, cod)
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(opts))
	c := ts.GetDefaultClient()
	attrs := map[string]enums.IndexedValueType{}
	for _, name := range workflows.SearchAttributeNames() {
		attrs[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ts.GetDefaultNamespace(), SearchAttributes: attrs}); err != nil {
		t.Fatal(err)
	}
	w := worker.New(c, worker.Options{Logger: logger, Secrets: res, Directory: worker.DemoDirectory("..")})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, Logger: logger})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	go app.RunTraffic(ctx)

	s := fastSpec(t, srv.URL)
	s.Database.URL = "secret://aws/golive/canary#url"
	for i := range s.Readiness.Items {
		if a := s.Readiness.Items[i].Auto; a != nil {
			a.Database, a.Backup = nil, nil
		}
	}
	spec.ApplyDefaults(&s)
	s.Deploy = spec.Deploy{Target: "command", Timeout: s.Deploy.Timeout, WaitTimeout: s.Deploy.WaitTimeout,
		Command:         []string{"sh", "-c", "echo 'record of " + canaryPatient + " not migrated' >&2; exit 1"},
		RollbackCommand: []string{"true"}}
	s.Notify.ResendAPIKey = "secret://aws/golive/canary#token"
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment), TaskQueue: workflows.TaskQueue},
		workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"})
	if err != nil {
		t.Fatal(err)
	}
	respond(ctx, t, c, run, s.Members)
	var out workflows.ReleaseResult
	if err := workflows.EndedResult(run.Get(ctx, &out), &out); err != nil {
		t.Fatal(err)
	}
	if out.Outcome != record.OutcomeRolledBack || !strings.Contains(out.Reason, "deploy") {
		t.Fatalf("outcome %s (%s): want the failed deploy rolled back", out.Outcome, out.Reason)
	}

	// Raw history without the codec: a client with the default converter.
	plain := ts.NewClientWithOptions(client.Options{})
	hist := historyOf(ctx, t, plain, run.GetID(), run.GetRunID())
	raw, err := protojson.Marshal(&historypb.History{Events: hist})
	if err != nil {
		t.Fatal(err)
	}
	desc, err := plain.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := protojson.Marshal(desc)
	for _, canary := range []string{canarySecret, canaryPassword, canaryPatient, "Jane Canary"} {
		for where, text := range map[string]string{"raw history": string(raw), "search attributes and memo": string(meta), "worker log": logs.String()} {
			if strings.Contains(text, canary) {
				t.Errorf("%q found in the %s", canary, where)
			}
		}
	}
	// protojson writes metadata bytes in base64: "binary/encrypted".
	if !strings.Contains(string(raw), base64.StdEncoding.EncodeToString([]byte("binary/encrypted"))) {
		t.Error("history payloads are not encrypted")
	}
}

func pgtestURL(t *testing.T) string {
	t.Helper()
	return fastSpec(t, "http://127.0.0.1:1").Database.URL
}
