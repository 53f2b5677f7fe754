//go:build cluster

package worker_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/cluster"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// clusterReleases is how many releases TestClusterReleases runs at once
// (GOLIVE_CLUSTER_RELEASES per round; `make bench-cluster` runs 1,000).
func clusterReleases() int {
	if n, err := strconv.Atoi(os.Getenv("GOLIVE_CLUSTER_RELEASES")); err == nil && n > 0 {
		return n
	}
	return 60
}

// clusterWorkers is how many `golive worker` processes of the production build poll the cluster.
const clusterWorkers = 3

// clusterRounds are the rounds TestClusterReleases runs (GOLIVE_CLUSTER_ROUNDS,
// comma-separated: steady, faults; default both).
func clusterRounds() map[string]bool {
	rounds := map[string]bool{}
	for _, r := range strings.Split(cmp.Or(os.Getenv("GOLIVE_CLUSTER_ROUNDS"), "steady,faults"), ",") {
		rounds[strings.TrimSpace(r)] = true
	}
	return rounds
}

// answerPeriod is how often the test answers each release's people: every
// answer starts with a status query, which a worker answers, so with many
// releases the poll is slower (5 s at 1,000) to leave the cluster to the
// releases; the schedule waits for them anyway.
func answerPeriod(n int) time.Duration { return time.Duration(max(1, n/200)) * time.Second }

// startsInFlight bounds the starts a round has in flight at once: a team's
// releases do not all start in one second, and a start the frontend times
// out under that burst is retried anyway (startClusterRelease).
const startsInFlight = 20

// TestClusterReleasesSurviveAKilledWorkerAndAKilledHistoryService runs
// releases with the load test's compressed spec (loadSpec; watch checks at
// +20, +40 and +60 s after the deploy instead of +1, +2, +4 s) on the compose
// stack's Temporal cluster (internal/cluster: four server processes on the
// local PostgreSQL) across three production workers, in two rounds of
// GOLIVE_CLUSTER_RELEASES concurrent releases each: a steady one, then one
// during which it SIGKILLs one worker (not restarted: the other two carry its
// releases) and the history service (restarted 3 s later). Every release must
// complete, with each side effect once per key at its target (clusterEffects:
// app deploys, audit rows, evidence in golive's database); the figures are
// printed, never asserted.
func TestClusterReleasesSurviveAKilledWorkerAndAKilledHistoryService(t *testing.T) {
	n := clusterReleases()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute+6*time.Duration(n)*time.Second)
	defer cancel()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))

	cl := startCluster(ctx, t)
	c, err := cl.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bin := buildCLI(t)
	golive := goliveDatabase(t)
	var workers []*cliWorker
	for i := range clusterWorkers {
		workers = append(workers, startClusterWorker(t, bin, cl, i, golive.env()...))
	}
	apps := newAppFarm(ctx, t, 2*n, discard)
	defer apps.close()
	specs := make([]spec.Spec, 2*n)
	for k := range specs {
		specs[k] = loadSpec(t, apps.url(k))
		specs[k].Service = fmt.Sprintf("cluster-%04d", k)
		// Watch checks far enough after the deploy that their timers still wait
		// when the watch starts (see reportClusterFigures).
		specs[k].Watch.Phases = []spec.Phase{{Name: "critical", Until: spec.Duration(40 * time.Second), Every: spec.Duration(20 * time.Second)},
			{Name: "later", Until: spec.Duration(60 * time.Second), Every: spec.Duration(20 * time.Second)}}
		specs[k].Review.After = spec.Duration(60 * time.Second)
	}
	pg := watchPGConnections(ctx, t, append(slices.Clone(cl.Plan().Databases), golive.name(t)))

	rounds := clusterRounds()
	rss := make([]int64, clusterWorkers)
	if rounds["steady"] {
		runs := runClusterRound(ctx, t, c, "steady", specs[:n], nil)
		for i, w := range workers {
			rss[i], _ = cluster.PeakRSS(w.cmd.Process.Pid)
		}
		golive.checkOncePerKey(ctx, t, "steady", apps, 0, runs)
		if !t.Failed() {
			reportClusterFigures(ctx, t, c, cl, "steady", runs, rss, pg.takePeak())
		}
	}
	if !rounds["faults"] {
		return
	}

	// Second round: a worker and the history service die without warning.
	runs := runClusterRound(ctx, t, c, "faults", specs[n:], func(begin time.Time, done func() int) {
		time.Sleep(15 * time.Second)
		rss[0], _ = cluster.PeakRSS(workers[0].cmd.Process.Pid)
		_ = workers[0].cmd.Process.Kill()
		<-workers[0].done
		t.Logf("faults: t+%s: SIGKILL worker 0 with %d/%d releases finished", since(begin), done(), n)
		time.Sleep(15 * time.Second)
		if err := cl.Kill(cluster.History); err != nil {
			t.Error(err)
			return
		}
		t.Logf("faults: t+%s: SIGKILL history service with %d/%d releases finished", since(begin), done(), n)
		time.Sleep(3 * time.Second)
		if err := cl.Restart(ctx, cluster.History); err != nil {
			t.Error(err)
			return
		}
		t.Logf("faults: t+%s: history service restarted", since(begin))
	})
	golive.checkOncePerKey(ctx, t, "faults", apps, n, runs)
	if !t.Failed() {
		// Worker 0's peak is the one read just before it was killed.
		for i := 1; i < clusterWorkers; i++ {
			rss[i], _ = cluster.PeakRSS(workers[i].cmd.Process.Pid)
		}
		reportClusterFigures(ctx, t, c, cl, "faults", runs, rss, pg.takePeak())
	}
}

// runClusterRound runs the releases of specs at once, calls faults (when not
// nil) beside them, and fails the test for any release that does not complete.
func runClusterRound(ctx context.Context, t *testing.T, c client.Client, round string, specs []spec.Spec, faults func(begin time.Time, done func() int)) []client.WorkflowRun {
	t.Helper()
	var finished atomic.Int64
	runs := make([]client.WorkflowRun, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	begin := time.Now()
	starting := make(chan struct{}, startsInFlight)
	period := answerPeriod(len(specs))
	for k := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer finished.Add(1)
			runs[k], errs[k] = runClusterRelease(ctx, c, specs[k], starting, period)
		}()
	}
	if faults != nil {
		faults(begin, func() int { return int(finished.Load()) })
	}
	wg.Wait()
	failed := 0
	for k, err := range errs {
		if err != nil {
			failed++
			t.Errorf("%s: release %d: %v", round, k, err)
		}
	}
	t.Logf("%s: %d/%d releases completed in %s on %d workers", round, len(specs)-failed, len(specs), since(begin), clusterWorkers)
	return runs
}

// startCluster starts the cluster on free ports with databases of its own,
// and removes them when the test ends.
func startCluster(ctx context.Context, t testing.TB) *cluster.Cluster {
	t.Helper()
	return startClusterWith(ctx, t, "")
}

// startClusterWith is startCluster with dynamicConfig (YAML) added to the
// compose file's dynamic config.
func startClusterWith(ctx context.Context, t testing.TB, dynamicConfig string) *cluster.Cluster {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	o := cluster.Options{
		Root: root, StateDir: t.TempDir(), FreePorts: true, LogLevel: "warn", DynamicConfig: dynamicConfig,
		DatabasePrefix: fmt.Sprintf("golive_ct%d_", time.Now().UnixNano()%1_000_000),
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "temporal-server")); err != nil {
		if o.ServerBin, o.SQLToolBin, err = cluster.Build(ctx, root, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	var cl *cluster.Cluster
	// Registered first: Start writes its state before it creates the databases,
	// so Down drops them even when Start fails halfway.
	t.Cleanup(func() {
		if cl != nil {
			cl.Stop()
		}
		if err := cluster.Down(context.Background(), o); err != nil {
			t.Errorf("cluster down: %v", err)
		}
	})
	startAt := time.Now()
	cl, err = cluster.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster up in %s: frontend %s, databases %v, logs in %s", since(startAt), cl.FrontendAddress(), cl.Plan().Databases, o.StateDir)
	return cl
}

// startClusterWorker is the one place a worker process is started: the
// production build's `golive worker` against the cluster.
func startClusterWorker(t *testing.T, bin string, cl *cluster.Cluster, i int, env ...string) *cliWorker {
	t.Helper()
	return startCLIWorker(t, bin, cl.FrontendAddress(), cl.Namespace(), filepath.Join(t.TempDir(), fmt.Sprintf("worker-%d.log", i)), env...)
}

// runClusterRelease starts a release of s, answers it and waits for it.
func runClusterRelease(ctx context.Context, c client.Client, s spec.Spec, starting chan struct{}, period time.Duration) (client.WorkflowRun, error) {
	starting <- struct{}{}
	run, err := startClusterRelease(ctx, c, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"})
	<-starting
	if err != nil {
		return nil, err
	}
	stop := answer(ctx, c, run.GetID(), s.Members, period)
	defer stop()
	return run, releaseCompleted(ctx, run)
}

// startClusterRelease starts the release in. Starts are retried while the
// history service has not yet loaded the new namespace, is being restarted,
// or took longer than the start's deadline under load; a retry that finds
// the release started (by the attempt that timed out) takes that run.
func startClusterRelease(ctx context.Context, c client.Client, in workflows.ReleaseInput) (client.WorkflowRun, error) {
	id := workflows.ReleaseID(in.Spec.Service, in.Spec.Environment)
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}
	var run client.WorkflowRun
	var err error
	for range 60 {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		run, err = c.ExecuteWorkflow(actx, opts, workflows.ReleaseWorkflow, in)
		cancel()
		var nf *serviceerror.NamespaceNotFound
		var un *serviceerror.Unavailable
		var dl *serviceerror.DeadlineExceeded
		var busy *serviceerror.ResourceExhausted
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return c.GetWorkflow(ctx, id, ""), nil
		}
		if err == nil || ctx.Err() != nil || !(errors.As(err, &nf) || errors.As(err, &un) || errors.As(err, &dl) || errors.As(err, &busy) || errors.Is(err, context.DeadlineExceeded)) {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", id, err)
	}
	return run, nil
}

// releaseCompleted waits for run and fails unless its outcome is completed.
func releaseCompleted(ctx context.Context, run client.WorkflowRun) error {
	var out workflows.ReleaseResult
	if err := workflows.EndedResult(run.Get(ctx, &out), &out); err != nil {
		return fmt.Errorf("%s: %w", run.GetID(), err)
	}
	if out.Outcome != record.OutcomeCompleted {
		return fmt.Errorf("%s: %s (%s)", run.GetID(), out.Outcome, out.Reason)
	}
	return nil
}

// pgConnections samples, once a second, the connections the cluster holds
// on its two databases (pg_stat_activity).
type pgConnections struct {
	mu      sync.Mutex
	peak    map[string]int
	samples int
}

// takePeak returns the peaks since the last call and starts again.
func (pc *pgConnections) takePeak() map[string]int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	p := pc.peak
	pc.peak = map[string]int{}
	return p
}

func watchPGConnections(ctx context.Context, t *testing.T, dbs []string) *pgConnections {
	t.Helper()
	conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	pc := &pgConnections{peak: map[string]int{}}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer conn.Close(context.Background())
		for ctx.Err() == nil {
			rows, err := conn.Query(ctx, `SELECT datname, count(*) FROM pg_stat_activity WHERE datname = ANY($1) GROUP BY datname`, dbs)
			if err == nil {
				pc.mu.Lock()
				for rows.Next() {
					var db string
					var n int
					if rows.Scan(&db, &n) == nil {
						pc.peak[db] = max(pc.peak[db], n)
					}
				}
				pc.samples++
				pc.mu.Unlock()
				rows.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return pc
}

// reportClusterFigures prints the sign-off latency, the watch drift, the
// memory of every process and the PostgreSQL connections of one round.
func reportClusterFigures(ctx context.Context, t *testing.T, c client.Client, cl *cluster.Cluster, round string, runs []client.WorkflowRun, rss []int64, pgPeak map[string]int) {
	var delays, drifts, watchLag []time.Duration
	eager, activities, pastDue := 0, 0, 0
	for _, run := range runs {
		hist := historyOf(ctx, t, c, run.GetID(), run.GetRunID())
		scheduled := map[int64]time.Time{}
		for _, e := range hist {
			switch e.GetEventType() {
			case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				scheduled[e.GetEventId()] = e.GetEventTime().AsTime()
			case enums.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				activities++
				if e.GetEventTime().AsTime().Equal(scheduled[e.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]) {
					eager++
				}
			}
		}
		d, err := signoffDelay(hist)
		if err != nil {
			t.Errorf("%s: %v", run.GetID(), err)
			continue
		}
		delays = append(delays, d)
		st, err := queryStatus(ctx, c, run.GetID())
		if err != nil {
			t.Errorf("%s: status: %v", run.GetID(), err)
			continue
		}
		// The watch runs as check children (CheckWorkflow), the first of them
		// started when the watch begins; MonitorWorkflow only in releases started before.
		desc, err := c.DescribeWorkflowExecution(ctx, workflows.CheckID(st.ReleaseID, workflows.WindowWatch, 1), "")
		if err != nil {
			t.Errorf("%s: watch child: %v", run.GetID(), err)
			continue
		}
		watchStart := desc.GetWorkflowExecutionInfo().GetStartTime().AsTime()
		watchLag = append(watchLag, watchStart.Sub(st.DeployAt))
		for _, ch := range st.Checks {
			if ch.Window != workflows.WindowWatch {
				continue
			}
			// A check already due when the watch child started fires at once:
			// its lateness is the T-0 steps', not the timer's.
			if planned := st.DeployAt.Add(ch.Offset); planned.After(watchStart) {
				drifts = append(drifts, ch.At.Sub(planned))
			} else {
				pastDue++
			}
		}
	}
	if len(delays) > 0 {
		t.Logf("%s: accepted sign-off -> next activity started (%d releases): p50 %s, p95 %s, p99 %s, max %s; %d of %d activities started at their scheduled instant (eager dispatch)",
			round, len(delays), fine(percentile(delays, 50)), fine(percentile(delays, 95)), fine(percentile(delays, 99)), fine(slices.Max(delays)), eager, activities)
	}
	if len(watchLag) > 0 {
		t.Logf("%s: deploy done -> watch child started: p50 %s, p99 %s, max %s", round,
			msr(percentile(watchLag, 50)), msr(percentile(watchLag, 99)), msr(slices.Max(watchLag)))
	}
	if len(drifts) > 0 {
		t.Logf("%s: watch checks on a waiting timer (%d; %d more were already due when the watch started): start (the check's recorded time) minus deploy time + planned offset: p50 %s, p99 %s, max %s",
			round, len(drifts), pastDue, msr(percentile(drifts, 50)), msr(percentile(drifts, 99)), msr(slices.Max(drifts)))
	}
	for i, b := range rss {
		t.Logf("%s: worker %d peak RSS (VmHWM): %.1f MiB", round, i, float64(b)/(1<<20))
	}
	for _, svc := range cluster.Services {
		if b, err := cluster.PeakRSS(cl.Pid(svc)); err == nil {
			t.Logf("%s: temporal %s peak RSS (VmHWM): %.1f MiB", round, svc, float64(b)/(1<<20))
		}
	}
	t.Logf("%s: PostgreSQL connections (pg_stat_activity, peak of 1 s samples): %v", round, pgPeak)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Second) }

func msr(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func fine(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
