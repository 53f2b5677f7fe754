// Package charts is golive's one chart renderer: the chart of each metric
// over the watch as an SVG, in the evidence pages and wherever else a watch
// is drawn. A chart shows the readings as a line (markers coloured by verdict
// through internal/render, hollow for dry runs, unreadable checks as crosses
// on the time axis), the checklist thresholds as horizontal lines (T+1h
// target, critical limit, rollback trigger) and the pre-deploy baseline, a
// deploy mark at 0 and a rollback mark when there was one.
//
// Three things keep it readable whatever the watch: the time axis adapts to
// the watch's length (hours for the 24-hour production watch, minutes or
// seconds for a compressed test cadence); a threshold far above the readings
// is named at the top as off the scale instead of flattening them; and the
// labels at the right are moved apart so they never overlap.
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
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

// Options are one chart.
type Options struct {
	// Metric is the metric drawn; readings of other metrics are ignored.
	Metric string
	// Readings are the watch's readings (any metrics, any order).
	Readings []record.Reading
	// DeployAt is time 0 of the axis; when zero, the first reading is.
	DeployAt time.Time
	// RollbackAt, when set, draws the rollback mark.
	RollbackAt time.Time
	// Thresholds are the spec's; Lines picks those of Metric. Without them
	// the chart draws the baseline line only.
	Thresholds *spec.Thresholds
	// Baseline is the metric's pre-deploy reading, if one was taken.
	Baseline *float64
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

// Colours of the series and the marks (verdicts come from internal/render).
const (
	seriesColor   = "#0969da"
	rollbackColor = "#b00020"
)

type point struct {
	off time.Duration
	r   record.Reading
}

// chart is one chart being drawn: its data, axes and output.
type chart struct {
	o Options
	// deployed is whether time 0 is the deploy (else the first reading).
	deployed     bool
	pts, missing []point
	unit, title  string
	lines, off   []Line
	t            timeAxis
	v            valueAxis
	b            strings.Builder
}

// SVG draws one metric's chart (see the package comment). Readings before
// time 0 are left out (the baseline is a line); a metric with no readings
// still gets its axes, thresholds and marks.
func SVG(o Options) []byte {
	c := &chart{o: o}
	c.collect()
	c.axes()
	c.head()
	c.grid()
	c.thresholds()
	c.marks()
	c.series()
	c.b.WriteString("</svg>\n")
	return []byte(c.b.String())
}

// collect picks the metric's readings after time 0, sorted, measured apart
// from unreadable, and the unit.
func (c *chart) collect() {
	c.deployed = !c.o.DeployAt.IsZero()
	origin := c.o.DeployAt
	for _, r := range c.o.Readings {
		if !c.deployed && r.Metric == c.o.Metric && (origin.IsZero() || r.At.Before(origin)) {
			origin = r.At
		}
	}
	if !c.deployed {
		c.o.DeployAt, c.o.RollbackAt = origin, time.Time{}
	}
	for _, r := range c.o.Readings {
		if r.Metric != c.o.Metric || r.At.Before(origin) {
			continue
		}
		p := point{off: r.At.Sub(origin), r: r}
		if r.Verdict == record.VerdictUnavailable || math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
			c.missing = append(c.missing, p)
		} else {
			c.pts = append(c.pts, p)
		}
	}
	byTime := func(a, b point) int { return cmp.Compare(a.off, b.off) }
	slices.SortStableFunc(c.pts, byTime)
	slices.SortStableFunc(c.missing, byTime)
	c.unit = spec.MetricUnit(c.o.Metric)
	for _, p := range c.pts {
		if p.r.Unit != "" {
			c.unit = p.r.Unit
			break
		}
	}
	c.title = c.o.Metric
	if c.unit != "" {
		c.title += " (" + c.unit + ")"
	}
}

// axes fits the time axis to the readings and marks, and the value axis to
// the readings, the baseline and the thresholds on the scale.
func (c *chart) axes() {
	last := time.Duration(0)
	for _, ps := range [][]point{c.pts, c.missing} {
		if len(ps) > 0 {
			last = max(last, ps[len(ps)-1].off)
		}
	}
	if !c.o.RollbackAt.IsZero() {
		last = max(last, c.o.RollbackAt.Sub(c.o.DeployAt))
	}
	since := "since deploy"
	if !c.deployed {
		since = "since the first reading"
	}
	c.t = newTimeAxis(last, since)

	lo, hi := 0.0, 0.0
	for _, p := range c.pts {
		lo, hi = math.Min(lo, p.r.Value), math.Max(hi, p.r.Value)
	}
	if c.o.Baseline != nil && !math.IsNaN(*c.o.Baseline) && !math.IsInf(*c.o.Baseline, 0) {
		lo, hi = math.Min(lo, *c.o.Baseline), math.Max(hi, *c.o.Baseline)
	}
	c.lines, c.off = onScale(chartLines(c.o), hi)
	for _, l := range c.lines {
		lo, hi = math.Min(lo, l.Value), math.Max(hi, l.Value)
	}
	c.v = newValueAxis(lo, hi)
}

func (c *chart) head() {
	esc := html.EscapeString
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s over the first %s %s" font-family="sans-serif" font-size="11">`+"\n",
		f(width), f(height), f(width), f(height), esc(c.title), c.t.label(c.t.span), c.t.since)
	fmt.Fprintf(&c.b, `<title>%s: %d reading(s), %d unavailable</title>`+"\n", esc(c.title), len(c.pts), len(c.missing))
	fmt.Fprintf(&c.b, `<text class="chart-title axis-title" x="%s" y="14" font-weight="bold">%s</text>`+"\n", f(plotLeft), esc(c.title))
	fmt.Fprintf(&c.b, `<rect class="plot" x="%s" y="%s" width="%s" height="%s" fill="#fff" stroke="#d0d7de"/>`+"\n",
		f(plotLeft), f(plotTop), f(plotRight-plotLeft), f(plotBottom-plotTop))
}

// grid draws the value ticks with their grid lines and the time ticks.
func (c *chart) grid() {
	esc := html.EscapeString
	ticks := c.v.ticks()
	for i, v := range ticks {
		yy := c.v.y(v)
		if i > 0 && i < len(ticks)-1 {
			fmt.Fprintf(&c.b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s" stroke="#eaeef2"/>`+"\n", f(plotLeft), f(plotRight), f(yy), f(yy))
		}
		fmt.Fprintf(&c.b, `<text class="y-tick" x="%s" y="%s" text-anchor="end">%s%s</text>`+"\n", f(plotLeft-6), f(yy+4), num(v), esc(c.unit))
	}
	for d := time.Duration(0); d <= c.t.span; d += c.t.step {
		xx := c.t.x(d)
		fmt.Fprintf(&c.b, `<line class="x-tick" x1="%s" x2="%s" y1="%s" y2="%s" stroke="#8c959f"/>`+"\n", f(xx), f(xx), f(plotBottom), f(plotBottom+4))
		fmt.Fprintf(&c.b, `<text class="x-label" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", f(xx), f(plotBottom+16), c.t.label(d))
	}
	fmt.Fprintf(&c.b, `<text class="axis-title" x="%s" y="%s" text-anchor="middle" font-weight="bold">%s</text>`+"\n", f((plotLeft+plotRight)/2), f(plotBottom+34), c.t.title())
}

// thresholds draws the lines on the scale and labels them at the right, the
// lines off the scale named at the top with an arrow, all labels kept apart.
func (c *chart) thresholds() {
	var labels []label
	for _, l := range c.lines {
		yy := c.v.y(l.Value)
		dash := ` stroke-dasharray="6 4"`
		if l.Kind == KindBaseline {
			dash = ` stroke-dasharray="2 3"`
		}
		fmt.Fprintf(&c.b, `<line class="threshold %s" x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s"%s/>`+"\n",
			l.Kind, f(plotLeft), f(plotRight), f(yy), f(yy), lineColor[l.Kind], dash)
		labels = append(labels, label{y: yy, text: l.Label, color: lineColor[l.Kind], class: "threshold-label " + l.Kind})
	}
	for _, l := range c.off {
		labels = append(labels, label{y: plotTop, text: "↑ " + l.Label, color: lineColor[l.Kind], class: "threshold-label off-scale " + l.Kind})
	}
	for _, l := range spread(labels, plotTop, plotBottom+12) {
		fmt.Fprintf(&c.b, `<text class="%s" x="%s" y="%s" fill="%s">%s</text>`+"\n", l.class, f(plotRight+6), f(l.y+4), l.color, html.EscapeString(l.text))
	}
}

// marks draws the deploy and rollback marks; when they are close, their
// labels go either side so they do not overlap.
func (c *chart) marks() {
	mark := func(kind string, d time.Duration, color, anchor string) {
		xx, lx := c.t.x(d), c.t.x(d)
		switch anchor {
		case "end":
			lx -= 3
		case "start":
			lx += 3
		}
		fmt.Fprintf(&c.b, `<line class="mark %s" x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="1.5"/>`+"\n", kind, f(xx), f(xx), f(plotTop-4), f(plotBottom), color)
		fmt.Fprintf(&c.b, `<text class="mark-label %s" x="%s" y="%s" fill="%s" text-anchor="%s">%s</text>`+"\n", kind, f(lx), f(plotTop-7), color, anchor, kind)
	}
	if !c.deployed {
		return
	}
	if c.o.RollbackAt.IsZero() {
		mark("deploy", 0, seriesColor, "middle")
		return
	}
	rb := c.o.RollbackAt.Sub(c.o.DeployAt)
	deployAnchor, rollbackAnchor := "middle", "middle"
	if math.Abs(c.t.x(rb)-c.t.x(0)) < 60 {
		deployAnchor, rollbackAnchor = "end", "start"
		if rb < 0 {
			deployAnchor, rollbackAnchor = "start", "end"
		}
	}
	mark("deploy", 0, seriesColor, deployAnchor)
	mark("rollback", rb, rollbackColor, rollbackAnchor)
}

// series draws one line through the measured readings, a marker per reading
// coloured by verdict (hollow for dry runs) and a cross per unreadable check.
func (c *chart) series() {
	esc := html.EscapeString
	coords := make([]string, len(c.pts))
	for i, p := range c.pts {
		coords[i] = f(c.t.x(p.off)) + "," + f(c.v.y(p.r.Value))
	}
	fmt.Fprintf(&c.b, `<polyline class="series" fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`+"\n", seriesColor, strings.Join(coords, " "))
	for _, p := range c.pts {
		fill, stroke, note := render.VerdictColor(p.r.Verdict), "none", ""
		if p.r.DryRun {
			fill, stroke, note = "#fff", render.VerdictColor(p.r.Verdict), " (dry run)"
		}
		if p.r.Phase != "" {
			note += ", " + p.r.Phase
		}
		fmt.Fprintf(&c.b, `<circle class="reading %s" cx="%s" cy="%s" r="3.4" fill="%s" stroke="%s" stroke-width="1.5"><title>%s %s%s %s%s</title></circle>`+"\n",
			p.r.Verdict, f(c.t.x(p.off)), f(c.v.y(p.r.Value)), fill, stroke, offset(p.off), num(p.r.Value), esc(c.unit), p.r.Verdict, note)
	}
	for _, p := range c.missing {
		fmt.Fprintf(&c.b, `<text class="unavailable" x="%s" y="%s" text-anchor="middle" font-size="13" fill="%s">×<title>%s unavailable: %s</title></text>`+"\n",
			f(c.t.x(p.off)), f(plotBottom-3), render.VerdictColor(record.VerdictUnavailable), offset(p.off), esc(p.r.Detail))
	}
}
