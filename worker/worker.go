// Package worker builds golive's Temporal worker: activity structs with their
// clients, and every workflow and activity registration. worker.New is the one
// place that registers everything; the worker command and the tests both call it.
package worker

import (
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/golive/golive/activities"
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
}

// Registry is what both a real worker and the SDK's test environment offer.
type Registry interface {
	RegisterWorkflow(w any)
	RegisterActivity(a any)
}

// New builds a worker on c that runs every golive workflow and activity.
func New(c client.Client, o Options) sdkworker.Worker {
	tq := o.TaskQueue
	if tq == "" {
		tq = workflows.TaskQueue
	}
	w := sdkworker.New(c, tq, sdkworker.Options{})
	Register(w, o)
	return w
}

// Register registers every workflow and activity on r.
func Register(r Registry, o Options) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	r.RegisterWorkflow(workflows.ReleaseWorkflow)
	r.RegisterWorkflow(workflows.MonitorWorkflow)
	r.RegisterActivity(&activities.Prober{HTTP: o.HTTP, Logger: o.Logger})
	r.RegisterActivity(&activities.Deployer{HTTP: o.HTTP, Logger: o.Logger})
	r.RegisterActivity(&activities.Metrics{HTTP: o.HTTP})
	r.RegisterActivity(&activities.Database{Logger: o.Logger})
	r.RegisterActivity(&activities.Notifier{Logger: o.Logger})
	r.RegisterActivity(&activities.Recorder{Logger: o.Logger})
}
