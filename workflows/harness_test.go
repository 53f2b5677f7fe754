package workflows_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// metricsSource is the JSON endpoint the http metrics provider reads in
// workflow tests. Its values are set by simulated time, so thresholds can be
// crossed at an exact hour of a 48-hour release that runs in seconds.
type metricsSource struct {
	mu     sync.Mutex
	values map[string]float64
	down   bool
}

func (m *metricsSource) set(k string, v float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values[k] = v
}

func (m *metricsSource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	_ = json.NewEncoder(w).Encode(m.values)
}

// harness runs ReleaseWorkflow in the SDK's time-skipping test environment with
// the real activities against a real demo app over HTTP.
type harness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	app     *demoapp.App
	metrics *metricsSource
	spec    spec.Spec
	// answer, when set, replaces the default responder for a waiting sign-off slot.
	answer func(h *harness, slot record.SlotState) bool
	// silent disables every human answer (timeout tests).
	silent bool
	// unattested, when set, leaves the attestations it selects unanswered.
	unattested func(record.Item) bool
	sent       []string
	// dir is the team directory the worker reads (the demo's, unless edited).
	dir *activities.Directory
	// faults makes the demo app fail requests on demand (see failNext).
	faults *appFaults
}

// appFaults fails the next requests to a route of the demo app, as a flaky
// dependency would: before the app handles them (503), or after (409: the
// deploy was applied but its answer says it failed, as a timed-out one does).
type appFaults struct {
	mu    sync.Mutex
	left  map[string]int
	after map[string]bool
}

// failNext makes the next n requests to route ("POST /api/appointments") fail;
// after says the app handles them first.
func (h *harness) failNext(route string, n int, after bool) {
	h.faults.mu.Lock()
	defer h.faults.mu.Unlock()
	h.faults.left[route], h.faults.after[route] = n, after
}

func (f *appFaults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.Method + " " + r.URL.Path
		f.mu.Lock()
		fail, after := f.left[route] > 0, f.after[route]
		if fail {
			f.left[route]--
		}
		f.mu.Unlock()
		switch {
		case !fail:
			next.ServeHTTP(w, r)
		case after:
			next.ServeHTTP(httptest.NewRecorder(), r)
			http.Error(w, "injected: applied, then failed", http.StatusConflict)
		default:
			http.Error(w, "injected: dependency down", http.StatusServiceUnavailable)
		}
	})
}

// editDirectory points the worker at a copy of the demo directory with old
// replaced by new (unsigned, accepted as such): e.g. a role granted.
func (h *harness) editDirectory(old, new string) {
	h.t.Helper()
	b, err := os.ReadFile(h.dir.Path)
	if err != nil {
		h.t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		h.t.Fatalf("%s has no %q", h.dir.Path, old)
	}
	path := filepath.Join(h.t.TempDir(), "team.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.dir.Path, h.dir.AdminsFile, h.dir.Verify.AllowUnsigned = path, "", true
}

const requester = "erin"

func newHarness(t *testing.T) *harness {
	t.Helper()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	faults := &appFaults{left: map[string]int{}, after: map[string]bool{}}
	appSrv := httptest.NewServer(faults.wrap(app.Handler()))
	t.Cleanup(appSrv.Close)
	ms := &metricsSource{values: map[string]float64{"error_rate": 0.02, "latency_p95_ms": 120, "failed_login_rate": 0.5}}
	msSrv := httptest.NewServer(ms)
	t.Cleanup(msSrv.Close)

	loaded, err := spec.Load("../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := withoutDatabase(productionCadence(loaded.Spec))
	s.App.URL = appSrv.URL
	s.Deploy.URL = ""
	s.Metrics.URL = msSrv.URL + "/stats"
	s.Evidence.Dir = t.TempDir()

	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(nopLogger{})
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.ReleaseID(s.Service, s.Environment)})
	dir := worker.DemoDirectory("..")
	worker.Register(env, worker.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Directory: dir})
	return &harness{t: t, env: env, app: app, metrics: ms, spec: s, dir: dir, faults: faults}
}

// productionCadence keeps the demo spec's target and team but puts back every
// timing default of the checklist: T-4h, 24 h watch of 30 checks, 48 h review.
func productionCadence(s spec.Spec) spec.Spec {
	d := spec.Defaults()
	s.Window = d.Window
	s.Watch = d.Watch
	s.Escalation.Levels = d.Escalation.Levels
	s.Readiness.Timeout = d.Readiness.Timeout
	for _, b := range []struct{ dst, src *spec.SignoffBlock }{
		{&s.Approvals, &d.Approvals}, {&s.Completion, &d.Completion}, {&s.Review.Signoffs, &d.Review.Signoffs},
	} {
		b.dst.Timeout, b.dst.RemindEvery, b.dst.EscalateAfter, b.dst.OnTimeout = b.src.Timeout, b.src.RemindEvery, b.src.EscalateAfter, b.src.OnTimeout
	}
	s.Review.After, s.Review.Timeout = d.Review.After, d.Review.Timeout
	s.Rollback.Watch = d.Rollback.Watch
	return s
}

// withoutDatabase drops the demo database: these tests exercise the workflow in
// simulated time; the PostgreSQL steps are tested against a real server in
// activities/ and worker/.
func withoutDatabase(s spec.Spec) spec.Spec {
	s.Database = spec.Database{}
	s.Backup.Type = "none"
	for i := range s.Readiness.Items {
		if a := s.Readiness.Items[i].Auto; a != nil && (strings.HasPrefix(a.Kind, "postgres.") || a.Kind == "backup") {
			s.Readiness.Items[i].Optional = true
		}
	}
	return s
}

// input is the release input with T-0 six hours after the (simulated) start.
func (h *harness) input(version string) workflows.ReleaseInput {
	return workflows.ReleaseInput{
		Spec: h.spec, SpecFile: "examples/demo.yaml", Version: version, Requester: requester,
		Window: h.env.Now().Add(6 * time.Hour),
	}
}

// run starts the release and answers, every five simulated minutes, whatever
// sign-off or attestation it waits for, the way the team would.
func (h *harness) run(in workflows.ReleaseInput) workflows.ReleaseResult {
	h.t.Helper()
	for at := 5 * time.Minute; at < 60*time.Hour; at += 5 * time.Minute {
		h.env.RegisterDelayedCallback(h.respond, at)
	}
	h.env.ExecuteWorkflow(workflows.ReleaseWorkflow, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("release did not complete")
	}
	var res workflows.ReleaseResult
	if err := workflows.EndedResult(h.env.GetWorkflowResult(&res), &res); err != nil {
		h.t.Fatalf("release failed: %v", err)
	}
	return res
}

func (h *harness) status() record.Status {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.StatusQuery)
	if err != nil {
		h.t.Fatalf("status query: %v", err)
	}
	var st record.Status
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) respond() {
	if h.silent || h.env.IsWorkflowCompleted() {
		return
	}
	st := h.status()
	roles := map[string]bool{}
	for _, it := range st.Items {
		if it.State == record.ItemWaiting && it.Mode == record.ModeAttest && !roles[it.Role] && (h.unattested == nil || !h.unattested(it)) {
			roles[it.Role] = true
			h.signal(workflows.AttestName, workflows.Attest{Person: h.member(it.Role, nil)})
		}
	}
	used := map[string]bool{}
	for _, sl := range st.Slots {
		for _, by := range sl.By {
			used[sl.Block+"/"+by.Person] = true
		}
	}
	for _, sl := range st.Slots {
		if sl.State != record.ItemWaiting {
			continue
		}
		if h.answer != nil && h.answer(h, sl) {
			continue
		}
		p := h.member(sl.Role, func(id string) bool { return used[sl.Block+"/"+id] })
		used[sl.Block+"/"+p] = true
		h.signal(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: p, Decision: workflows.Approve})
	}
}

func (h *harness) signal(name string, payload any) {
	h.sent = append(h.sent, name)
	h.env.SignalWorkflow(name, payload)
}

// member picks a holder of role who is not the requester and not excluded.
func (h *harness) member(role string, excluded func(string) bool) string {
	for _, p := range h.spec.Members(role) {
		if p.ID != requester && (excluded == nil || !excluded(p.ID)) {
			return p.ID
		}
	}
	h.t.Fatalf("nobody can act for role %s", role)
	return ""
}

func (h *harness) item(st record.Status, id string) record.Item {
	for _, it := range st.Items {
		if it.ID == id {
			return it
		}
	}
	h.t.Fatalf("no item %s", id)
	return record.Item{}
}

// nopLogger keeps the SDK's test environment quiet.
type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
