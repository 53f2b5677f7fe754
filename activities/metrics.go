package activities

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/internal/analysis"
	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/secrets"
)

// SampleQueryTimeout bounds each metric's query; Sample runs the queries at
// the same time, so one check takes about as long as its slowest query.
const SampleQueryTimeout = 20 * time.Second

// Metrics reads the watched metrics from the configured provider.
type Metrics struct {
	// HTTP is the client for HTTP-based providers (http, prometheus); nil uses one with a 10s timeout.
	HTTP *http.Client
	// Secrets resolves metrics.url references (the postgres provider's
	// database); nil resolves env:// only.
	Secrets *secrets.Resolver
	// CloudWatch builds the cloudwatch provider (it needs the worker's AWS
	// configuration); nil leaves that provider not configured.
	CloudWatch metrics.Factory

	// slow keeps the postgres provider's previous pg_stat_statements reading,
	// so slow queries per hour cover the interval between two checks.
	slow metrics.SlowQueryTracker
}

// Sample takes one reading of every metric in in.Metrics.Queries, in metric
// name order, all evaluated as of in.At (zero: the start of the activity);
// Sample.At is that time. The queries run concurrently. A
// metric that cannot be read carries its Error (and is then unavailable,
// never healthy); when the provider is not configured, every value carries
// "not configured: ...". A metric whose spec analysis gives a success or a
// failure condition gets its Condition ("success", "failure" or
// "inconclusive"); a condition that does not parse is that metric's Error.
// Only the end of the activity's context is an activity error.
func (m *Metrics) Sample(ctx context.Context, in SampleInput) (Sample, error) {
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	names := make([]string, 0, len(in.Metrics.Queries))
	for n := range in.Metrics.Queries {
		names = append(names, n)
	}
	slices.Sort(names)
	opts := []metrics.Option{}
	if m != nil {
		opts = append(opts, metrics.WithHTTPClient(m.HTTP), metrics.WithSecrets(m.Secrets),
			metrics.WithSlowQueryTracker(&m.slow), metrics.WithFactory("cloudwatch", m.CloudWatch))
	}
	provider, perr := metrics.New(in.Metrics, opts...)
	out := Sample{At: at, Values: make([]MetricValue, len(names))}
	var wg sync.WaitGroup
	for i, name := range names {
		query := in.Metrics.Queries[name]
		out.Values[i] = MetricValue{Name: name, Query: query, Unit: metricUnit(name)}
		an := in.Metrics.Analysis[name]
		conds, cerr := analysis.ParseConditions(an.SuccessCondition, an.FailureCondition)
		switch {
		case perr != nil:
			out.Values[i].Error = perr.Error()
		case cerr != nil:
			out.Values[i].Error = fmt.Sprintf("metrics.analysis.%s: %v", name, cerr)
		default:
			v := &out.Values[i]
			wg.Add(1)
			go func() {
				defer wg.Done()
				qctx, cancel := context.WithTimeout(ctx, SampleQueryTimeout)
				defer cancel()
				if f, err := provider.Query(qctx, query, at); err != nil {
					v.Error = err.Error()
				} else {
					v.Value, v.Condition = f, conds.Evaluate(f)
				}
			}()
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Sample{}, fmt.Errorf("sample %s: %w", strings.Join(names, ", "), err)
	}
	return out, nil
}

// metricUnit guesses a metric's unit from its name: rates, connections and
// logins are percentages, latency is milliseconds, slow queries are per hour.
func metricUnit(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "slow_queries"):
		return "/h"
	case strings.Contains(n, "rate"), strings.Contains(n, "connections"), strings.Contains(n, "logins"):
		return "%"
	case strings.Contains(n, "latency"):
		return "ms"
	}
	return ""
}
