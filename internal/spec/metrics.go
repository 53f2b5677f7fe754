package spec

import (
	"fmt"
	"slices"
	"strings"
)

// MetricSource is one more metrics provider and the metrics it answers, for
// metrics the main provider does not have: the application's numbers from
// Prometheus and the database's from PostgreSQL, say.
type MetricSource struct {
	// Provider is http, prometheus, postgres or cloudwatch.
	Provider string `yaml:"provider" json:"provider"`
	// URL of the provider, as for metrics.url.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Queries maps metric names to this provider's queries.
	Queries map[string]string `yaml:"queries" json:"queries"`
	// CloudWatch tunes a cloudwatch source.
	CloudWatch *CloudWatchMetrics `yaml:"cloudwatch,omitempty" json:"cloudwatch,omitempty"`
}

// Metric is one watched metric and where it is read.
type Metric struct {
	Name, Query string
	// Source is 0 for the main provider and n for metrics.sources[n-1].
	Source int
}

// All returns every watched metric, the main provider's and the sources', by
// name. A name defined twice (refused by Validate) keeps its first definition.
func (m Metrics) All() []Metric {
	var out []Metric
	seen := map[string]bool{}
	add := func(src int, qs map[string]string) {
		for name, q := range qs {
			if !seen[name] {
				seen[name] = true
				out = append(out, Metric{Name: name, Query: q, Source: src})
			}
		}
	}
	add(0, m.Queries)
	for i, s := range m.Sources {
		add(i+1, s.Queries)
	}
	slices.SortFunc(out, func(a, b Metric) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Names returns the watched metrics' names, sorted.
func (m Metrics) Names() []string {
	all := m.All()
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = x.Name
	}
	return out
}

// Has reports whether name is a watched metric of any source.
func (m Metrics) Has(name string) bool { return slices.Contains(m.Names(), name) }

// ProviderOf returns the settings of source n (see Metric.Source) as a Metrics
// value of their own, the shape metric providers are built from.
func (m Metrics) ProviderOf(n int) Metrics {
	if n <= 0 || n > len(m.Sources) {
		return Metrics{Provider: m.Provider, URL: m.URL, Queries: m.Queries, CloudWatch: m.CloudWatch}
	}
	s := m.Sources[n-1]
	return Metrics{Provider: s.Provider, URL: s.URL, Queries: s.Queries, CloudWatch: s.CloudWatch}
}

// Metric names with checklist thresholds: the watch judges these against the
// spec's limits (Thresholds); other metrics are recorded for manual review.
const (
	MetricErrorRate     = "error_rate"
	MetricLatencyP95    = "latency_p95"
	MetricDBConnections = "db_connections"
	MetricSlowQueries   = "slow_queries"
	MetricFailedLogins  = "failed_logins"
)

// JudgedMetrics lists the metrics with checklist thresholds.
var JudgedMetrics = []string{MetricErrorRate, MetricLatencyP95, MetricDBConnections, MetricSlowQueries, MetricFailedLogins}

// MetricUnit is the unit a metric is read and judged in, from its name: rates,
// connections and logins are percentages, latency is milliseconds, slow
// queries are per hour; any other metric has none.
func MetricUnit(name string) string {
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

// sourcePath is the spec path of source n's settings.
func sourcePath(n int) string {
	if n == 0 {
		return "metrics"
	}
	return fmt.Sprintf("metrics.sources[%d]", n-1)
}
