package charts

import (
	"math"
	"time"

	"github.com/golive/golive/internal/spec"
)

// Kinds of threshold lines.
const (
	KindTarget   = "target"
	KindCritical = "critical"
	KindRollback = "rollback"
	KindBaseline = "baseline"
)

// Line is one horizontal threshold line, in the metric's unit.
type Line struct {
	// Kind is target, critical, rollback or baseline.
	Kind  string
	Value float64
	// Label is what the chart writes beside the line, e.g. "critical 1%".
	Label string
}

// lineColor is the colour of each kind of line and of its label.
var lineColor = map[string]string{
	KindTarget:   "#b26b00",
	KindCritical: "#d4380d",
	KindRollback: "#b00020",
	KindBaseline: "#57606a",
}

// Lines returns the threshold lines of metric, in the metric's unit (percent
// for rates and shares, milliseconds for latency, per hour for slow
// queries), in the order target, critical, rollback, baseline. The p95
// rollback line is the baseline grown by the degradation trigger (at least by
// degradation_min); with no baseline there is none. Metrics without checklist
// thresholds have only their baseline line.
func Lines(metric string, th spec.Thresholds, baseline *float64) []Line {
	var out []Line
	add := func(kind string, v float64, unit string) {
		out = append(out, Line{Kind: kind, Value: v, Label: kind + " " + num(v) + unit})
	}
	ms := func(d spec.Duration) float64 { return float64(d.D()) / float64(time.Millisecond) }
	unit := spec.MetricUnit(metric)
	switch metric {
	case spec.MetricErrorRate:
		add(KindTarget, float64(th.Targets.ErrorRate), unit)
		add(KindCritical, float64(th.Critical.ErrorRate), unit)
		add(KindRollback, float64(th.Rollback.ErrorRate), unit)
	case spec.MetricLatencyP95:
		add(KindTarget, ms(th.Targets.LatencyP95), unit)
		add(KindCritical, ms(th.Critical.LatencyP95), unit)
		if baseline != nil && *baseline > 0 {
			add(KindRollback, math.Max(*baseline*(1+float64(th.Rollback.Degradation)/100), *baseline+ms(th.Rollback.DegradationMin)), unit)
		}
	case spec.MetricDBConnections:
		add(KindCritical, float64(th.Critical.DBConnections), unit)
	case spec.MetricSlowQueries:
		if baseline != nil {
			add(KindTarget, *baseline*(1+float64(th.Targets.SlowQuerySpike)/100), unit)
		}
		add(KindCritical, th.Critical.SlowQueries, unit)
	case spec.MetricFailedLogins:
		add(KindCritical, float64(th.Critical.FailedLogins), unit)
	}
	if baseline != nil {
		add(KindBaseline, *baseline, unit)
	}
	return out
}

// chartLines are the lines a chart draws: those of the thresholds (none
// without them) and the baseline, finite values only.
func chartLines(o Options) []Line {
	var all []Line
	if o.Thresholds != nil {
		all = Lines(o.Metric, *o.Thresholds, o.Baseline)
	} else if o.Baseline != nil {
		all = []Line{{Kind: KindBaseline, Value: *o.Baseline, Label: KindBaseline + " " + num(*o.Baseline) + spec.MetricUnit(o.Metric)}}
	}
	out := all[:0]
	for _, l := range all {
		if !math.IsNaN(l.Value) && !math.IsInf(l.Value, 0) {
			out = append(out, l)
		}
	}
	return out
}

// onScale splits threshold lines into those drawn on an axis that reaches
// dataHi (the highest reading or the baseline) and those too far above it,
// which would flatten the readings: the axis goes up to the lowest line above
// the data and takes in lines up to 3 times that; the others are named at the
// top of the chart as off the scale. The baseline is always on the scale.
func onScale(lines []Line, dataHi float64) (on, off []Line) {
	limit := dataHi
	next := math.Inf(1)
	for _, l := range lines {
		if l.Value > dataHi {
			next = math.Min(next, l.Value)
		}
	}
	if !math.IsInf(next, 1) {
		limit = next * 3
	}
	for _, l := range lines {
		if l.Value <= limit || l.Kind == KindBaseline {
			on = append(on, l)
		} else {
			off = append(off, l)
		}
	}
	return on, off
}
