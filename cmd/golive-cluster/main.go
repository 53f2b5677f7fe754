// Command golive-cluster runs the Temporal cluster of docker-compose.yml on
// this machine without containers (internal/cluster): `make cluster` runs
// `golive-cluster up`, `make cluster-down` runs `golive-cluster down`. It is a
// separate main so that the production build of golive (-tags nodevserver)
// carries no development tooling.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/cluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "golive-cluster:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	var o cluster.Options
	root := &cobra.Command{
		Use:           "golive-cluster",
		Short:         "The compose stack's Temporal cluster as local processes on PostgreSQL",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&o.Root, "root", "", "repository root (default: the nearest directory with go.mod)")
	pf.StringVar(&o.PGHost, "pg-host", "127.0.0.1", "PostgreSQL host")
	pf.IntVar(&o.PGPort, "pg-port", 5432, "PostgreSQL port")
	pf.StringVar(&o.PGUser, "pg-user", "postgres", "PostgreSQL user")
	pf.BoolVar(&o.FreePorts, "free-ports", false, "free loopback ports instead of the template's 7233... (beside another cluster)")
	pf.StringVar(&o.LogLevel, "log-level", "", "the servers' LOG_LEVEL (default: the template's, info)")
	o.PGPassword = os.Getenv("PGPASSWORD")
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	root.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply the schema, start frontend, history, matching and worker, register the namespace; Ctrl-C stops them",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return up(cmd.Context(), o) },
	}, &cobra.Command{
		Use:   "down",
		Short: "Stop what `up` left running, drop its databases, remove .golive/cluster",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cluster.Down(cmd.Context(), o) },
	})
	return root
}

func up(ctx context.Context, o cluster.Options) error {
	c, err := cluster.Start(ctx, o)
	if err != nil {
		return err
	}
	defer c.Stop()
	pl := c.Plan()
	fmt.Printf("Temporal cluster up (compose service temporal, as processes):\n")
	for _, svc := range cluster.Services {
		fmt.Printf("  %-9s pid %-7d grpc 127.0.0.1:%d  membership :%d  metrics :%d\n",
			svc, c.Pid(svc), pl.Ports.GRPC[svc], pl.Ports.Membership[svc], pl.Ports.Metrics[svc])
	}
	fmt.Printf("  frontend  %s (HTTP :%d), namespace %s, databases %v\n", c.FrontendAddress(), pl.Ports.FrontendHTTP, c.Namespace(), pl.Databases)
	fmt.Printf("Workers: TEMPORAL_ADDRESS=%s TEMPORAL_NAMESPACE=%s golive worker\n", c.FrontendAddress(), c.Namespace())
	fmt.Println("Ctrl-C stops the cluster; `make cluster-down` drops its databases.")
	select {
	case <-ctx.Done():
		fmt.Println("stopping the cluster")
		return nil
	case svc := <-c.Failed():
		return fmt.Errorf("temporal %s exited (see .golive/cluster/logs/%s.log)", svc, svc)
	}
}
