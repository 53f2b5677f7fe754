package evidence

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/golive/golive/internal/charts"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

// Chart geometry (SVG user units; the SVG scales to the page width).
const (
	chartW     = 700.0
	chartH     = 190.0
	plotLeft   = 62.0
	plotRight  = 590.0
	plotTop    = 22.0
	plotBottom = 150.0
)

// chartPoint is one reading placed in time.
type chartPoint struct {
	at      time.Time
	value   float64
	verdict record.Verdict
	label   string
	missing bool
	dryRun  bool
}

// metricSeries collects a metric's readings: the baseline and every watch check.
func metricSeries(st record.Status, metric string) (pts []chartPoint, unit string, baseline *chartPoint) {
	if r, ok := readingOf(st.Baseline, metric); ok && r.Verdict != record.VerdictUnavailable {
		baseline = &chartPoint{at: r.At, value: r.Value, label: "baseline before deploy: " + readingText(r)}
		unit = r.Unit
	}
	for _, c := range st.Checks {
		r, ok := readingOf(c.Readings, metric)
		if !ok {
			continue
		}
		at := r.At
		if at.IsZero() {
			at = c.At
		}
		if unit == "" {
			unit = r.Unit
		}
		pts = append(pts, chartPoint{
			at: at, value: r.Value, verdict: r.Verdict, dryRun: r.DryRun,
			missing: r.Verdict == record.VerdictUnavailable,
			label:   fmt.Sprintf("%s check %d at +%s (%s): %s, %s", c.Window, c.Index, c.Offset, c.Phase, readingText(r), r.Verdict),
		})
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].at.Before(pts[j].at) })
	return pts, unit, baseline
}

// thresholdColor is the colour of a threshold line (as internal/charts draws them).
var thresholdColor = map[string]string{
	charts.KindTarget:   "#b26b00",
	charts.KindCritical: "#d4380d",
	charts.KindRollback: "#b00020",
}

// metricChart draws one metric over the release as an inline SVG line chart:
// readings coloured by verdict, the pre-deploy baseline as a dashed line, the
// checklist thresholds (when th is known) as coloured dashed lines, and the
// deploy and rollback moments as vertical marks. Unlike internal/charts, whose
// axis is in hours, its time axis fits any watch, down to the demo's seconds.
// It returns "" when the metric has no readings in time.
func metricChart(st record.Status, metric string, th *spec.Thresholds) string {
	pts, unit, baseline := metricSeries(st, metric)
	if len(pts) == 0 {
		return ""
	}
	var lines []charts.Line
	if th != nil {
		var base *float64
		if baseline != nil {
			base = &baseline.value
		}
		for _, l := range charts.Lines(metric, *th, base) {
			if l.Kind != charts.KindBaseline && !math.IsNaN(l.Value) && !math.IsInf(l.Value, 0) {
				lines = append(lines, l)
			}
		}
	}
	// Time domain: the readings and the marks.
	t0, t1 := pts[0].at, pts[len(pts)-1].at
	var rollbackAt time.Time
	if st.Rollback != nil {
		rollbackAt = st.Rollback.At
	}
	var baseAt time.Time
	if baseline != nil {
		baseAt = baseline.at
	}
	for _, t := range []time.Time{st.DeployAt, rollbackAt, baseAt} {
		if t.IsZero() {
			continue
		}
		if t.Before(t0) {
			t0 = t
		}
		if t.After(t1) {
			t1 = t
		}
	}
	span := t1.Sub(t0)
	if span <= 0 {
		t0, span = t0.Add(-time.Second), 2*time.Second
	}
	x := func(t time.Time) float64 {
		return plotLeft + float64(t.Sub(t0))/float64(span)*(plotRight-plotLeft)
	}
	// Value domain: from zero (or the lowest value) to the highest, with headroom.
	lo, hi := 0.0, 0.0
	for _, p := range pts {
		if !p.missing {
			lo, hi = math.Min(lo, p.value), math.Max(hi, p.value)
		}
	}
	if baseline != nil {
		lo, hi = math.Min(lo, baseline.value), math.Max(hi, baseline.value)
	}
	// Threshold lines far above the readings would flatten them: the axis
	// reaches the next threshold above the data (and lines up to 3 times it);
	// the ones above that are named at the top as off the scale.
	lines, offScale := onScale(lines, hi)
	for _, l := range lines {
		lo, hi = math.Min(lo, l.Value), math.Max(hi, l.Value)
	}
	if hi <= lo {
		hi = lo + 1
	}
	step := niceCeil((hi - lo) * 1.08 / 4)
	hi = lo + step*math.Ceil((hi-lo)*1.08/step)
	y := func(v float64) float64 {
		return plotBottom - (v-lo)/(hi-lo)*(plotBottom-plotTop)
	}

	var b strings.Builder
	esc := html.EscapeString
	title := metric
	if unit != "" {
		title += " (" + unit + ")"
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="%s over the release" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, esc(title))
	fmt.Fprintf(&b, `<title>%s: %d reading(s)</title>`, esc(title), len(pts))
	// Frame and horizontal grid with value labels.
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#fff" stroke="#d0d7de"/>`, plotLeft, plotTop, plotRight-plotLeft, plotBottom-plotTop)
	ticks := int(math.Round((hi - lo) / step))
	for i := 0; i <= ticks; i++ {
		v := lo + step*float64(i)
		yy := y(v)
		if i > 0 && i < ticks {
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#eaeef2"/>`, plotLeft, plotRight, yy, yy)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="ax" text-anchor="end">%s%s</text>`, plotLeft-6, yy+4, num(v), esc(unit))
	}
	// Time ticks at a round step: offsets from the deploy when there was one, else clock times.
	origin := st.DeployAt
	if origin.IsZero() {
		origin = t0
	}
	tstep := timeStep(span)
	for k := int64(math.Ceil(float64(t0.Sub(origin)) / float64(tstep))); origin.Add(time.Duration(k)*tstep).Compare(t1) <= 0; k++ {
		t := origin.Add(time.Duration(k) * tstep)
		label := t.UTC().Format("15:04:05")
		if !st.DeployAt.IsZero() {
			label = offsetLabel(time.Duration(k)*tstep, span)
		}
		xx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#8c959f"/>`, xx, xx, plotBottom, plotBottom+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="ax" text-anchor="middle">%s</text>`, xx, plotBottom+17, esc(label))
	}
	// Threshold lines and the baseline, labelled at the right, labels kept apart.
	var labels []label
	for _, l := range lines {
		yy := y(l.Value)
		fmt.Fprintf(&b, `<line class="threshold %s" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="6 4"/>`,
			esc(l.Kind), plotLeft, plotRight, yy, yy, thresholdColor[l.Kind])
		labels = append(labels, label{y: yy, text: l.Kind + " " + num(l.Value) + unit, color: thresholdColor[l.Kind], class: "threshold-label " + l.Kind})
	}
	for _, l := range offScale {
		labels = append(labels, label{y: plotTop, text: "↑ " + l.Kind + " " + num(l.Value) + unit, color: thresholdColor[l.Kind], class: "threshold-label off-scale " + l.Kind})
	}
	if baseline != nil {
		yy := y(baseline.value)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#57606a" stroke-dasharray="5 4"/>`, plotLeft, plotRight, yy, yy)
		labels = append(labels, label{y: yy, text: "baseline " + num(baseline.value) + unit, color: "#57606a", class: "mk"})
	}
	for _, l := range spread(labels, plotTop, plotBottom+12) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="%s" fill="%s">%s</text>`, plotRight+6, l.y+4, l.class, l.color, esc(l.text))
	}
	if baseline != nil {
		yy := y(baseline.value)
		if !baseline.at.IsZero() {
			xx := x(baseline.at)
			fmt.Fprintf(&b, `<path d="M%.1f %.1fl4 4l-4 4l-4 -4z" fill="#57606a"><title>%s</title></path>`, xx, yy-4, esc(baseline.label))
		}
	}
	// Deploy and rollback marks; when they are close, their labels go either side.
	close := !st.DeployAt.IsZero() && !rollbackAt.IsZero() && math.Abs(x(rollbackAt)-x(st.DeployAt)) < 60
	mark := func(t time.Time, label, color, anchor string) {
		if t.IsZero() {
			return
		}
		xx := x(t)
		lx := xx
		switch anchor {
		case "end":
			lx -= 3
		case "start":
			lx += 3
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`, xx, xx, plotTop-8, plotBottom, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="mk mark-label" fill="%s" text-anchor="%s">%s</text>`, lx, plotTop-10, color, anchor, esc(label))
	}
	deployAnchor, rollbackAnchor := "middle", "middle"
	if close {
		deployAnchor, rollbackAnchor = "end", "start"
		if x(rollbackAt) < x(st.DeployAt) {
			deployAnchor, rollbackAnchor = "start", "end"
		}
	}
	mark(st.DeployAt, "deploy", "#0969da", deployAnchor)
	mark(rollbackAt, "rollback", "#b00020", rollbackAnchor)
	// The line through measured readings, then one marker per reading.
	var line []string
	for _, p := range pts {
		if !p.missing {
			line = append(line, fmt.Sprintf("%.1f,%.1f", x(p.at), y(p.value)))
		}
	}
	if len(line) > 1 {
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#0969da" stroke-width="1.6" points="%s"/>`, strings.Join(line, " "))
	}
	for _, p := range pts {
		xx := x(p.at)
		if p.missing {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="na" text-anchor="middle">×<title>%s</title></text>`, xx, plotBottom-3, esc(p.label))
			continue
		}
		fill := render.VerdictColor(p.verdict)
		if p.dryRun {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.4" fill="#fff" stroke="%s" stroke-width="1.5"><title>%s (dry run)</title></circle>`, xx, y(p.value), fill, esc(p.label))
			continue
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.4" fill="%s"><title>%s</title></circle>`, xx, y(p.value), fill, esc(p.label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// onScale splits threshold lines into those drawn on an axis that reaches
// dataHi (the highest reading) and those too far above it: the axis goes up to
// the lowest line above the data, and takes in lines up to 3 times that.
func onScale(lines []charts.Line, dataHi float64) (on, off []charts.Line) {
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
		if l.Value <= limit {
			on = append(on, l)
		} else {
			off = append(off, l)
		}
	}
	return on, off
}

// label is a line's label at the right of the plot.
type label struct {
	y                  float64
	text, color, class string
}

// spread moves labels apart vertically (at least 12 units) keeping their order, within [top, bottom].
func spread(ls []label, top, bottom float64) []label {
	const gap = 12.0
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].y < ls[j].y })
	for i := 1; i < len(ls); i++ {
		ls[i].y = math.Max(ls[i].y, ls[i-1].y+gap)
	}
	if n := len(ls); n > 0 && ls[n-1].y > bottom {
		ls[n-1].y = bottom
		for i := n - 2; i >= 0; i-- {
			ls[i].y = math.Min(ls[i].y, ls[i+1].y-gap)
		}
	}
	if len(ls) > 0 && ls[0].y < top {
		ls[0].y = top
	}
	return ls
}

// timeStep is a round tick interval giving at most six ticks over span.
func timeStep(span time.Duration) time.Duration {
	for _, d := range []time.Duration{
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	} {
		if span/d <= 6 {
			return d
		}
	}
	return span / 6
}

// niceCeil rounds v up to 1, 2, 2.5 or 5 times a power of ten, so axis labels read well.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// offsetLabel is d from the deploy as "+1m30s" or "-5s", rounded to the chart's resolution.
func offsetLabel(d, span time.Duration) string {
	round := time.Second
	switch {
	case span > 6*time.Hour:
		round = 15 * time.Minute
	case span > 30*time.Minute:
		round = time.Minute
	}
	d = d.Round(round)
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if d >= 0 {
		return "+" + s
	}
	return s
}
