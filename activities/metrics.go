package activities

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golive/golive/internal/metrics"
)

// Metrics reads the watched metrics from the configured provider.
type Metrics struct {
	// HTTP is the client for HTTP-based providers; nil uses one with a 10s timeout.
	HTTP *http.Client
}

// Sample takes one reading of every metric in in.Metrics.Queries, in metric
// name order. A metric that cannot be read carries its Error (and is then
// unavailable, never healthy); when the provider is not configured, every
// value carries "not configured: ...". Only the end of the activity's
// context is an activity error.
func (m *Metrics) Sample(ctx context.Context, in SampleInput) (Sample, error) {
	names := make([]string, 0, len(in.Metrics.Queries))
	for n := range in.Metrics.Queries {
		names = append(names, n)
	}
	slices.Sort(names)
	var client *http.Client
	if m != nil {
		client = m.HTTP
	}
	provider, perr := metrics.New(in.Metrics, metrics.WithHTTPClient(client))
	out := Sample{Values: make([]MetricValue, 0, len(names))}
	for _, name := range names {
		v := MetricValue{Name: name, Query: in.Metrics.Queries[name], Unit: metricUnit(name)}
		if perr != nil {
			v.Error = perr.Error()
		} else if f, err := provider.Query(ctx, v.Query); err != nil {
			v.Error = err.Error()
		} else {
			v.Value = f
		}
		if err := ctx.Err(); err != nil {
			return Sample{}, fmt.Errorf("sample %s: %w", name, err)
		}
		out.Values = append(out.Values, v)
	}
	out.At = time.Now()
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
