// Package charts draws the Post-Deployment Review's chart of each metric over
// the 24-hour watch as a standalone SVG: the readings as a line (markers
// coloured by verdict, unreadable checks as crosses on the time axis), the
// checklist thresholds as horizontal lines (T+1h target, critical limit,
// rollback trigger, and the pre-deploy baseline), a deploy mark at 0 and a
// rollback mark when there was one, with the time axis in hours since the
// deploy.
//
// It is pure and deterministic: the same input gives the same bytes (no
// clock, no randomness, no map iteration in the output), so charts can be
// compared, hashed and embedded in the signed evidence.
package charts

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

// DefaultSpan is the time axis when no reading or mark lies beyond it.
const DefaultSpan = 24 * time.Hour

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

// Options are one chart.
type Options struct {
	// Metric is the metric drawn; readings of other metrics are ignored.
	Metric string
	// Readings are the watch's readings (any metrics, any order).
	Readings []record.Reading
	// DeployAt is time 0 of the axis.
	DeployAt time.Time
	// RollbackAt, when set, draws the rollback mark.
	RollbackAt time.Time
	// Thresholds are the spec's; Lines picks those of Metric.
	Thresholds spec.Thresholds
	// Baseline is the metric's pre-deploy reading, if one was taken.
	Baseline *float64
	// Span is the length of the time axis (default 24h, extended to the last
	// reading or mark, rounded up to whole hours).
	Span time.Duration
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

// Geometry, in SVG user units.
const (
	width      = 760.0
	height     = 266.0
	plotLeft   = 64.0
	plotRight  = 640.0
	plotTop    = 40.0
	plotBottom = 216.0
)

var lineColor = map[string]string{
	KindTarget:   "#b26b00",
	KindCritical: "#d4380d",
	KindRollback: "#b00020",
	KindBaseline: "#57606a",
}

type point struct {
	off time.Duration
	r   record.Reading
}

// SVG draws one metric's chart (see the package comment). Readings before the
// deploy are left out (the baseline is a line); a metric with no readings
// still gets its axes, thresholds and marks.
func SVG(o Options) []byte {
	var pts, missing []point
	for _, r := range o.Readings {
		if r.Metric != o.Metric || r.At.Before(o.DeployAt) {
			continue
		}
		p := point{off: r.At.Sub(o.DeployAt), r: r}
		if r.Verdict == record.VerdictUnavailable || math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
			missing = append(missing, p)
		} else {
			pts = append(pts, p)
		}
	}
	byTime := func(a, b point) int { return cmp.Compare(a.off, b.off) }
	slices.SortStableFunc(pts, byTime)
	slices.SortStableFunc(missing, byTime)

	unit := spec.MetricUnit(o.Metric)
	for _, p := range pts {
		if p.r.Unit != "" {
			unit = p.r.Unit
			break
		}
	}
	lines := Lines(o.Metric, o.Thresholds, o.Baseline)

	// Time axis: hours from the deploy.
	span := o.Span
	if span <= 0 {
		span = DefaultSpan
	}
	last := time.Duration(0)
	for _, ps := range [][]point{pts, missing} {
		if len(ps) > 0 {
			last = max(last, ps[len(ps)-1].off)
		}
	}
	if !o.RollbackAt.IsZero() {
		last = max(last, o.RollbackAt.Sub(o.DeployAt))
	}
	if last > span {
		span = (last + time.Hour - 1).Truncate(time.Hour)
	}
	x := func(d time.Duration) float64 { return plotLeft + float64(d)/float64(span)*(plotRight-plotLeft) }

	// Value axis: from 0 (or the lowest value) to a round number above every value and line.
	lo, hi := 0.0, 0.0
	for _, p := range pts {
		lo, hi = math.Min(lo, p.r.Value), math.Max(hi, p.r.Value)
	}
	for _, l := range lines {
		lo, hi = math.Min(lo, l.Value), math.Max(hi, l.Value)
	}
	step := niceStep((hi - lo) / 4)
	lo = math.Floor(lo/step) * step
	hi = math.Ceil(hi*1.04/step) * step
	if hi <= lo {
		hi = lo + step
	}
	y := func(v float64) float64 { return plotBottom - (v-lo)/(hi-lo)*(plotBottom-plotTop) }

	esc := html.EscapeString
	title := o.Metric
	if unit != "" {
		title += " (" + unit + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="golive-chart" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s over the first %s after the deploy">`+"\n",
		f(width), f(height), f(width), f(height), esc(title), hours(span))
	fmt.Fprintf(&b, `<title>%s: %d reading(s), %d unavailable</title>`+"\n", esc(title), len(pts), len(missing))
	b.WriteString(`<style>text{font:11px sans-serif;fill:#24292f}.axis-title{font-weight:bold}</style>` + "\n")
	fmt.Fprintf(&b, `<text class="chart-title axis-title" x="%s" y="14">%s</text>`+"\n", f(plotLeft), esc(title))
	fmt.Fprintf(&b, `<rect class="plot" x="%s" y="%s" width="%s" height="%s" fill="#fff" stroke="#d0d7de"/>`+"\n",
		f(plotLeft), f(plotTop), f(plotRight-plotLeft), f(plotBottom-plotTop))

	// Value ticks and grid.
	for v := lo; v <= hi+step/2; v += step {
		yy := y(v)
		if v > lo && v < hi-step/2 {
			fmt.Fprintf(&b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s" stroke="#eaeef2"/>`+"\n", f(plotLeft), f(plotRight), f(yy), f(yy))
		}
		fmt.Fprintf(&b, `<text class="y-tick" x="%s" y="%s" text-anchor="end">%s%s</text>`+"\n", f(plotLeft-6), f(yy+4), num(v), esc(unit))
	}
	// Time ticks, in hours since the deploy.
	tick := hourStep(span)
	for d := time.Duration(0); d <= span; d += tick {
		xx := x(d)
		fmt.Fprintf(&b, `<line class="x-tick" x1="%s" x2="%s" y1="%s" y2="%s" stroke="#8c959f"/>`+"\n", f(xx), f(xx), f(plotBottom), f(plotBottom+4))
		fmt.Fprintf(&b, `<text class="x-label" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", f(xx), f(plotBottom+16), hours(d))
	}
	fmt.Fprintf(&b, `<text class="axis-title" x="%s" y="%s" text-anchor="middle">hours since deploy</text>`+"\n", f((plotLeft+plotRight)/2), f(plotBottom+34))

	// Threshold lines, labelled at the right.
	for _, l := range lines {
		yy := y(l.Value)
		dash := ` stroke-dasharray="6 4"`
		if l.Kind == KindBaseline {
			dash = ` stroke-dasharray="2 3"`
		}
		fmt.Fprintf(&b, `<line class="threshold %s" x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s"%s/>`+"\n",
			l.Kind, f(plotLeft), f(plotRight), f(yy), f(yy), lineColor[l.Kind], dash)
		fmt.Fprintf(&b, `<text class="threshold-label %s" x="%s" y="%s" fill="%s">%s</text>`+"\n", l.Kind, f(plotRight+6), f(yy+4), lineColor[l.Kind], esc(l.Label))
	}

	// Deploy and rollback marks.
	mark := func(kind string, d time.Duration, color string) {
		xx := x(d)
		fmt.Fprintf(&b, `<line class="mark %s" x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="1.5"/>`+"\n", kind, f(xx), f(xx), f(plotTop-4), f(plotBottom), color)
		fmt.Fprintf(&b, `<text class="mark-label %s" x="%s" y="%s" fill="%s" text-anchor="middle">%s</text>`+"\n", kind, f(xx), f(plotTop-7), color, kind)
	}
	mark("deploy", 0, "#0969da")
	if !o.RollbackAt.IsZero() {
		mark("rollback", o.RollbackAt.Sub(o.DeployAt), "#b00020")
	}

	// The readings: one line through them, a marker per reading.
	coords := make([]string, len(pts))
	for i, p := range pts {
		coords[i] = f(x(p.off)) + "," + f(y(p.r.Value))
	}
	fmt.Fprintf(&b, `<polyline class="series" fill="none" stroke="#0969da" stroke-width="1.6" points="%s"/>`+"\n", strings.Join(coords, " "))
	for _, p := range pts {
		fill, stroke := render.VerdictColor(p.r.Verdict), "none"
		if p.r.DryRun {
			fill, stroke = "#fff", render.VerdictColor(p.r.Verdict)
		}
		fmt.Fprintf(&b, `<circle class="reading %s" cx="%s" cy="%s" r="3" fill="%s" stroke="%s"><title>+%s %s%s %s</title></circle>`+"\n",
			p.r.Verdict, f(x(p.off)), f(y(p.r.Value)), fill, stroke, offset(p.off), num(p.r.Value), esc(unit), p.r.Verdict)
	}
	for _, p := range missing {
		fmt.Fprintf(&b, `<text class="unavailable" x="%s" y="%s" text-anchor="middle" fill="#6e7781">×<title>+%s unavailable: %s</title></text>`+"\n",
			f(x(p.off)), f(plotBottom-3), offset(p.off), esc(p.r.Detail))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// Chart is one rendered chart.
type Chart struct {
	Metric string
	SVG    []byte
}

// Release draws a chart for every metric read in st's checks: the checklist
// metrics first (error rate, p95, DB connections, slow queries, failed
// logins), then the others by name. The baseline is st.Baseline's reading of
// each metric; the rollback mark is st.Rollback.At. It returns nil before the
// deploy.
func Release(st record.Status, th spec.Thresholds) []Chart {
	if st.DeployAt.IsZero() {
		return nil
	}
	var readings []record.Reading
	seen := map[string]bool{}
	var names []string
	for _, c := range st.Checks {
		for _, r := range c.Readings {
			if r.At.IsZero() {
				r.At = c.At
			}
			readings = append(readings, r)
			if !seen[r.Metric] {
				seen[r.Metric] = true
				names = append(names, r.Metric)
			}
		}
	}
	order := []string{spec.MetricErrorRate, spec.MetricLatencyP95, spec.MetricDBConnections, spec.MetricSlowQueries, spec.MetricFailedLogins}
	rank := func(n string) int {
		if i := slices.Index(order, n); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	var rollbackAt time.Time
	if st.Rollback != nil {
		rollbackAt = st.Rollback.At
	}
	out := make([]Chart, 0, len(names))
	for _, n := range names {
		var base *float64
		for _, r := range st.Baseline {
			if r.Metric == n && r.Verdict != record.VerdictUnavailable {
				v := r.Value
				base = &v
				break
			}
		}
		out = append(out, Chart{Metric: n, SVG: SVG(Options{Metric: n, Readings: readings, DeployAt: st.DeployAt,
			RollbackAt: rollbackAt, Thresholds: th, Baseline: base})})
	}
	return out
}

// f formats a coordinate with one decimal.
func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// num formats a value for people: up to 4 significant digits, no exponent for everyday sizes.
func num(v float64) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e-3 && a < 1e7 {
		digits := max(0, 3-int(math.Floor(math.Log10(a))))
		s := strconv.FormatFloat(v, 'f', digits, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return s
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// niceStep rounds raw up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// hourStep picks the time tick so the axis has at most 12 intervals.
func hourStep(span time.Duration) time.Duration {
	for _, h := range []time.Duration{1, 2, 3, 4, 6, 12, 24, 48, 168} {
		if span/(h*time.Hour) <= 12 {
			return h * time.Hour
		}
	}
	return 336 * time.Hour
}

// hours formats a duration on the time axis: "0h", "2h", "1.5h".
func hours(d time.Duration) string {
	return strconv.FormatFloat(d.Hours(), 'f', -1, 64) + "h"
}

// offset formats a reading's offset from the deploy, e.g. "1h15m".
func offset(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
