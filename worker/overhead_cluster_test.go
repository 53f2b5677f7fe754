//go:build cluster

package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkOrchestrationOverheadOnCluster is BenchmarkOrchestrationOverhead
// on the compose stack's cluster (startCluster: frontend, history, matching
// and worker services as processes on the local PostgreSQL, 4 history
// shards), first with the compose file's dynamic config, then with the
// history's transfer queue read at unthrottledPollRPS. The stand-ins run in an
// SDK worker in the test process against the cluster's frontend (the
// production binary has no stand-ins, and the point here is the server).
func BenchmarkOrchestrationOverheadOnCluster(b *testing.B) {
	for _, v := range []struct{ name, dynamicConfig, where string }{
		{"server-defaults", "", "the compose stack's cluster, its dynamic config"},
		{"transfer-poll-unthrottled", fmt.Sprintf("%s:\n  - value: %d\n", transferPollRPS, unthrottledPollRPS),
			fmt.Sprintf("the compose stack's cluster, %s %d", transferPollRPS, unthrottledPollRPS)},
	} {
		b.Run(v.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			cl := startClusterWith(ctx, b, v.dynamicConfig)
			c, err := cl.Dial(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			o := startOverheadRig(b, c)
			for i := 0; i < b.N; i++ {
				o.measure(b, v.where)
			}
		})
	}
}
