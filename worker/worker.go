// Package worker builds golive's Temporal worker: activity structs with their
// clients, and every workflow and activity registration. worker.New is the one
// place that registers everything; the worker command and the tests both call it.
package worker

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/evidencestore"
	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/rdsbackup"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/workflows"
)

// Options configures the worker's clients.
type Options struct {
	// Logger receives activity logs (notifications in log mode among them).
	Logger *slog.Logger
	// HTTP is the client probes, deploys and metric providers use (default: 30 s timeout).
	HTTP *http.Client
	// TaskQueue overrides workflows.TaskQueue (tests use their own).
	TaskQueue string
	// Secrets resolves secret references inside activities (default: env:// and
	// secret://aws/ through Secrets Manager).
	Secrets *secrets.Resolver
	// AuditURL is a reference to golive's own database holding the audit ledger
	// (default env://GOLIVE_AUDIT_URL; unset there means no ledger).
	AuditURL string
	// Evidence is where the evidence pack and incident records go (golive's
	// database or S3, evidencestore.Open); nil: each release's evidence.dir on
	// this worker's disk, which only a single worker should use.
	Evidence evidencestore.Store
	// Directory is the team directory releases pin at their start (people,
	// roles, keys, policy); nil means none, and every release is refused at
	// its plan stage with the reason.
	Directory *activities.Directory
	// ApprovalLinks, when set, puts each recipient's short link to the
	// approval pages in every notice that asks them to act
	// (approvals.Linker; golive worker --approvals-url --approvals-link-key-file).
	ApprovalLinks func(release, person string) string
	// StopTimeout is how long Stop lets running activities finish before it
	// cancels them (a deploy or a migration half way, retried on another
	// worker after its timeout); 0 cancels them at once.
	StopTimeout time.Duration
	// Interceptors are added to the worker's own; worker.New appends the test
	// hook armed by GOLIVE_FAULT (see FaultEnv), if any.
	Interceptors []interceptor.WorkerInterceptor
}

// Registry is what both a real worker and the SDK's test environment offer.
type Registry interface {
	RegisterWorkflow(w any)
	RegisterActivity(a any)
}

// StickyTimeout is how long a workflow task waits for the worker that last ran
// the workflow (its sticky queue) before any worker takes it. The SDK's 5 s
// default is what a release loses after its worker dies, once per workflow with
// a task pending: the release and each watch check in flight. golive's
// histories are small (a replay on another worker costs milliseconds), so it
// trades cache hits for a quicker recovery.
const StickyTimeout = time.Second

// New builds a worker on c that runs every golive workflow and activity.
func New(c client.Client, o Options) sdkworker.Worker {
	tq := o.TaskQueue
	if tq == "" {
		tq = workflows.TaskQueue
	}
	w := sdkworker.New(c, tq, sdkworker.Options{
		Interceptors:                 slices.Concat(o.Interceptors, faultInterceptors(o.Logger)),
		StickyScheduleToStartTimeout: StickyTimeout,
		WorkerStopTimeout:            o.StopTimeout,
	})
	Register(w, o)
	return w
}

// Register registers every workflow and activity on r.
func Register(r Registry, o Options) {
	o = o.withDefaults()
	r.RegisterWorkflow(workflows.ReleaseWorkflow)
	r.RegisterWorkflow(workflows.MonitorWorkflow)
	r.RegisterWorkflow(workflows.CheckWorkflow)
	r.RegisterWorkflow(workflows.DrillWorkflow)
	ch := checkers(o)
	r.RegisterActivity(ch.Prober)
	r.RegisterActivity(&activities.Deployer{HTTP: o.HTTP, Logger: o.Logger})
	r.RegisterActivity(ch.Metrics)
	r.RegisterActivity(ch.Database)
	r.RegisterActivity(ch.Audit)
	r.RegisterActivity(&activities.Notifier{Logger: o.Logger, Secrets: o.Secrets, HTTP: o.HTTP, Ledger: &activities.NotifyLedger{URL: o.AuditURL, Secrets: o.Secrets, Logger: o.Logger}, HeartbeatNow: activities.ServerHeartbeat, Link: o.ApprovalLinks})
	r.RegisterActivity(&activities.Recorder{Logger: o.Logger, Store: o.Evidence})
	if o.Directory == nil {
		o.Directory = &activities.Directory{}
	}
	r.RegisterActivity(o.Directory)
}

// withDefaults fills the clients Options leaves unset.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Secrets == nil {
		// env:// from the worker's environment, secret://aws/... from Secrets Manager
		// (default AWS credential chain, loaded on first use).
		o.Secrets = &secrets.Resolver{Backends: map[string]secrets.Backend{"aws": &secrets.AWS{}}}
	}
	if o.AuditURL == "" {
		o.AuditURL = "env://GOLIVE_AUDIT_URL"
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	return o
}

// Checkers are the readiness check activities as a worker built from o runs
// them, for golive plan to run the gate's automatic checks now, outside a release.
func Checkers(o Options) activities.Checkers { return checkers(o.withDefaults()) }

func checkers(o Options) activities.Checkers {
	rds := &rdsbackup.Backups{}
	return activities.Checkers{
		Audit:   &activities.Audit{URL: o.AuditURL, Secrets: o.Secrets},
		Prober:  &activities.Prober{HTTP: o.HTTP, Logger: o.Logger, Secrets: o.Secrets},
		Metrics: &activities.Metrics{HTTP: o.HTTP, Secrets: o.Secrets, CloudWatch: metrics.CloudWatchDefaultFactory()},
		Database: &activities.Database{Logger: o.Logger, Secrets: o.Secrets, HeartbeatNow: activities.ServerHeartbeat,
			VerifyRDS: func(ctx context.Context, in activities.BackupInput) (activities.Result, error) {
				res, err := rds.Verify(ctx, in.ReleaseID, in.Phase, in.Backup)
				return activities.Result{State: res.State, Value: res.Value, Detail: res.Detail}, err
			},
			CheckRDS: func(ctx context.Context, in activities.CheckInput) (activities.Result, error) {
				if in.Check.Backup == nil {
					return activities.Result{State: record.ItemUnavailable, Detail: "not configured: the check carries no backup settings"}, nil
				}
				res, err := rds.Verify(ctx, in.ReleaseID, "readiness", *in.Check.Backup)
				return activities.Result{State: res.State, Value: res.Value, Detail: res.Detail}, err
			},
		},
	}
}

// DemoDirectory is the team directory the demo ships (examples/directory:
// the people of examples/demo.yaml, signed by two demo admins), used by
// `golive demo` and the tests; root is the repository's root.
func DemoDirectory(root string) *activities.Directory {
	return &activities.Directory{
		Path:       filepath.Join(root, "examples", "directory", "demo.yaml"),
		AdminsFile: filepath.Join(root, "examples", "directory", "admins"),
	}
}
