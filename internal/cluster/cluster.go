// Package cluster runs the Temporal cluster of golive's compose stack
// (docker-compose.yml) without containers: the real server and SQL schema tool
// built from the go.temporal.io/server module golive depends on, the four
// services (frontend, history, matching, worker) as separate processes on
// loopback, persistence and SQL visibility on the local PostgreSQL (plugin
// postgres12). Each process is configured as the temporalio/server image
// configures its one process: `temporal-server start` renders the template
// embedded in the server (common/config/config_template_embedded.yaml, what the
// image's entrypoint uses) from environment variables, and those variables are
// the compose file's own, read with compose-go (internal/compose), with only the
// host addresses and ports changed to loopback (see Env). The schema is applied
// as the temporal-schema job applies it, and the namespace and golive's search
// attributes registered as the temporal-setup job does.
//
// `make cluster` (cmd/golive-cluster up) starts it and stops it on Ctrl-C;
// `make cluster-down` drops its databases and removes .golive/cluster; the
// cluster test in worker/ (`make test-cluster`) starts it in the test and kills
// its processes.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/golive/golive/internal/namespaces"
	"github.com/golive/golive/workflows"
)

// The Temporal services, in the order they start (the worker service needs
// the frontend); they stop in reverse.
const (
	History  = "history"
	Matching = "matching"
	Frontend = "frontend"
	Worker   = "worker"
)

// Services lists the services in start order.
var Services = []string{History, Matching, Frontend, Worker}

// Compose services the cluster reads its settings from.
const (
	composeServer = "temporal"
	composeSchema = "temporal-schema"
	composeSetup  = "temporal-setup"
)

// dynamicConfigTarget is where the compose stack mounts the server's dynamic
// config, the template's default DYNAMIC_CONFIG_FILE_PATH.
const dynamicConfigTarget = "/etc/temporal/config/dynamicconfig/docker.yaml"

// Errors of Start and Down.
var (
	ErrExited     = errors.New("temporal service exited")
	ErrNotRunning = errors.New("no such service running")
)

// Cluster is a running cluster started by Start.
type Cluster struct {
	o    Options
	plan *Plan
	log  *slog.Logger

	mu     sync.Mutex
	procs  map[string]*proc
	failed chan string // a service exited without being asked
}

// Start builds the plan from the compose file, applies the schema, starts
// the services, waits for the frontend and prepares the namespace. The
// cluster runs until Stop (ctx only bounds the start).
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if err := o.setDefaults(ctx); err != nil {
		return nil, err
	}
	plan, err := NewPlan(ctx, o)
	if err != nil {
		return nil, err
	}
	c := &Cluster{o: o, plan: plan, log: o.Logger, procs: map[string]*proc{}, failed: make(chan string, len(Services))}
	if err := plan.write(); err != nil {
		return nil, err
	}
	if err := c.applySchema(ctx); err != nil {
		return nil, err
	}
	for _, svc := range Services {
		if err := c.startService(ctx, svc); err != nil {
			c.Stop()
			return nil, err
		}
	}
	if err := c.prepareNamespace(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	select {
	case svc := <-c.failed:
		c.Stop()
		return nil, fmt.Errorf("%w while the cluster started: %s (log %s)", ErrExited, svc, filepath.Join(o.StateDir, "logs", svc+".log"))
	default:
	}
	return c, nil
}

// FrontendAddress is the frontend's gRPC host:port.
func (c *Cluster) FrontendAddress() string { return c.plan.Frontend }

// Namespace is the namespace registered for golive.
func (c *Cluster) Namespace() string { return c.plan.Namespace }

// Plan is what the cluster runs.
func (c *Cluster) Plan() *Plan { return c.plan }

// Failed reports the name of a service whose process exited without Kill or Stop.
func (c *Cluster) Failed() <-chan string { return c.failed }

// Pid is the process ID of a running service (0 when it does not run).
func (c *Cluster) Pid(svc string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.procs[svc]; p != nil {
		return p.pid()
	}
	return 0
}

// Kill sends SIGKILL to a service's process and waits for it to exit, as a
// crashed host would leave it: no graceful shutdown, shard leases left behind.
func (c *Cluster) Kill(svc string) error {
	c.mu.Lock()
	p := c.procs[svc]
	delete(c.procs, svc)
	c.mu.Unlock()
	if p == nil {
		return fmt.Errorf("%w: %s", ErrNotRunning, svc)
	}
	return p.kill()
}

// Restart starts a service that Kill stopped and waits until it listens.
func (c *Cluster) Restart(ctx context.Context, svc string) error {
	return c.startService(ctx, svc)
}

// Stop stops every service in reverse start order (SIGTERM, then SIGKILL
// after a grace period) and waits for them.
func (c *Cluster) Stop() {
	for i := len(Services) - 1; i >= 0; i-- {
		c.mu.Lock()
		p := c.procs[Services[i]]
		delete(c.procs, Services[i])
		c.mu.Unlock()
		if p != nil {
			p.stop(c.o.StopGrace)
		}
	}
}

// Dial connects an SDK client to the cluster's namespace.
func (c *Cluster) Dial(ctx context.Context) (client.Client, error) {
	return client.DialContext(ctx, client.Options{
		HostPort:  c.plan.Frontend,
		Namespace: c.plan.Namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
}

func (c *Cluster) startService(ctx context.Context, svc string) error {
	logPath := filepath.Join(c.o.StateDir, "logs", svc+".log")
	p, err := startProc(c.o.ServerBin, []string{"start", "--service", svc}, c.plan.ServiceEnv(svc), logPath)
	if err != nil {
		return fmt.Errorf("start %s: %w", svc, err)
	}
	c.mu.Lock()
	c.procs[svc] = p
	c.mu.Unlock()
	go c.watch(svc, p)
	if err := waitListening(ctx, p, c.plan.Ports.GRPC[svc]); err != nil {
		return fmt.Errorf("%s did not listen on %d (log %s): %w", svc, c.plan.Ports.GRPC[svc], logPath, err)
	}
	c.log.Info("temporal service up", "service", svc, "pid", p.pid(), "grpc", net.JoinHostPort(loopback, strconv.Itoa(c.plan.Ports.GRPC[svc])), "log", logPath)
	return c.plan.recordPid(svc, p.pid())
}

// watch reports a service that exits while it is still registered (not killed or stopped).
func (c *Cluster) watch(svc string, p *proc) {
	<-p.done
	c.mu.Lock()
	mine := c.procs[svc] == p
	if mine {
		delete(c.procs, svc)
	}
	c.mu.Unlock()
	if mine {
		c.log.Error("temporal service exited", "service", svc, "error", p.err)
		select {
		case c.failed <- svc:
		default:
		}
	}
}

// prepareNamespace waits for the frontend, then registers the namespace and
// golive's search attributes, and waits until a visibility query on them
// answers (the frontend's caches have both).
func (c *Cluster) prepareNamespace(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	sc, err := c.Dial(ctx)
	if err != nil {
		return fmt.Errorf("connect to the frontend %s: %w", c.plan.Frontend, err)
	}
	defer sc.Close()
	if err := retry(ctx, func() error { return namespaces.Register(ctx, sc, c.plan.Namespace, c.plan.Retention) }); err != nil {
		return err
	}
	if err := retry(ctx, func() error {
		return namespaces.EnsureSearchAttributes(ctx, sc, c.plan.Namespace, workflows.SearchAttributeNames())
	}); err != nil {
		return err
	}
	query := fmt.Sprintf("%s = 'cluster-ready'", workflows.SAService.GetName())
	return retry(ctx, func() error {
		_, err := sc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: c.plan.Namespace, Query: query})
		return err
	})
}

// retry calls f every 250 ms until it succeeds or ctx ends.
func retry(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
