package approvals_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"
	"golang.org/x/crypto/ssh"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/approvals/browser"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

const root = "../.."

// startTemporal is an in-process Temporal server with golive's worker on the
// team directory dir (the demo's when nil). The worker's Directory activity
// reads dir's file again for every release, so a test may write the file
// (enrolled passkeys and all) before it starts the release that pins it.
func startTemporal(t testing.TB, dir *activities.Directory) (client.Client, converter.DataConverter) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := client.Options{Logger: sdklog.NewStructuredLogger(quiet)}
	cod, err := worker.Encryption(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	worker.ApplyConverters(&opts, cod)
	ts := temporaltest.NewServer(temporaltest.WithBaseClientOptions(opts))
	t.Cleanup(ts.Stop)
	c := ts.GetDefaultClient()
	attrs := map[string]enums.IndexedValueType{}
	for _, name := range workflows.SearchAttributeNames() {
		attrs[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ts.GetDefaultNamespace(), SearchAttributes: attrs}); err != nil {
		t.Fatal(err)
	}
	if dir == nil {
		dir = worker.DemoDirectory(root)
	}
	w := worker.New(c, worker.Options{Logger: quiet, Directory: dir})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	dc := opts.DataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	return c, dc
}

// demoSpec is examples/demo.yaml against a demo app, with a fresh database
// and the demo's first three migrations to apply, T-0 an hour away.
func demoSpec(t testing.TB) spec.Spec {
	t.Helper()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 20, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go app.RunTraffic(ctx)
	l, err := spec.Load(filepath.Join(root, "examples", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	s.App.URL, s.Deploy.URL, s.Metrics.URL = srv.URL, "", srv.URL+"/stats"
	s.Evidence.Dir = t.TempDir()
	s.Database.URL = pgtest.NewDatabase(t)
	s.Database.Migrations = filepath.Join(t.TempDir(), "migrations")
	if err := migrate.Stage(filepath.Join(root, "examples", "migrations", "demo"), s.Database.Migrations, 3); err != nil {
		t.Fatal(err)
	}
	for i := range s.Readiness.Items {
		if a := s.Readiness.Items[i].Auto; a != nil {
			a.Database, a.Backup = nil, nil
		}
	}
	spec.ApplyDefaults(&s)
	return s
}

type release struct {
	t   testing.TB
	c   client.Client
	id  string
	run string
	in  workflows.ReleaseInput
}

func (r release) status(ctx context.Context) record.Status {
	v, err := r.c.QueryWorkflow(ctx, r.id, "", workflows.StatusQuery)
	if err != nil {
		r.t.Fatalf("status: %v", err)
	}
	var st record.Status
	if err := v.Get(&st); err != nil {
		r.t.Fatal(err)
	}
	return st
}

func (r release) waitFor(ctx context.Context, what string, ok func(record.Status) bool) record.Status {
	for ctx.Err() == nil {
		if st := r.status(ctx); ok(st) {
			return st
		} else if st.Stage == record.StageDone {
			r.t.Fatalf("release ended (%s: %s) while waiting for %s", st.Outcome, st.Reason, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("timed out waiting for %s", what)
	return record.Status{}
}

func (r release) ref() workflows.ReleaseRef {
	return workflows.ReleaseRef{WorkflowID: r.id, RunID: r.run, Version: r.in.Version, SpecDigest: r.in.SpecDigest}
}

// update sends one input as an Update, the way a forger with Temporal access
// would: straight to the release, past the approval server.
func (r release) update(ctx context.Context, name string, arg any) (workflows.InputResult, error) {
	h, err := r.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: r.id, RunID: r.run, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	var out workflows.InputResult
	if err == nil {
		err = h.Get(ctx, &out)
	}
	return out, err
}

// sshKey is a demo person's private key (examples/directory/keys, DEMO ONLY).
func sshKey(t testing.TB, person string) ssh.Signer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples", "directory", "keys", person))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// startRelease starts a demo release in environment env (requester erin,
// the start and the readiness attestations of alice, bob, carol and dave
// signed with their demo SSH keys, as production requires), so its four
// approval slots wait.
func startRelease(t testing.TB, ctx context.Context, c client.Client, env string) release {
	s := demoSpec(t)
	s.Environment = env
	in := workflows.ReleaseInput{Spec: s, SpecFile: "demo.yaml", SpecDigest: "digest-of-demo-yaml", Version: "1.1.0", Requester: "erin",
		Window: time.Now().Add(time.Hour).UTC().Truncate(time.Second), StartSignedAt: time.Now().UTC().Truncate(time.Second)}
	sig, err := approval.SignInput(sshKey(t, "erin"), in.StartStatement())
	if err != nil {
		t.Fatal(err)
	}
	in.StartSignature = sig
	r := release{t: t, c: c, id: workflows.ReleaseID(s.Service, s.Environment), in: in}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: r.id, TaskQueue: workflows.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true}, workflows.ReleaseWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	r.run = run.GetRunID()
	r.waitFor(ctx, "readiness attestations", func(st record.Status) bool { return st.Stage == record.StageReadiness && st.Waiting != nil })
	for _, p := range []string{"alice", "bob", "carol", "dave"} {
		a := workflows.Attest{Person: p, SignedAt: time.Now().UTC().Truncate(time.Second)}
		if a.Signature, err = approval.SignInput(sshKey(t, p), a.Statement(r.ref())); err != nil {
			t.Fatal(err)
		}
		if _, err := r.update(ctx, workflows.AttestName, a); err != nil {
			t.Fatalf("attest by %s: %v", p, err)
		}
	}
	r.waitFor(ctx, "four approval slots", func(st record.Status) bool {
		n := 0
		for _, sl := range st.Slots {
			if sl.Block == "approvals" && sl.State == record.ItemWaiting {
				n++
			}
		}
		return st.Stage == record.StageApprovals && n == 4
	})
	return r
}

// swap is a handler the test replaces when the directory changes (the
// operator restarts the approval server on the new directory).
type swap struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *swap) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }
func (s *swap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// writeDirectory writes the demo directory with its webauthn origin moved to
// origin and, under each person's keys, the passkey entries given (YAML list
// items indented six spaces: an enrollment snippet, or softEntry).
func writeDirectory(t testing.TB, path, origin string, passkeys map[string][]string) *directory.Directory {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples", "directory", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(b), `origins: ["http://localhost:8234"]`, `origins: ["`+origin+`"]`, 1)
	for person, entries := range passkeys {
		line := person + "@demo.golive\n"
		body = strings.Replace(body, line, line+"    passkeys:\n"+strings.Join(entries, ""), 1)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := directory.Load(path)
	if err != nil {
		t.Fatalf("directory with passkeys: %v", err)
	}
	return d
}

// softEntry is a software passkey as a directory entry.
func softEntry(c passkey.Credential) string {
	return "      - {credential_id: " + c.ID + ", public_key: " + c.PublicKey + ", label: " + c.Label + ", added: 2026-12-07}\n"
}

func artifacts(t testing.TB) string {
	dir := os.Getenv("GOLIVE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(root, "artifacts", "approvals")
	}
	abs, _ := filepath.Abs(dir)
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

// startBrowser is headless Chromium on the approval pages (package browser);
// without node the test is skipped, without playwright-core or Chromium it fails.
func startBrowser(t *testing.T, ctx context.Context, arts string) *browser.Browser {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	tools, err := browser.Find(filepath.Join(root, ".tools"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := browser.Start(ctx, tools, arts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, l := range strings.Split(b.Close(), "\n") {
			if l != "" {
				t.Logf("browser: %s", l)
			}
		}
	})
	return b
}
