package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// loadReleases is how many releases BenchmarkLoad runs at once
// (GOLIVE_LOAD_RELEASES overrides it for a quicker look).
var loadReleases = 200

func init() {
	if n, err := strconv.Atoi(os.Getenv("GOLIVE_LOAD_RELEASES")); err == nil && n > 0 {
		loadReleases = n
	}
}

// BenchmarkLoad runs 200 concurrent releases (distinct services, each on a
// demo app of its own, compressed schedule) on one worker, the production
// binary (`golive worker`, built without the embedded server) as a child
// process, against one in-process embedded server (SQLite file). It fails
// unless every release completes, and prints:
//   - the worker's peak RSS (VmHWM of the child process);
//   - the p95 delay from the last approval sign-off (the Update accepted, as
//     the history records it) to the next step starting (the first activity
//     scheduled after it, as the worker starts it), against the same measure
//     for releases run alone on the same server and worker, as a ratio.
func BenchmarkLoad(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	bin := buildCLI(b)
	srv, c, w := startDevStack(ctx, b, b.TempDir(), discard)
	w.Stop() // the child process is the only worker

	logPath := filepath.Join(b.TempDir(), "worker.log")
	wp := startCLIWorker(b, bin, srv.FrontendAddress(), srv.Namespace(), logPath)

	apps := newAppFarm(ctx, b, loadReleases+3, discard)
	defer apps.close()

	for i := 0; i < b.N; i++ {
		// Baseline: three releases, one at a time.
		var alone []time.Duration
		for j := 0; j < 3; j++ {
			rs := runReleases(ctx, b, c, apps, fmt.Sprintf("alone-%d-%d", i, j), loadReleases+j, 1)
			alone = append(alone, rs.delays...)
		}
		// Load: 200 at once.
		rs := runReleases(ctx, b, c, apps, fmt.Sprintf("load-%d", i), 0, loadReleases)
		rss := wp.peakRSS(b)

		base := percentile(alone, 95)
		p50, p95, worst := percentile(rs.delays, 50), percentile(rs.delays, 95), slices.Max(rs.delays)
		ratio := float64(p95) / float64(max(base, time.Microsecond))
		b.ReportMetric(float64(rss)/(1<<20), "worker-peak-RSS-MiB")
		b.ReportMetric(ms(p95), "signoff-p95-ms")
		b.ReportMetric(ms(base), "signoff-alone-ms")
		b.ReportMetric(ratio, "signoff-p95-ratio")
		b.ReportMetric(rs.took.Seconds(), "load-s")
		fmt.Printf("load: %d/%d releases completed in %s on one worker; worker peak RSS %.1f MiB (VmHWM of the `golive worker` child process)\n",
			rs.completed, loadReleases, rs.took.Round(time.Second), float64(rss)/(1<<20))
		fmt.Printf("sign-off -> next step started: p50 %s, p95 %s, max %s under load vs %s alone (p95 of %d): ratio %.1f\n",
			p50.Round(time.Millisecond), p95.Round(time.Millisecond), worst.Round(time.Millisecond), base.Round(time.Millisecond), len(alone), ratio)
	}
}

// loadResult is what one batch of releases measured.
type loadResult struct {
	completed int
	took      time.Duration
	// delays: per release, last approval accepted -> next activity started.
	delays []time.Duration
}

// runReleases starts n releases on apps first..first+n-1 at once, answers them
// and waits for all; any release that does not complete fails the benchmark.
func runReleases(ctx context.Context, b *testing.B, c client.Client, apps *appFarm, prefix string, first, n int) loadResult {
	b.Helper()
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	begin := time.Now()
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := loadSpec(b, apps.url(first+k))
			s.Service = fmt.Sprintf("%s-%03d", prefix, k)
			id := workflows.ReleaseID(s.Service, s.Environment)
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true},
				workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"})
			if err != nil {
				b.Errorf("start %s: %v", id, err)
				return
			}
			stop := answer(ctx, c, id, s.Members, time.Second)
			var out workflows.ReleaseResult
			err = workflows.EndedResult(run.Get(ctx, &out), &out)
			stop()
			if err != nil || out.Outcome != record.OutcomeCompleted {
				b.Errorf("%s: %s (%s) %v", id, out.Outcome, out.Reason, err)
				return
			}
			d, err := signoffDelay(historyOf(ctx, b, c, id, run.GetRunID()))
			mu.Lock()
			defer mu.Unlock()
			res.completed++
			if err != nil {
				b.Errorf("%s: %v", id, err)
				return
			}
			res.delays = append(res.delays, d)
		}()
	}
	wg.Wait()
	res.took = time.Since(begin)
	if res.completed != n || len(res.delays) != n {
		b.Fatalf("%s: %d of %d releases completed, %d measured", prefix, res.completed, n, len(res.delays))
	}
	return res
}

// signoffDelay reads from a release's history the time from the last approval
// sign-off accepted (the Update after which the approvals were complete) to
// the start of the next activity (the first step of the T-4h stage).
func signoffDelay(hist []*history.HistoryEvent) (time.Duration, error) {
	accepted := map[string]time.Time{}
	var last time.Time
	var next int64
	for _, e := range hist {
		switch e.GetEventType() {
		case enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes()
			if a.GetAcceptedRequest().GetInput().GetName() == workflows.SignoffName {
				accepted[a.GetProtocolInstanceId()] = e.GetEventTime().AsTime()
			}
		case enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
			if at, ok := accepted[e.GetWorkflowExecutionUpdateCompletedEventAttributes().GetMeta().GetUpdateId()]; ok && next == 0 {
				last = at
			}
		case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if next == 0 && !last.IsZero() {
				next = e.GetEventId()
			}
		case enums.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := e.GetActivityTaskStartedEventAttributes(); next != 0 && a.GetScheduledEventId() == next {
				return e.GetEventTime().AsTime().Sub(last), nil
			}
		}
	}
	return 0, fmt.Errorf("no activity started after the approvals in a history of %d events", len(hist))
}

// loadSpec is the demo spec compressed as fastSpec does, without a database:
// the load test measures the orchestration, not PostgreSQL (the database
// checks are optional and report "not configured", backups are off).
func loadSpec(tb testing.TB, appURL string) spec.Spec {
	tb.Helper()
	s := compressedSpec(tb, appURL)
	s.Database = spec.Database{}
	s.Backup = spec.Backup{Type: "none"}
	for i := range s.Readiness.Items {
		if a := s.Readiness.Items[i].Auto; a != nil && spec.IsDatabaseCheck(a.Kind) {
			s.Readiness.Items[i].Optional = true
			a.Database, a.Backup = nil, nil
		}
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[min(max(i, 0), len(s)-1)]
}

// appFarm serves n demo apps from one HTTP server, app k under /app/k, each
// with light synthetic traffic so its metrics have data.
type appFarm struct {
	srv  *httptest.Server
	apps []*demoapp.App
}

func newAppFarm(ctx context.Context, tb testing.TB, n int, log *slog.Logger) *appFarm {
	f := &appFarm{}
	mux := http.NewServeMux()
	for k := 0; k < n; k++ {
		a := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 2, Logger: log})
		f.apps = append(f.apps, a)
		prefix := "/app/" + strconv.Itoa(k)
		mux.Handle(prefix+"/", http.StripPrefix(prefix, a.Handler()))
		go a.RunTraffic(ctx)
	}
	f.srv = httptest.NewServer(mux)
	return f
}

func (f *appFarm) url(k int) string { return f.srv.URL + "/app/" + strconv.Itoa(k) }
func (f *appFarm) close()           { f.srv.Close() }

// buildCLI builds the production worker binary (golive without the embedded server).
func buildCLI(tb testing.TB) string {
	tb.Helper()
	return buildCLIFrom(tb, "..")
}

// buildCLIFrom builds the production worker binary from the golive source
// tree at dir (another version of golive, for the upgrade test).
func buildCLIFrom(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "golive")
	cmd := exec.Command("go", "build", "-tags", "nodevserver", "-o", bin, "./cmd/golive")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build the worker from %s: %v\n%s", dir, err, out)
	}
	return bin
}

// cliWorker is a `golive worker` child process.
type cliWorker struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// env is added to the worker's environment after every TEMPORAL_* and GOLIVE_* is removed.
func startCLIWorker(tb testing.TB, bin, addr, ns, logPath string, env ...string) *cliWorker {
	tb.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "worker", "--address", addr, "--namespace", ns, "--log-level", "warn",
		"--directory", "../examples/directory/demo.yaml", "--directory-admins", "../examples/directory/admins")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") && !strings.HasPrefix(kv, "GOLIVE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w := &cliWorker{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(w.done) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-w.done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-w.done
		}
	})
	return w
}

// peakRSS is the child's peak resident set size (VmHWM), in bytes.
func (w *cliWorker) peakRSS(tb testing.TB) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.cmd.Process.Pid))
	if err != nil {
		tb.Fatalf("worker status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				tb.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}
