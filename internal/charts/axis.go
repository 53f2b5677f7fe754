package charts

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// timeAxis is the chart's time axis: offsets from an origin (the deploy, or
// the first reading when there was none) in the unit that suits the watch's
// length, so the 24-hour production watch reads in hours and a compressed
// test cadence of a few minutes in minutes or seconds.
type timeAxis struct {
	span, unit, step time.Duration
	// since ends the axis title: "since deploy" or "since the first reading".
	since string
}

// axisSteps are the tick intervals a time axis may use, shortest first.
var axisSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 168 * time.Hour, 336 * time.Hour,
}

// maxTicks is the most intervals a time axis is divided into.
const maxTicks = 12

// minSpan is the shortest time axis: a demo's watch of a few seconds fills
// the plot, a single reading at 0 still has an axis.
const minSpan = 10 * time.Second

// newTimeAxis fits an axis from 0 to last (the latest reading or mark):
// hours from 2 hours on, minutes from 2 minutes on, else seconds; the span is
// last rounded up to a whole unit (at least minSpan), the tick the shortest
// whole number of units giving at most maxTicks intervals.
func newTimeAxis(last time.Duration, since string) timeAxis {
	a := timeAxis{unit: time.Second, since: since}
	switch {
	case last >= 2*time.Hour:
		a.unit = time.Hour
	case last >= 2*time.Minute:
		a.unit = time.Minute
	}
	a.span = max(minSpan, (last + a.unit - 1).Truncate(a.unit))
	a.step = a.span / maxTicks
	for _, s := range axisSteps {
		if s >= a.unit && (a.span+s-1)/s <= maxTicks {
			a.step = s
			break
		}
	}
	return a
}

// x places an offset on the plot.
func (a timeAxis) x(d time.Duration) float64 {
	return plotLeft + float64(d)/float64(a.span)*(plotRight-plotLeft)
}

// label writes an offset in the axis unit: "2h", "1.5h", "6m", "30s".
func (a timeAxis) label(d time.Duration) string {
	suffix := map[time.Duration]string{time.Hour: "h", time.Minute: "m", time.Second: "s"}[a.unit]
	return strconv.FormatFloat(float64(d)/float64(a.unit), 'f', -1, 64) + suffix
}

// title is the axis title, e.g. "hours since deploy".
func (a timeAxis) title() string {
	name := map[time.Duration]string{time.Hour: "hours", time.Minute: "minutes", time.Second: "seconds"}[a.unit]
	return name + " " + a.since
}

// valueAxis is the chart's value axis, from lo to hi in ticks of step.
type valueAxis struct{ lo, hi, step float64 }

// newValueAxis reaches from 0 (or the lowest value) to a round number above
// the highest value, with a little headroom.
func newValueAxis(lo, hi float64) valueAxis {
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	step := niceStep((hi - lo) / 4)
	lo = math.Floor(lo/step) * step
	hi = math.Ceil(hi*1.04/step) * step
	if hi <= lo {
		hi = lo + step
	}
	return valueAxis{lo: lo, hi: hi, step: step}
}

// y places a value on the plot.
func (a valueAxis) y(v float64) float64 {
	return plotBottom - (v-a.lo)/(a.hi-a.lo)*(plotBottom-plotTop)
}

// ticks are the values of the axis ticks, lo to hi.
func (a valueAxis) ticks() []float64 {
	n := int(math.Round((a.hi - a.lo) / a.step))
	out := make([]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		out = append(out, a.lo+a.step*float64(i))
	}
	return out
}

// niceStep rounds raw up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
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

// offset formats a reading's offset from the origin, e.g. "+1h15m".
func offset(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return "+" + s
}
