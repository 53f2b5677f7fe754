//go:build cluster

package worker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/golive/golive/internal/namespaces"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// defaultUpgradeFrom is the older golive the upgrade test starts from: the
// parent of "When a step fails, people decide" (da8c5d1), whose workflow
// differs from today's by the guided-failure GetVersion change (the latest
// one; GOLIVE_UPGRADE_FROM=df1a5ab^ rolls over outcome-shown as well).
const defaultUpgradeFrom = "da8c5d1^"

// Where a release of the upgrade test is when the workers are replaced
// (release k is in place k % 3).
const (
	heldInApprovals = iota // readiness attested, the four sign-offs held until the roll is over
	waitingForT0           // signed off, T-4h done, its T-0 timer set after the roll
	inWatch                // deployed, its watch (a check every 30 s for 150 s) running through the roll
)

var placeNames = []string{"approvals", "waiting for T-0", "watch"}

// TestClusterRollingUpgradeFinishesRunningReleases is the rolling upgrade of
// docs/production.md (Upgrades): three workers of an older golive
// (GOLIVE_UPGRADE_FROM, a commit, default da8c5d1^; GOLIVE_UPGRADE_TO, a
// commit or a directory, replaces this checkout as the new side) run
// GOLIVE_CLUSTER_RELEASES/2 releases (default 30) on the local cluster; once
// they are held in their approvals, waiting for their T-0 or mid-watch, the
// search attributes of the new build are registered and each old worker in
// turn is stopped with SIGTERM and replaced by one of this build. Every
// release must complete with each side effect once per key, no workflow
// task may fail for nondeterminism (in any workflow of the namespace), and
// every release still open after the roll must have had workflow tasks
// completed by a new worker, i.e. its history replayed on the new code.
// A few releases started after the roll take the new code's path. When
// nondeterminism shows during the roll, the test does what the procedure
// says: it rolls the workers back one at a time, lets the releases finish
// on the old build, and fails. Figures are printed, never asserted.
func TestClusterRollingUpgradeFinishesRunningReleases(t *testing.T) {
	n := max(clusterReleases()/2, 3)
	const after = 3 // releases started once every worker is new
	// The T-0 of the waitingForT0 releases: after the placement and the roll.
	hold := 90*time.Second + time.Duration(n)*2*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute+6*time.Duration(n)*time.Second)
	defer cancel()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))

	from := orDefault(os.Getenv("GOLIVE_UPGRADE_FROM"), defaultUpgradeFrom)
	oldSrc, oldDesc := sourceTree(ctx, t, from)
	newSrc, newDesc := "..", "this checkout, "+describeCheckout(ctx, t)
	if to := os.Getenv("GOLIVE_UPGRADE_TO"); to != "" {
		newSrc, newDesc = sourceTree(ctx, t, to)
	}
	buildAt := time.Now()
	oldBin := buildCLIFrom(t, oldSrc)
	newBin := buildCLIFrom(t, newSrc)
	t.Logf("upgrade from %s to %s (both built in %s)", oldDesc, newDesc, since(buildAt))

	cl := startCluster(ctx, t)
	c, err := cl.Dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	golive := goliveDatabase(t)
	workers := make([]*cliWorker, clusterWorkers)
	oldPIDs, newPIDs := map[int]bool{}, map[int]bool{}
	for i := range workers {
		workers[i] = startClusterWorker(t, oldBin, cl, i, golive.env()...)
		oldPIDs[workers[i].cmd.Process.Pid] = true
	}
	apps := newAppFarm(ctx, t, n+after, discard)
	defer apps.close()

	// The releases stop waiting when a workflow task fails for nondeterminism:
	// such a release would hang until a compatible worker runs.
	relCtx, stopReleases := context.WithCancel(ctx)
	defer stopReleases()
	rolled := make(chan struct{})
	begin := time.Now()
	runs := make([]client.WorkflowRun, n+after)
	errs := make([]error, n+after)
	closed := newClosedTimes(n + after)
	var open atomic.Int64
	var started, wg sync.WaitGroup
	run := func(k int, in workflows.ReleaseInput, held bool) {
		defer wg.Done()
		r, err := startClusterRelease(relCtx, c, in)
		runs[k], errs[k] = r, err
		started.Done()
		if err != nil {
			return
		}
		open.Add(1)
		defer open.Add(-1)
		if held {
			stop := answerInputs(relCtx, c, r.GetID(), in.Spec.Members, time.Second, false)
			select {
			case <-rolled:
			case <-relCtx.Done():
			}
			stop()
		}
		stop := answer(relCtx, c, r.GetID(), in.Spec.Members, time.Second)
		errs[k] = releaseCompleted(relCtx, r)
		stop()
		closed.set(k)
	}
	for k := range n {
		in := workflows.ReleaseInput{Spec: upgradeSpec(t, apps.url(k), k, k%3 == inWatch), Version: "1.1.0", Requester: "erin"}
		if k%3 == waitingForT0 {
			// T-4h at once after the sign-offs, then the timer to T-0.
			in.Window = begin.Add(hold)
			in.Spec.Window.PrepareLead = spec.Duration(hold)
		}
		wg.Add(1)
		started.Add(1)
		go run(k, in, k%3 == heldInApprovals)
	}
	started.Wait()
	for k, err := range errs[:n] {
		if err != nil {
			stopReleases()
			wg.Wait()
			t.Fatalf("release %d: %v", k, err)
		}
	}

	placed := waitPlaced(relCtx, t, c, runs[:n], begin.Add(hold*2/3))
	t.Logf("t+%s: releases in place on the old workers: %s", since(begin), placed)

	nde := watchNondeterminism(ctx, t, c, cl.Namespace())
	defer nde.stop()

	// 1. Every search attribute the new build sets, before it runs.
	if err := namespaces.EnsureSearchAttributes(ctx, c, cl.Namespace(), workflows.SearchAttributeNames()); err != nil {
		t.Fatal(err)
	}
	checkSearchAttributes(ctx, t, c, cl.Namespace())

	// 2. One worker at a time: SIGTERM (the worker stops polling and
	// finishes its tasks), then a worker of the other build in its place.
	isNew := make([]bool, len(workers))
	logIndex := len(workers)
	swap := func(what string, i int, bin string, pids map[int]bool) {
		inFlight := int(open.Load())
		stages := stagesOf(ctx, c, runs[:n], closed)
		sigterm := time.Now()
		if err := workers[i].cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-workers[i].done:
		case <-time.After(time.Minute):
			t.Errorf("%s %d: worker still running a minute after SIGTERM: killed", what, i)
			_ = workers[i].cmd.Process.Kill()
			<-workers[i].done
		}
		stopped := time.Since(sigterm)
		if code := workers[i].cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s %d: worker exited with status %d after SIGTERM; want 0 (a graceful stop)", what, i, code)
		}
		workers[i] = startClusterWorker(t, bin, cl, logIndex, golive.env()...)
		logIndex++
		pid := workers[i].cmd.Process.Pid
		pids[pid] = true
		polling, err := waitPolling(ctx, c, pid)
		if err != nil {
			t.Fatalf("%s %d: %v", what, i, err)
		}
		t.Logf("%s %d: t+%s: %d/%d releases in flight (%s); the worker exited %s after SIGTERM, its successor polled %s after its start (%s after SIGTERM)",
			what, i, since(begin), inFlight, n, stages, msr(stopped), msr(polling), msr(time.Since(sigterm)))
		time.Sleep(5 * time.Second)
	}
	for i := range workers {
		if nde.seen() {
			break
		}
		swap("swap", i, newBin, newPIDs)
		isNew[i] = true
	}
	// 3. Nondeterminism during the roll: roll the workers back, one at a time
	// as well, before any release runs the new code past the change (the
	// held releases stay held until then). The test fails either way.
	rolledBack := false
	if nde.scan(ctx) {
		rolledBack = true
		for i := range workers {
			if isNew[i] {
				swap("rollback", i, oldBin, oldPIDs)
			}
		}
	}
	rolledAt := time.Now()
	close(rolled)
	build := "new"
	if rolledBack {
		build = "old"
	}
	t.Logf("t+%s: every worker is of the %s build; %d/%d releases in flight (%s)", since(begin), build, open.Load(), n, stagesOf(ctx, c, runs[:n], closed))

	// Releases started now take the new build's path from their first task.
	if !rolledBack {
		for k := n; k < n+after; k++ {
			wg.Add(1)
			started.Add(1)
			go run(k, workflows.ReleaseInput{Spec: upgradeSpec(t, apps.url(k), k, false), Version: "1.1.0", Requester: "erin"}, false)
		}
	}
	// Nondeterminism after the roll strands its releases (rolling back now
	// would strand those that ran the new code instead): they are abandoned.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	abandoned := false
	for done := false; !done; {
		select {
		case <-finished:
			done = true
		case <-time.After(5 * time.Second):
			if !rolledBack && !abandoned && nde.seen() {
				t.Logf("t+%s: nondeterminism after the roll: abandoning the releases", since(begin))
				abandoned = true
				stopReleases()
			}
		}
	}
	nde.stop()
	// No workflow of the namespace (releases and their check children) had a
	// workflow task fail for nondeterminism.
	checkNoNondeterminism(ctx, t, c, cl.Namespace())
	if abandoned {
		t.Logf("%d/%d releases completed before they were abandoned", completed(errs), len(errs))
		return
	}
	for k, err := range errs {
		if err != nil && (k < n || !rolledBack) {
			t.Errorf("release %d: %v", k, err)
		}
	}
	last := closed.last()
	t.Logf("%d/%d releases started on the old build completed, the last at t+%s, %s after the roll", completed(errs[:n]), n, last.Sub(begin).Round(time.Second), last.Sub(rolledAt).Round(time.Second))
	golive.checkOncePerKey(ctx, t, "upgrade", apps, 0, runs[:n])
	if rolledBack {
		return
	}
	t.Logf("%d/%d releases started after the roll completed", completed(errs[n:]), after)
	golive.checkOncePerKey(ctx, t, "after the roll", apps, n, runs[n:])
	checkRanOnNewBuild(ctx, t, c, runs[:n], closed, rolledAt, oldPIDs, newPIDs)
	checkNewPath(ctx, t, c, runs[:n], runs[n:])
}

// upgradeSpec is the load test's spec for release k; long is the watch that
// runs through the roll (checks every 30 s for 150 s), otherwise the cluster
// test's (20, 40, 60 s).
func upgradeSpec(t *testing.T, appURL string, k int, long bool) spec.Spec {
	s := loadSpec(t, appURL)
	s.Service = fmt.Sprintf("upgrade-%04d", k)
	s.Watch.Phases = []spec.Phase{{Name: "critical", Until: spec.Duration(40 * time.Second), Every: spec.Duration(20 * time.Second)},
		{Name: "later", Until: spec.Duration(60 * time.Second), Every: spec.Duration(20 * time.Second)}}
	s.Review.After = spec.Duration(60 * time.Second)
	if long {
		s.Watch.Phases = []spec.Phase{{Name: "critical", Until: spec.Duration(60 * time.Second), Every: spec.Duration(30 * time.Second)},
			{Name: "later", Until: spec.Duration(150 * time.Second), Every: spec.Duration(30 * time.Second)}}
		s.Review.After = spec.Duration(150 * time.Second)
	}
	return s
}

// sourceTree is the golive source at rev: rev itself when it is a directory,
// else the commit rev names in this repository, extracted with git archive
// (no worktree left behind). desc names it for the log.
func sourceTree(ctx context.Context, t *testing.T, rev string) (dir, desc string) {
	t.Helper()
	if fi, err := os.Stat(rev); err == nil && fi.IsDir() {
		abs, err := filepath.Abs(rev)
		if err != nil {
			t.Fatal(err)
		}
		return abs, "the tree at " + abs
	}
	hash := git(ctx, t, "rev-parse", "--verify", rev+"^{commit}")
	dir = t.TempDir()
	tarball := filepath.Join(t.TempDir(), "src.tar")
	git(ctx, t, "archive", "--format=tar", "-o", tarball, hash)
	if out, err := exec.CommandContext(ctx, "tar", "-xf", tarball, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v\n%s", rev, err, out)
	}
	return dir, fmt.Sprintf("%s (%s %q)", rev, hash[:7], subject(ctx, t, hash))
}

// describeCheckout names this checkout's commit, and says when the tree differs from it.
func describeCheckout(ctx context.Context, t *testing.T) string {
	d := fmt.Sprintf("%s %q", git(ctx, t, "rev-parse", "--short", "HEAD"), subject(ctx, t, "HEAD"))
	if git(ctx, t, "status", "--porcelain", "--untracked-files=no") != "" {
		d += ", with local changes"
	}
	return d
}

// subject is the start of the commit's subject line.
func subject(ctx context.Context, t *testing.T, rev string) string {
	s := git(ctx, t, "log", "-1", "--format=%s", rev)
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "..."
	}
	return s
}

// git runs git in this repository and returns its output, trimmed.
func git(ctx context.Context, t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "git", append([]string{"-C", ".."}, args...)...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func completed(errs []error) int {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	return n
}

// place is where the release is, in the terms of the places above (-1 elsewhere).
func place(st record.Status) int {
	switch st.Stage {
	case record.StageApprovals:
		for _, sl := range st.Slots {
			if sl.State == record.ItemWaiting {
				return heldInApprovals
			}
		}
	case record.StagePrepare:
		return waitingForT0
	case record.StageWatch:
		return inWatch
	}
	return -1
}

// waitPlaced waits until release k is in place k % 3, or until deadline
// (then the roll starts anyway: what the test checks does not depend on it),
// and says how many are where they should be.
func waitPlaced(ctx context.Context, t *testing.T, c client.Client, runs []client.WorkflowRun, deadline time.Time) string {
	t.Helper()
	want := []int{0, 0, 0}
	for k := range runs {
		want[k%3]++
	}
	var got []int
	for {
		got = []int{0, 0, 0}
		for k, r := range runs {
			if st, err := queryStatus(ctx, c, r.GetID()); err == nil && place(st) == k%3 {
				got[k%3]++
			}
		}
		if slices.Equal(got, want) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(2 * time.Second)
	}
	var parts []string
	for i, name := range placeNames {
		parts = append(parts, fmt.Sprintf("%s %d/%d", name, got[i], want[i]))
	}
	return strings.Join(parts, ", ")
}

// closedTimes is when each release ended, as its waiter saw it (zero while open).
type closedTimes struct {
	mu sync.Mutex
	at []time.Time
}

func newClosedTimes(n int) *closedTimes { return &closedTimes{at: make([]time.Time, n)} }

func (c *closedTimes) set(k int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at[k] = time.Now()
}

func (c *closedTimes) get(k int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at[k]
}

func (c *closedTimes) last() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.MaxFunc(c.at, func(a, b time.Time) int { return a.Compare(b) })
}

// stagesOf counts the open releases by stage (? for a status query that failed).
func stagesOf(ctx context.Context, c client.Client, runs []client.WorkflowRun, closed *closedTimes) string {
	count := map[string]int{}
	for k, r := range runs {
		if !closed.get(k).IsZero() {
			continue
		}
		st, err := queryStatus(ctx, c, r.GetID())
		switch {
		case err != nil:
			count["?"]++
		case place(st) == heldInApprovals:
			count["approvals (held)"]++
		default:
			count[string(st.Stage)]++
		}
	}
	var parts []string
	for _, s := range append([]string{"approvals (held)"}, stageNames()...) {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, count[s]))
		}
	}
	if count["?"] > 0 {
		parts = append(parts, fmt.Sprintf("? %d", count["?"]))
	}
	return strings.Join(parts, ", ")
}

func stageNames() []string {
	var out []string
	for _, s := range record.Stages {
		out = append(out, string(s.Stage))
	}
	return out
}

// waitPolling waits until the worker of process pid polls the release task
// queue (the SDK's identity is pid@host@...) and returns how long it took.
func waitPolling(ctx context.Context, c client.Client, pid int) (time.Duration, error) {
	begin := time.Now()
	prefix := strconv.Itoa(pid) + "@"
	for {
		resp, err := c.DescribeTaskQueue(ctx, workflows.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
		if err == nil {
			for _, p := range resp.GetPollers() {
				if strings.HasPrefix(p.GetIdentity(), prefix) {
					return time.Since(begin), nil
				}
			}
		}
		if time.Since(begin) > time.Minute {
			return 0, fmt.Errorf("not polling %s a minute after its start (last error: %v)", workflows.TaskQueue, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkSearchAttributes fails unless every search attribute the new build
// sets is registered as Keyword.
func checkSearchAttributes(ctx context.Context, t *testing.T, c client.Client, ns string) {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range workflows.SearchAttributeNames() {
		if got := resp.GetCustomAttributes()[name]; got != enums.INDEXED_VALUE_TYPE_KEYWORD {
			t.Fatalf("search attribute %s is %s before the new workers run; want Keyword", name, got)
		}
	}
}

// nondeterminismIn lists the workflow task failures of hist caused by
// nondeterminism (the SDK's TMPRL1100 history mismatch), and counts the
// others by cause.
func nondeterminismIn(hist []*history.HistoryEvent, other map[string]int) []string {
	var out []string
	for _, e := range hist {
		if e.GetEventType() != enums.EVENT_TYPE_WORKFLOW_TASK_FAILED {
			continue
		}
		a := e.GetWorkflowTaskFailedEventAttributes()
		msg := a.GetFailure().GetMessage()
		if a.GetCause() == enums.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR || strings.Contains(msg, "nondeterministic") {
			out = append(out, fmt.Sprintf("event %d by %s: %s: %s", e.GetEventId(), a.GetIdentity(), a.GetCause(), firstLine(msg)))
		} else if other != nil {
			other[a.GetCause().String()]++
		}
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// executions lists the workflows of ns that match query (every one for "").
func executions(ctx context.Context, c client.Client, ns, query string) ([]*workflowservice.ListWorkflowExecutionsResponse, error) {
	var pages []*workflowservice.ListWorkflowExecutionsResponse
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, Query: query, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		pages = append(pages, resp)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return pages, nil
		}
	}
}

// ndeWatch looks for nondeterminism in the open workflows every 5 s while
// the releases run, so that a broken upgrade is seen in seconds, as an
// operator watching the UI would see it, not at the test's timeout.
type ndeWatch struct {
	c     client.Client
	t     *testing.T
	ns    string
	found atomic.Bool
	stop  func()
}

func watchNondeterminism(ctx context.Context, t *testing.T, c client.Client, ns string) *ndeWatch {
	w := &ndeWatch{c: c, t: t, ns: ns}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	w.stop = func() { cancel(); <-done }
	go func() {
		defer close(done)
		for !w.scan(ctx) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Second):
			}
		}
	}()
	return w
}

// seen says whether a scan found nondeterminism.
func (w *ndeWatch) seen() bool { return w.found.Load() }

// scan reads the history of every open workflow and says whether one of
// them (or an earlier scan) found a workflow task failed for nondeterminism.
func (w *ndeWatch) scan(ctx context.Context) bool {
	if w.found.Load() {
		return true
	}
	pages, err := executions(ctx, w.c, w.ns, "ExecutionStatus = 'Running'")
	if err != nil {
		return false
	}
	for _, p := range pages {
		for _, e := range p.GetExecutions() {
			it := w.c.GetWorkflowHistory(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			var hist []*history.HistoryEvent
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					break
				}
				hist = append(hist, ev)
			}
			if found := nondeterminismIn(hist, nil); len(found) > 0 {
				if w.found.CompareAndSwap(false, true) {
					w.t.Logf("nondeterminism in %s: %s", e.GetExecution().GetWorkflowId(), found[0])
				}
				return true
			}
		}
	}
	return false
}

// checkNoNondeterminism reads the history of every workflow of the namespace
// and fails for each workflow task that failed for nondeterminism.
func checkNoNondeterminism(ctx context.Context, t *testing.T, c client.Client, ns string) {
	t.Helper()
	pages, err := executions(ctx, c, ns, "")
	if err != nil {
		t.Fatal(err)
	}
	other := map[string]int{}
	workflowsRead, bad := 0, 0
	for _, p := range pages {
		for _, e := range p.GetExecutions() {
			workflowsRead++
			for _, f := range nondeterminismIn(historyOf(ctx, t, c, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()), other) {
				bad++
				t.Errorf("%s: workflow task failed for nondeterminism: %s", e.GetExecution().GetWorkflowId(), f)
			}
		}
	}
	t.Logf("histories of %d workflows (releases and check children): %d workflow tasks failed for nondeterminism, other workflow task failures by cause: %v", workflowsRead, bad, other)
}

// checkRanOnNewBuild checks that every release still open after the roll
// had workflow tasks completed by a new worker after its first by an old
// one (the history replayed on the new code), and says which build
// scheduled each release's deploy.
func checkRanOnNewBuild(ctx context.Context, t *testing.T, c client.Client, runs []client.WorkflowRun, closed *closedTimes, rolledAt time.Time, oldPIDs, newPIDs map[int]bool) {
	t.Helper()
	build := func(identity string) string {
		pid, _ := strconv.Atoi(identity[:max(strings.Index(identity, "@"), 0)])
		switch {
		case oldPIDs[pid]:
			return "old"
		case newPIDs[pid]:
			return "new"
		}
		return "?"
	}
	replayed, openAfter, retried := 0, 0, 0
	deploys := map[string]map[string]int{}
	for k, r := range runs {
		hist := historyOf(ctx, t, c, r.GetID(), r.GetRunID())
		by := map[int64]string{} // workflow task completed event -> build
		first, onNew := "", 0
		for _, e := range hist {
			switch e.GetEventType() {
			case enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				b := build(e.GetWorkflowTaskCompletedEventAttributes().GetIdentity())
				by[e.GetEventId()] = b
				if first == "" {
					first = b
				}
				if b == "new" {
					onNew++
				}
			case enums.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				if e.GetActivityTaskStartedEventAttributes().GetAttempt() > 1 {
					retried++
				}
			case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				if a := e.GetActivityTaskScheduledEventAttributes(); a.GetActivityType().GetName() == "Deploy" {
					p := placeNames[k%3]
					if deploys[p] == nil {
						deploys[p] = map[string]int{}
					}
					deploys[p][by[a.GetWorkflowTaskCompletedEventId()]]++
				}
			}
		}
		if first != "old" {
			t.Errorf("%s: first workflow task completed by the %s build; want the old one", r.GetID(), first)
		}
		if onNew > 0 {
			replayed++
		}
		if closed.get(k).After(rolledAt) {
			openAfter++
			if onNew == 0 {
				t.Errorf("%s: open after the roll, yet no workflow task completed by a new worker", r.GetID())
			}
		}
	}
	if replayed == 0 {
		t.Error("no release started on the old build ran a workflow task on the new one: the roll exercised nothing")
	}
	t.Logf("releases started on the old build with workflow tasks completed on the new one: %d/%d (every one of the %d still open after the roll); Deploy scheduled by build, per place at the roll: %v; activities that needed a second attempt: %d",
		replayed, len(runs), openAfter, deploys, retried)
}

// checkNewPath reports the GetVersion markers of the releases started before
// and after the roll, and checks that the new ones show their outcome
// (GoliveOutcome, set by this build's releases only).
func checkNewPath(ctx context.Context, t *testing.T, c client.Client, before, after []client.WorkflowRun) {
	t.Helper()
	markers := func(runs []client.WorkflowRun) []string {
		seen := map[string]bool{}
		for _, r := range runs {
			for _, e := range historyOf(ctx, t, c, r.GetID(), r.GetRunID()) {
				a := e.GetMarkerRecordedEventAttributes()
				if e.GetEventType() != enums.EVENT_TYPE_MARKER_RECORDED || a.GetMarkerName() != "Version" {
					continue
				}
				var id string
				if p := a.GetDetails()["change-id"]; p != nil && converter.GetDefaultDataConverter().FromPayloads(p, &id) == nil {
					seen[id] = true
				}
			}
		}
		var out []string
		for id := range seen {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	outcomes := func(runs []client.WorkflowRun) map[string]int {
		out := map[string]int{}
		for _, r := range runs {
			desc, err := c.DescribeWorkflowExecution(ctx, r.GetID(), r.GetRunID())
			if err != nil {
				t.Fatal(err)
			}
			v := "(none)"
			if p := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[workflows.SAOutcome.GetName()]; p != nil {
				_ = converter.GetDefaultDataConverter().FromPayload(p, &v)
			}
			out[v]++
		}
		return out
	}
	ob, oa := outcomes(before), outcomes(after)
	t.Logf("GetVersion changes recorded: releases started before the roll %v, after it %v; %s: before %v, after %v",
		markers(before), markers(after), workflows.SAOutcome.GetName(), ob, oa)
	if oa[string(record.OutcomeCompleted)] != len(after) {
		t.Errorf("releases started after the roll: %s %v; want all %s", workflows.SAOutcome.GetName(), oa, record.OutcomeCompleted)
	}
}
