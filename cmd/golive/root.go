package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/log"

	"github.com/golive/golive/internal/telemetry"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// globals are the flags every command shares.
type globals struct {
	address   string
	namespace string
	profile   string
	output    string
	as        string
	logLevel  string
	logFormat string
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "golive",
		Short: "Run a production release checklist as one durable Temporal workflow",
		Long: `golive turns the production deployment checklist into one durable Temporal
workflow per release: readiness gate, four sign-offs, T-4h preparation, T-0
deploy with migrations, T+1h checks, a 24-hour watch, automatic rollback
(database included) and the post-deployment review, all on the record.

Connection settings follow Temporal's conventions (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the
temporal.toml config file); the default is 127.0.0.1:7233, namespace default.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.address, "address", "", "Temporal frontend host:port (default from TEMPORAL_ADDRESS or 127.0.0.1:7233)")
	pf.StringVar(&g.namespace, "namespace", "", "Temporal namespace (default from TEMPORAL_NAMESPACE or default)")
	pf.StringVar(&g.profile, "profile", "", "profile in the Temporal client config file (TEMPORAL_PROFILE)")
	pf.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	pf.StringVar(&g.as, "as", defaultPerson(), "who you are: your person ID in the release spec (GOLIVE_USER)")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json (lines about a release carry release=<workflow ID>)")
	root.AddCommand(
		newValidateCmd(g), newPlanCmd(g), newStartCmd(g), newStatusCmd(g), newListCmd(g),
		newApproveCmd(g, "approve"), newApproveCmd(g, "reject"), newAttestCmd(g), newAckCmd(g),
		newAbortCmd(g), newRollbackCmd(g), newHoldCmd(g), newResumeCmd(g),
		newRetryCmd(g), newSkipCmd(g), newOverrideFreezeCmd(g),
		newWorkerCmd(g), newReportCmd(g), newCodecServerCmd(g), newDBCmd(g), newAuditCmd(g),
		newDirectoryCmd(g), newSpecCmd(g), newApprovalsCmd(g), newDrillCmd(g),
	)
	addDevCommands(root, g)
	return root
}

func defaultPerson() string {
	if v := os.Getenv("GOLIVE_USER"); v != "" {
		return v
	}
	return os.Getenv("USER")
}

// logger builds the process logger at the chosen level and format; every line
// about a release carries release=<workflow ID> (telemetry.LogHandler).
func (g *globals) logger() *slog.Logger { return g.loggerTo(os.Stderr) }

// loggerTo is the logger of --log-level and --log-format writing to w.
func (g *globals) loggerTo(w io.Writer) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(g.logLevel)); err != nil {
		lv = slog.LevelInfo
	}
	var h slog.Handler = slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv})
	if g.logFormat == "json" {
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv})
	}
	return slog.New(telemetry.NewLogHandler(h))
}

// clientOptions loads the connection through envconfig, then applies flags.
func (g *globals) clientOptions() (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{ConfigFileProfile: g.profile})
	if err != nil {
		return client.Options{}, fmt.Errorf("load Temporal client config: %w", err)
	}
	if g.address != "" {
		opts.HostPort = g.address
	}
	if opts.HostPort == "" {
		opts.HostPort = "127.0.0.1:7233"
	}
	if g.namespace != "" {
		opts.Namespace = g.namespace
	}
	opts.Logger = log.NewStructuredLogger(g.logger().With("component", "temporal"))
	cod, err := worker.Encryption(context.Background(), nil)
	if err != nil {
		return client.Options{}, err
	}
	worker.ApplyConverters(&opts, cod)
	return opts, nil
}

// dial connects to Temporal.
func (g *globals) dial(ctx context.Context) (client.Client, error) {
	opts, err := g.clientOptions()
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w (is `golive dev` or your cluster running?)", opts.HostPort, err)
	}
	return c, nil
}

// releaseID accepts a workflow ID ("release:svc:env") or "svc:env".
func releaseID(arg string) string { return workflows.ParseRelease(arg) }

func (g *globals) json() bool { return g.output == "json" }

// dialAt connects to a given address (the demo's embedded server).
func (g *globals) dialAt(ctx context.Context, address string) (client.Client, error) {
	opts, err := g.clientOptions()
	if err != nil {
		return nil, err
	}
	opts.HostPort = address
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", address, err)
	}
	return c, nil
}
