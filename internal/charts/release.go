package charts

import (
	"slices"
	"strings"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// Chart is one rendered chart.
type Chart struct {
	Metric string
	SVG    []byte
}

// checklistMetrics come first among a release's charts, in this order.
var checklistMetrics = []string{spec.MetricErrorRate, spec.MetricLatencyP95, spec.MetricDBConnections, spec.MetricSlowQueries, spec.MetricFailedLogins}

// Release draws a chart for every metric read in st's checks: the checklist
// metrics first (error rate, p95, DB connections, slow queries, failed
// logins), then the others by name. The baseline is st.Baseline's reading of
// each metric; the rollback mark is st.Rollback.At; readings without a time
// or phase take their check's; time 0 is the deploy, or
// the first reading of a record without one. th may be nil (no threshold
// lines). It returns nil when no check has read anything.
func Release(st record.Status, th *spec.Thresholds) []Chart {
	var readings []record.Reading
	var names []string
	for _, c := range st.Checks {
		for _, r := range c.Readings {
			if r.At.IsZero() {
				r.At = c.At
			}
			if r.Phase == "" {
				r.Phase = c.Phase
			}
			readings = append(readings, r)
			if !slices.Contains(names, r.Metric) {
				names = append(names, r.Metric)
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	rank := func(n string) int {
		if i := slices.Index(checklistMetrics, n); i >= 0 {
			return i
		}
		return len(checklistMetrics)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	o := Options{Readings: readings, DeployAt: st.DeployAt, Thresholds: th}
	if st.Rollback != nil {
		o.RollbackAt = st.Rollback.At
	}
	out := make([]Chart, 0, len(names))
	for _, n := range names {
		o.Metric, o.Baseline = n, baselineOf(st.Baseline, n)
		out = append(out, Chart{Metric: n, SVG: SVG(o)})
	}
	return out
}

// baselineOf is the measured pre-deploy reading of metric, or nil.
func baselineOf(rs []record.Reading, metric string) *float64 {
	for _, r := range rs {
		if r.Metric == metric && r.Verdict != record.VerdictUnavailable {
			v := r.Value
			return &v
		}
	}
	return nil
}
