package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/golive/golive/worker"
)

func newWorkerCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the golive worker against a Temporal cluster (no embedded server)",
		Example: `  TEMPORAL_ADDRESS=temporal.internal:7233 golive worker
  golive worker --profile prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			w := worker.New(c, worker.Options{Logger: g.logger()})
			if err := w.Start(); err != nil {
				return fmt.Errorf("start worker: %w", err)
			}
			defer w.Stop()
			g.logger().Info("worker polling", "task_queue", "golive")
			<-cmd.Context().Done()
			return nil
		},
	}
}
