package faults_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/golive/golive/internal/devserver"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// casesAtOnce is how many kill cases run at the same time unless -parallel is
// given. Most of a case's time is spent waiting for a timeout, not computing,
// but all 39 at once on two cores starve the embedded server: releases that
// take 30 s alone did not finish in 5 minutes.
const casesAtOnce = 10

func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(casesAtOnce))
	}
	os.Exit(m.Run())
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// buildWorker builds the production worker binary (golive without the
// embedded server) once for this test run.
func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "golive")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the worker: %v", err)
	}
	begin := time.Now()
	cmd := exec.Command(goBin, "build", "-tags", "nodevserver", "-o", bin, "github.com/golive/golive/cmd/golive")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the worker: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(begin).Round(time.Millisecond))
	return bin
}

// startServer runs the embedded Temporal server on a SQLite file in a temp dir.
func startServer(t *testing.T) *devserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, devserver.Options{
		Address: "127.0.0.1:0", NoUI: true, DataDir: t.TempDir(),
		SearchAttributes: workflows.SearchAttributeNames(), Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// dial connects to namespace ns of srv.
func dial(t *testing.T, addr, ns string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: ns, Logger: sdklog.NewStructuredLogger(quiet())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// createNamespaces registers each namespace with golive's search attributes
// and returns once every one of them accepts calls.
func createNamespaces(t *testing.T, admin client.Client, addr string, names []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	attrs := map[string]enums.IndexedValueType{}
	for _, name := range workflows.SearchAttributeNames() {
		attrs[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	for _, ns := range names {
		_, err := admin.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(72 * time.Hour),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err != nil && !errors.As(err, &exists) {
			t.Fatalf("register namespace %s: %v", ns, err)
		}
	}
	for _, ns := range names {
		for {
			_, err := admin.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: attrs})
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("search attributes of namespace %s: %v", ns, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		c := dial(t, addr, ns)
		for {
			_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: workflows.SearchAttributeNames()[0] + " = 'x'"})
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("namespace %s not usable: %v", ns, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		// Visibility answering is not enough: the history service must know the
		// namespace too, which a workflow start proves (nothing runs it).
		for {
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			run, err := c.ExecuteWorkflow(rctx, client.StartWorkflowOptions{ID: "probe-" + ns, TaskQueue: "probe"}, "Probe")
			rcancel()
			if err == nil {
				_ = c.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), "namespace probe")
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("namespace %s does not start workflows: %v", ns, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// proc is one `golive worker` child process.
type proc struct {
	cmd  *exec.Cmd
	Log  string
	done chan struct{}
	err  error
}

// startWorker runs `golive worker` on namespace ns with extra environment,
// appending its stdout and stderr to logPath.
func startWorker(t *testing.T, bin, addr, ns, logPath string, env ...string) *proc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "worker", "--address", addr, "--namespace", ns, "--log-level", "info",
		"--directory", "../../examples/directory/demo.yaml", "--directory-admins", "../../examples/directory/admins")
	cmd.Env = append(childEnv(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// childEnv is this process's environment without anything that would steer
// the worker elsewhere (Temporal profile, proxies, an armed fault).
func childEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "TEMPORAL_"), strings.HasPrefix(k, "GOLIVE_"),
			strings.EqualFold(k, "https_proxy"), strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "no_proxy"),
			k == "SSL_CERT_FILE", k == "SSL_CERT_DIR":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Pid is the child's process ID.
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// Stop ends the worker gracefully (SIGINT), or kills it after 15 s.
func (p *proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Killed reports whether the process ended by SIGKILL.
func (p *proc) Killed() bool {
	select {
	case <-p.done:
	default:
		return false
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// faultLine returns the line the fault hook printed before killing, if any.
func (p *proc) faultLine() string {
	f, err := os.Open(p.Log)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "golive fault ") {
			return sc.Text()
		}
	}
	return ""
}

// responder answers every waiting attestation and sign-off of one release by
// Update, as the people of the spec would, until stopped. Calls fail while no
// worker runs (a query needs one): it simply tries again.
func responder(ctx context.Context, c client.Client, id string, s spec.Spec) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			time.Sleep(250 * time.Millisecond)
			st, err := status(ctx, c, id)
			if err != nil {
				continue
			}
			if st.Stage == record.StageDone {
				return
			}
			if st.Waiting == nil || st.Waiting.Kind != record.WaitPerson || st.Held {
				// Answer only what the release asks for, after it asked: its
				// requests (notifications) then come in a fixed order, so the
				// kill cases can count them.
				continue
			}
			send := func(name string, arg any) {
				uctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				h, err := c.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
				if err == nil {
					_ = h.Get(uctx, nil)
				}
			}
			for _, it := range st.Items {
				if it.State != record.ItemWaiting {
					continue
				}
				for _, p := range s.Members(it.Role) {
					if p.ID != st.Requester {
						send(workflows.AttestName, workflows.Attest{Person: p.ID, Items: []string{it.ID}})
						break
					}
				}
			}
			for _, sl := range st.Slots {
				if sl.State != record.ItemWaiting {
					continue
				}
				for _, p := range s.Members(sl.Role) {
					send(workflows.SignoffName, workflows.Signoff{Slot: sl.ID, Person: p.ID, Decision: workflows.Approve})
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// status queries the release's status (needs a running worker).
func status(ctx context.Context, c client.Client, id string) (record.Status, error) {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var st record.Status
	v, err := c.QueryWorkflow(qctx, id, "", workflows.StatusQuery)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

// runHistory is the history of one workflow run.
type runHistory struct {
	WorkflowID, RunID string
	Events            []*history.HistoryEvent
}

// histories returns the release's history and those of its monitoring
// children (the windows that exist).
func histories(ctx context.Context, t *testing.T, c client.Client, releaseID string) []runHistory {
	t.Helper()
	var out []runHistory
	// The release, then each check child of its watch windows (CheckID, numbered
	// from 1 until one is missing).
	ids := []string{releaseID}
	for _, window := range []string{workflows.WindowWatch, workflows.WindowRollback} {
		for n := 1; ; n++ {
			id := workflows.CheckID(releaseID, window, n)
			if _, err := c.DescribeWorkflowExecution(ctx, id, ""); err != nil {
				var nf *serviceerror.NotFound
				if !errors.As(err, &nf) {
					t.Fatalf("describe %s: %v", id, err)
				}
				break
			}
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		desc, err := c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Fatalf("describe %s: %v", id, err)
		}
		rh := runHistory{WorkflowID: id, RunID: desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()}
		it := c.GetWorkflowHistory(ctx, id, rh.RunID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", id, err)
			}
			rh.Events = append(rh.Events, e)
		}
		out = append(out, rh)
	}
	return out
}

// fmtDur prints a duration rounded for logs.
func fmtDur(d time.Duration) string { return fmt.Sprint(d.Round(100 * time.Millisecond)) }
