package workflows

import (
	"testing"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

func TestEvaluateAppliesTheChecklistThresholds(t *testing.T) {
	th := spec.Defaults().Thresholds
	base := []record.Reading{{Metric: spec.MetricLatencyP95, Value: 100}, {Metric: spec.MetricDBConnections, Value: 20}, {Metric: spec.MetricSlowQueries, Value: 4}}
	cases := []struct {
		metric  string
		value   float64
		targets bool
		want    record.Verdict
	}{
		{spec.MetricErrorRate, 0.05, true, record.VerdictOK},
		{spec.MetricErrorRate, 0.2, true, record.VerdictTargetMissed}, // T+1h: errors < 0.1 %
		{spec.MetricErrorRate, 0.2, false, record.VerdictOK},          // targets only at T+1h
		{spec.MetricErrorRate, 1.5, false, record.VerdictCritical},    // > 1 %
		{spec.MetricErrorRate, 5.5, false, record.VerdictRollback},    // > 5 %
		{spec.MetricLatencyP95, 600, true, record.VerdictRollback},    // > 150 % of the 100 ms baseline and > 100 ms more
		{spec.MetricLatencyP95, 140, false, record.VerdictOK},         // 40 % slower only
		{spec.MetricLatencyP95, 520, true, record.VerdictRollback},
		{spec.MetricDBConnections, 85, false, record.VerdictCritical}, // > 80 % of the limit
		{spec.MetricDBConnections, 30, true, record.VerdictTargetMissed},
		{spec.MetricSlowQueries, 60, false, record.VerdictCritical}, // > 50 per hour
		{spec.MetricSlowQueries, 9, true, record.VerdictTargetMissed},
		{spec.MetricFailedLogins, 6, false, record.VerdictCritical}, // > 5 %
		{MetricAlarms, 1, false, record.VerdictRollback},
		{MetricAlarms, 0, false, record.VerdictOK},
		{"active_users", 1e6, true, record.VerdictOK}, // manual review only
	}
	for _, c := range cases {
		rs := []record.Reading{{Metric: c.metric, Value: c.value, Verdict: record.VerdictOK}}
		evaluate(rs, th, base, c.targets)
		if rs[0].Verdict != c.want {
			t.Errorf("%s=%v targets=%v: %s (%s), want %s", c.metric, c.value, c.targets, rs[0].Verdict, rs[0].Detail, c.want)
		}
	}
	small := []record.Reading{{Metric: spec.MetricLatencyP95, Value: 8, Verdict: record.VerdictOK}}
	evaluate(small, th, []record.Reading{{Metric: spec.MetricLatencyP95, Value: 4}}, false)
	if small[0].Verdict != record.VerdictOK {
		t.Errorf("4 ms -> 8 ms judged %s: growth below degradation_min must not roll back", small[0].Verdict)
	}
	down := []record.Reading{{Metric: spec.MetricErrorRate, Verdict: record.VerdictUnavailable}}
	evaluate(down, th, nil, true)
	if down[0].Verdict != record.VerdictUnavailable {
		t.Error("an unreadable metric was judged")
	}
}
