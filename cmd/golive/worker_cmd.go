package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// telemetryFlags are the worker's observability settings (worker and dev).
type telemetryFlags struct {
	metricsListen string
	otelEndpoint  string
}

func (f *telemetryFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.metricsListen, "metrics-listen", os.Getenv("GOLIVE_METRICS_LISTEN"),
		"serve Prometheus metrics (SDK temporal_* and golive_*) on host:port at /metrics, e.g. 127.0.0.1:9464; empty: off (GOLIVE_METRICS_LISTEN)")
	cmd.Flags().StringVar(&f.otelEndpoint, "otel-endpoint", os.Getenv("GOLIVE_OTEL_ENDPOINT"),
		"export OpenTelemetry traces over OTLP gRPC to host:port (plaintext) or https://host:port; empty: off (GOLIVE_OTEL_ENDPOINT)")
}

// start starts the metrics endpoint and tracer the flags ask for.
func (f *telemetryFlags) start(ctx context.Context, log *slog.Logger) (*worker.Telemetry, error) {
	tel, err := worker.StartTelemetry(ctx, worker.TelemetryOptions{MetricsListen: f.metricsListen, OTelEndpoint: f.otelEndpoint, Logger: log})
	if err != nil {
		return nil, err
	}
	if a := tel.MetricsAddr(); a != "" {
		log.Info("metrics endpoint", "url", "http://"+a+"/metrics")
	}
	if f.otelEndpoint != "" {
		log.Info("tracing on", "otlp_endpoint", f.otelEndpoint)
	}
	return tel, nil
}

// closeTelemetry stops the metrics endpoint and flushes the last spans.
func closeTelemetry(tel *worker.Telemetry, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tel.Close(ctx); err != nil {
		log.Warn("telemetry shutdown", "error", err)
	}
}

func newWorkerCmd(g *globals) *cobra.Command {
	var tf telemetryFlags
	var df directoryFlags
	var lf noticeLinkFlags
	var ef evidenceFlags
	var stopTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the golive worker against a Temporal cluster (no embedded server)",
		Example: `  golive worker --directory /etc/golive/team.yaml --directory-admins /etc/golive/admins
  TEMPORAL_ADDRESS=temporal.internal:7233 golive worker --directory team.yaml --directory-admins admins
  golive worker --profile prod
  golive worker --directory team.yaml --directory-admins admins --approvals-url https://approvals.example.org --approvals-link-key-file /etc/golive/approvals.key
  GOLIVE_AUDIT_URL=env://... golive worker --directory team.yaml --directory-admins admins --evidence-store postgres
  golive worker --directory team.yaml --directory-admins admins --evidence-store s3://acme-golive-evidence/prod
  golive worker --metrics-listen 0.0.0.0:9464 --log-format json
  golive worker --metrics-listen 127.0.0.1:9464 --otel-endpoint 127.0.0.1:4317`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			log := g.logger()
			dir, err := df.open(log)
			if err != nil {
				return err
			}
			tel, err := tf.start(ctx, log)
			if err != nil {
				return err
			}
			defer closeTelemetry(tel, log)
			opts, err := g.clientOptions()
			if err != nil {
				return err
			}
			tel.Apply(&opts)
			c, err := client.DialContext(ctx, opts)
			if err != nil {
				return fmt.Errorf("connect to Temporal at %s: %w (is `golive dev` or your cluster running?)", opts.HostPort, err)
			}
			defer c.Close()
			links, err := lf.linker()
			if err != nil {
				return err
			}
			store, err := ef.open(ctx)
			if err != nil {
				return err
			}
			ef.logStore(log, store)
			if stopTimeout < 0 {
				return fmt.Errorf("--stop-timeout %s: want 0 (cancel running activities at once) or more", stopTimeout)
			}
			w := worker.New(c, worker.Options{Logger: log, Directory: dir, ApprovalLinks: links, Evidence: store, StopTimeout: stopTimeout})
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			log.Info("worker polling", "task_queue", workflows.TaskQueue)
			<-ctx.Done()
			log.Info("worker stopping: no new tasks; running activities may finish", "stop_timeout", stopTimeout)
			w.Stop()
			log.Info("worker stopped")
			return nil
		},
	}
	tf.add(cmd)
	df.add(cmd)
	lf.add(cmd, "")
	ef.add(cmd, true)
	cmd.Flags().DurationVar(&stopTimeout, "stop-timeout", 25*time.Second,
		"on SIGTERM or Ctrl-C, how long running activities (a deploy, a migration) may finish before they are cancelled and left to another worker's retry; keep it under your orchestrator's grace period (Kubernetes: 30s)")
	return cmd
}
