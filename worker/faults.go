package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// FaultEnv is the environment variable that arms a Fault in worker.New.
//
// It is a TEST HOOK for the kill harness (internal/faults): it makes the worker
// process kill itself at a chosen activity, so tests can prove that a crash at
// any step neither loses a release nor applies a side effect twice. Never set
// it on a production worker.
const FaultEnv = "GOLIVE_FAULT"

// Fault is a crash of the worker process at one activity execution (a test
// hook, see FaultEnv). Its text form is "kill:<when>:<ActivityType>:<n>":
//
//	kill:before:Deploy:1   SIGKILL right before the 1st Deploy runs
//	kill:after:Notify:3    SIGKILL right after the 3rd Notify returned, before
//	                       its result (or error) reaches the server
//
// n counts executions of that activity type in this process, retries included,
// from 1. A process restarted without the variable runs normally.
type Fault struct {
	// After kills once the activity has returned; otherwise before it runs.
	After bool
	// Activity is the activity type name ("Deploy", "Notify", ...).
	Activity string
	// N is which execution of Activity in this process dies (1 = the first).
	N int
	// Kill ends the process; nil sends SIGKILL to the process itself.
	Kill func()
}

// String is the fault in the form ParseFault reads.
func (f Fault) String() string {
	when := "before"
	if f.After {
		when = "after"
	}
	return fmt.Sprintf("kill:%s:%s:%d", when, f.Activity, f.N)
}

// ParseFault reads a fault in the form "kill:<before|after>:<ActivityType>:<n>".
func ParseFault(s string) (Fault, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 4 || parts[0] != "kill" {
		return Fault{}, fmt.Errorf("%s=%q: want kill:<before|after>:<ActivityType>:<n>", FaultEnv, s)
	}
	f := Fault{Activity: parts[2]}
	switch parts[1] {
	case "before":
	case "after":
		f.After = true
	default:
		return Fault{}, fmt.Errorf("%s=%q: when is %q, want before or after", FaultEnv, s, parts[1])
	}
	if f.Activity == "" {
		return Fault{}, fmt.Errorf("%s=%q: no activity type", FaultEnv, s)
	}
	n, err := strconv.Atoi(parts[3])
	if err != nil || n < 1 {
		return Fault{}, fmt.Errorf("%s=%q: n is %q, want a count from 1", FaultEnv, s, parts[3])
	}
	f.N = n
	return f, nil
}

// Interceptor returns the worker interceptor that fires f. Use one interceptor
// per worker: it counts executions.
func (f Fault) Interceptor() interceptor.WorkerInterceptor {
	return &faultInterceptor{f: f}
}

// faultInterceptors returns the interceptor of the fault armed by FaultEnv, if
// any. A malformed value arms nothing and is logged as an error.
func faultInterceptors(log *slog.Logger) []interceptor.WorkerInterceptor {
	v := os.Getenv(FaultEnv)
	if v == "" {
		return nil
	}
	if log == nil {
		log = slog.Default()
	}
	f, err := ParseFault(v)
	if err != nil {
		log.Error("fault injection: ignored", "error", err)
		return nil
	}
	log.Warn("fault injection armed: this worker will kill itself (test hook)", "fault", f.String())
	return []interceptor.WorkerInterceptor{f.Interceptor()}
}

type faultInterceptor struct {
	interceptor.WorkerInterceptorBase
	f    Fault
	seen atomic.Int64
}

func (i *faultInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	a := &faultActivity{i: i}
	a.Next = next
	return a
}

type faultActivity struct {
	interceptor.ActivityInboundInterceptorBase
	i *faultInterceptor
}

func (a *faultActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	fire := info.ActivityType.Name == a.i.f.Activity && a.i.seen.Add(1) == int64(a.i.f.N)
	if fire && !a.i.f.After {
		a.i.kill(info, "")
	}
	res, err := a.Next.ExecuteActivity(ctx, in)
	if fire && a.i.f.After {
		outcome := "returned a result"
		if err != nil {
			outcome = "returned an error"
		}
		a.i.kill(info, outcome)
	}
	return res, err
}

// kill says what it does on stderr (unbuffered, so the line survives), then
// ends the process. With the default Kill it never returns.
func (i *faultInterceptor) kill(info activity.Info, outcome string) {
	fmt.Fprintf(os.Stderr, "golive fault %s: killing the worker (pid %d) at %s, activity %s attempt %d of workflow %s run %s %s\n",
		i.f, os.Getpid(), info.ActivityType.Name, info.ActivityID, info.Attempt,
		info.WorkflowExecution.ID, info.WorkflowExecution.RunID, outcome)
	if i.f.Kill != nil {
		i.f.Kill()
		return
	}
	// os.Process.Kill is SIGKILL on Unix: no deferred call, no graceful stop,
	// no last RPC to the server.
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	select {} // the signal is on its way: run nothing more in this goroutine
}
