package worker_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// overheadRounds is how many rounds BenchmarkOrchestrationOverhead measures
// after its warm-up (GOLIVE_OVERHEAD_ROUNDS overrides it).
func overheadRounds() int {
	if n, err := strconv.Atoi(os.Getenv("GOLIVE_OVERHEAD_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 7
}

// overheadQueue is the stand-in worker's task queue: the releases measured
// never reach a worker with golive's real activities.
const overheadQueue = "golive-overhead"

// t0Steps are the T-0 steps from the migrations to the health check, in
// order; the audit appends that run beside them are not steps.
func t0Steps() []string {
	return []string{"Migrate", "Notify", "Deploy", "Notify", "VerifyVersion", "Smoke", "Sample", "Health"}
}

// BenchmarkOrchestrationOverhead measures what golive's orchestration costs
// on top of Temporal's own, on the in-process server: ReleaseWorkflow with
// every activity replaced by a stand-in that returns at once
// (registerStandIns), answered by Update as soon as a notice asks for people,
// and after each release, on the same worker, bare workflows of no-op
// activities: its activities in the groups it scheduled them (bareBatches),
// the same without the audit appends, and all of them one by one
// (bareChain). It prints the median and range over the rounds of:
//   - busy time: the union of the stretches during which the release or one of
//     its check children had a workflow task, an activity, a child start or an
//     outgoing signal in flight (busySpans), so timers and waits for people
//     are left out, against the same for the bare workflows;
//   - the T-0 segment, Migrate scheduled to Health closed, per step, against an
//     activity of the bare chain.
//
// It runs on a server with the default dynamic config, then with the transfer
// queue unthrottled (unthrottledPollRPS): only the second measures the orchestration.
func BenchmarkOrchestrationOverhead(b *testing.B) {
	b.Run("server-defaults", func(b *testing.B) {
		o := startOverheadRig(b, startServerTB(b))
		for i := 0; i < b.N; i++ {
			o.measure(b, "in-process server, default config")
			fmt.Println(serverBound)
		}
	})
	b.Run("transfer-poll-unthrottled", func(b *testing.B) {
		o := startOverheadRig(b, startServerTB(b, unthrottledTransferQueue()))
		for i := 0; i < b.N; i++ {
			o.measure(b, fmt.Sprintf("in-process server, %s %d", transferPollRPS, unthrottledPollRPS))
		}
	})
}

// unthrottledPollRPS replaces the history service's default of 20 reads a
// second of its transfer queue (per shard). Every workflow task and activity
// task a workflow schedules is handed to matching from that queue, so once
// the limiter's burst of about 20 is spent, each step of a sequential workflow
// waits up to 50 ms for the next read, golive's and the bare chain's alike:
// that floor, not the orchestration, is what a long run measures on a
// default server (a short bare chain stays within the burst).
const unthrottledPollRPS = 10000

// serverBound is what the figures on a server with the default transfer queue reads mean.
const serverBound = "  (server-bound: past the limiter's burst, each step waits for the transfer queue's next read, 20 a second per shard, golive's and the bare workflows' alike;\n" +
	"  the ratios count reads, not orchestration: the release, with more activities side by side, needs fewer reads per activity)"

// transferPollRPS is that setting's name, as the server's dynamic config spells it.
const transferPollRPS = "history.transferProcessorMaxPollRPS"

// unthrottledTransferQueue is the in-process server's dynamic config
// (temporaltest's own setting kept) with the transfer queue read at unthrottledPollRPS.
func unthrottledTransferQueue() temporal.ServerOption {
	return temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
		dynamicconfig.TransferProcessorMaxPollRPS.Key():             []dynamicconfig.ConstrainedValue{{Value: unthrottledPollRPS}},
	})
}

// overheadRig is a worker running the release with stand-ins and the bare workflows.
type overheadRig struct {
	c     client.Client
	asked chan struct{}
	next  atomic.Int64
}

func startOverheadRig(tb testing.TB, c client.Client) *overheadRig {
	tb.Helper()
	w := sdkworker.New(c, overheadQueue, sdkworker.Options{StickyScheduleToStartTimeout: worker.StickyTimeout})
	o := &overheadRig{c: c, asked: make(chan struct{}, 1)}
	registerStandIns(tb, w, o.asked)
	w.RegisterWorkflow(bareChain)
	w.RegisterWorkflow(bareBatches)
	w.RegisterActivity(noop)
	if err := w.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(w.Stop)
	return o
}

// overheadRound is what one release and its bare workflows measured.
type overheadRound struct {
	release, children, bareChain []*history.HistoryEvent
	// groups are the activities of the release, then of its check children,
	// as they were scheduled together; activities counts them.
	groups             []group
	activities, checks int
	wall               time.Duration
	// busy is the release's busy time, with its check children's;
	// busyNoInputs leaves out the workflow tasks that took people's Updates,
	// which the bare workflows have no counterpart of.
	busy, busyNoInputs time.Duration
	// The bare workflows' busy times: the release's groups of activities, the
	// same without the audit appends, and all of them one by one.
	grouped, steps, chain time.Duration
	step, chainStep       time.Duration
	// stepLegs and chainLegs split step and chainStep (see segmentLegs).
	stepLegs, chainLegs legs
	stages              []*stageRow
}

// measure runs a warm-up round and overheadRounds rounds, and prints their
// figures, labelled where.
func (o *overheadRig) measure(b *testing.B, where string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	o.round(ctx, b) // the first workflows on the queue fill caches and connections
	var rounds []overheadRound
	for range overheadRounds() {
		rounds = append(rounds, o.round(ctx, b))
	}
	dur := func(f func(r overheadRound) time.Duration) stats {
		xs := make([]float64, len(rounds))
		for i, r := range rounds {
			xs[i] = ms(f(r))
		}
		return statsOf(xs)
	}
	ratio := func(f, g func(r overheadRound) time.Duration) stats {
		xs := make([]float64, len(rounds))
		for i, r := range rounds {
			xs[i] = float64(f(r)) / float64(g(r))
		}
		return statsOf(xs)
	}
	busy := func(r overheadRound) time.Duration { return r.busyNoInputs }
	grouped := func(r overheadRound) time.Duration { return r.grouped }
	steps := func(r overheadRound) time.Duration { return r.steps }
	chain := func(r overheadRound) time.Duration { return r.chain }
	step := func(r overheadRound) time.Duration { return r.step }
	chainStep := func(r overheadRound) time.Duration { return r.chainStep }
	last := rounds[len(rounds)-1]
	fmt.Printf("orchestration overhead, %s: %d rounds, median (min-max)\n", where, len(rounds))
	fmt.Printf("  release with stand-in activities: %d activities, %d check children, %d + %d history events; wall %s ms, busy %s ms, without the workflow tasks of people's Updates %s ms\n",
		last.activities, last.checks, len(last.release), len(last.children), dur(func(r overheadRound) time.Duration { return r.wall }),
		dur(func(r overheadRound) time.Duration { return r.busy }), dur(busy))
	fmt.Printf("  whole release (busy, without Updates) against bare workflows of no-ops: its activities in its groups %s ms: ratio %s; the same without the audit appends %s ms: ratio %s; all one by one %s ms: ratio %s\n",
		dur(grouped), ratio(busy, grouped), dur(steps), ratio(busy, steps), dur(chain), ratio(busy, chain))
	fmt.Printf("  T-0, per step of %v: release %s ms, bare chain %s ms: ratio %s\n", t0Steps(), dur(step), dur(chainStep), ratio(step, chainStep))
	for _, leg := range []struct {
		name string
		of   func(legs) time.Duration
	}{{"activity, scheduled to closed", func(l legs) time.Duration { return l.activity }},
		{"workflow task, scheduled to started", func(l legs) time.Duration { return l.taskWait }},
		{"workflow task, started to completed (on the worker)", func(l legs) time.Duration { return l.taskRun }}} {
		fmt.Printf("    of which %s: release %s ms, bare chain %s ms\n", leg.name,
			dur(func(r overheadRound) time.Duration { return leg.of(r.stepLegs) }), dur(func(r overheadRound) time.Duration { return leg.of(r.chainLegs) }))
	}
	printBreakdown(last)
	if testing.Verbose() {
		fmt.Println("  last round, T-0 segment of the release:")
		printT0Timeline(last.release)
	}
	b.ReportMetric(ratio(busy, grouped).med, "release-ratio")
	b.ReportMetric(ratio(busy, steps).med, "release-steps-ratio")
	b.ReportMetric(ratio(step, chainStep).med, "t0-ratio")
	b.ReportMetric(dur(busy).med, "release-busy-ms")
	b.ReportMetric(dur(step).med, "t0-ms/step")
	b.ReportMetric(dur(chainStep).med, "bare-ms/step")
}

func (s stats) String() string {
	if s.hi < 10 {
		return fmt.Sprintf("%.2f (%.2f-%.2f)", s.med, s.lo, s.hi)
	}
	return fmt.Sprintf("%.0f (%.0f-%.0f)", s.med, s.lo, s.hi)
}

// round runs one release to its end, then the bare workflows of its activities.
func (o *overheadRig) round(ctx context.Context, b *testing.B) overheadRound {
	b.Helper()
	s := compressedSpec(b, "http://127.0.0.1:9") // nothing listens there: the stand-ins answer
	s.Service = fmt.Sprintf("overhead-%d", o.next.Add(1))
	id := workflows.ReleaseID(s.Service, s.Environment)
	run, err := o.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: overheadQueue, WorkflowExecutionErrorWhenAlreadyStarted: true},
		workflows.ReleaseWorkflow, workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin"})
	if err != nil {
		b.Fatal(err)
	}
	stop := answerWhenAsked(ctx, o.c, id, s.Members, o.asked)
	var out workflows.ReleaseResult
	err = workflows.EndedResult(run.Get(ctx, &out), &out)
	stop()
	if err != nil || out.Outcome != record.OutcomeCompleted {
		b.Fatalf("%s: %s (%s) %v", id, out.Outcome, out.Reason, err)
	}
	var r overheadRound
	r.release = historyOf(ctx, b, o.c, id, run.GetRunID())
	spans := busySpans(r.release)
	r.groups = activityGroups(r.release, "")
	var checks []span
	for _, ch := range childRuns(r.release) {
		h := historyOf(ctx, b, o.c, ch.GetWorkflowId(), ch.GetRunId())
		r.children = append(r.children, h...)
		checks = append(checks, busySpans(h)...)
		r.groups = append(r.groups, activityGroups(h, checksRow)...)
		r.checks++
	}
	for _, n := range sizes(r.groups) {
		r.activities += n
	}
	spans = append(spans, checks...)
	r.wall, r.busy, r.busyNoInputs = wallTime(r.release), covered(spans), covered(withoutInputs(spans))
	r.step = segmentStep(r.release, t0Steps())

	grouped := o.bare(ctx, b, bareBatches, sizes(r.groups))
	r.grouped = covered(busySpans(grouped))
	r.steps = covered(busySpans(o.bare(ctx, b, bareBatches, sizes(r.groups, appendActivity))))
	r.bareChain = o.bare(ctx, b, bareChain, r.activities)
	r.chain = covered(busySpans(r.bareChain))
	r.chainStep = segmentStep(r.bareChain, repeat("noop", r.activities)) // the whole chain: its steps are all alike
	r.stepLegs, r.chainLegs = segmentLegs(r.release, t0Steps()), segmentLegs(r.bareChain, repeat("noop", r.activities))
	if r.step == 0 || r.chainStep == 0 {
		b.Fatalf("%s: no T-0 segment %v in its history", id, t0Steps())
	}
	r.stages = byStage(r.release, checks, grouped, r.groups)
	return r
}

// bare runs a bare workflow on the rig's queue and returns its history.
func (o *overheadRig) bare(ctx context.Context, b *testing.B, wf, arg any) []*history.HistoryEvent {
	run, err := o.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: overheadQueue}, wf, arg)
	if err == nil {
		err = run.Get(ctx, nil)
	}
	if err != nil {
		b.Fatalf("bare workflow: %v", err)
	}
	return historyOf(ctx, b, o.c, run.GetID(), run.GetRunID())
}

// bareBatches runs groups of no-op activities one group after the other, the
// activities of a group side by side.
func bareBatches(ctx workflow.Context, sizes []int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for _, n := range sizes {
		futs := make([]workflow.Future, n)
		for i := range futs {
			futs[i] = workflow.ExecuteActivity(ctx, noop)
		}
		for _, f := range futs {
			if err := f.Get(ctx, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// answerWhenAsked answers what release id waits for people each time a notice
// asks them (asked) and every second besides, until it is done or stop is
// called. Each answer starts with a status query, load on the release's
// worker and server that the bare workflows do not get: the fallback is rare.
func answerWhenAsked(ctx context.Context, c client.Client, id string, members func(string) []spec.Person, asked <-chan struct{}) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-asked:
			case <-time.After(time.Second):
			}
			if answerOnce(ctx, c, id, members, true) {
				return
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// printBreakdown prints where a round's release spent its busy time: by
// stage, beside the same groups of no-ops in the bare workflow, and its
// workflow tasks and activities beside the bare chain's.
func printBreakdown(r overheadRound) {
	fmt.Println("  last round by stage: release busy ms without Updates (workflow tasks; step activities + notices + audit appends), Updates ms (tasks); bare, same groups, ms:")
	for _, st := range r.stages {
		fmt.Printf("    %-24s %6.1f (%2d; %2d + %2d + %2d)  %5.1f (%2d)  %6.1f\n", st.stage, ms(st.busy), st.tasks, st.steps, st.notices, st.appends, ms(st.inputs), st.inputTasks, ms(st.bare))
	}
	counts := map[enums.EventType]int{}
	countEvents(r.release, counts)
	countEvents(r.children, counts)
	fmt.Printf("  events by type, release + check children:")
	for _, t := range sortedTypes(counts) {
		fmt.Printf(" %s %d,", shortType(t), counts[t])
	}
	fmt.Println()
	for _, side := range []struct {
		name string
		hist []*history.HistoryEvent
	}{{"release", r.release}, {"check children", r.children}, {"bare chain", r.bareChain}} {
		tasks := workflowTasks(side.hist)
		var wait, run time.Duration
		inputs := 0
		for _, t := range tasks {
			wait, run = wait+t.wait, run+t.run
			if t.input {
				inputs++
			}
		}
		toStart, toClose, n := activityLegs(side.hist)
		fmt.Printf("  %s: %d workflow tasks (%d taking an Update), %.1f ms waiting for a worker + %.1f ms on it (%.2f ms each); %d activities, %.1f ms scheduled->started + %.1f ms started->closed (%.2f ms each)\n",
			side.name, len(tasks), inputs, ms(wait), ms(run), ms(wait+run)/float64(max(len(tasks), 1)), n, ms(toStart), ms(toClose), ms(toStart+toClose)/float64(max(n, 1)))
	}
}
