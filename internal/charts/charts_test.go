package charts_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/charts"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

var deployAt = time.Date(2025, 5, 6, 22, 0, 0, 0, time.UTC)

// watch returns the readings of the default 24h watch (30 checks at their exact
// offsets) of one metric: value(i) at check i, unavailable where down(i).
func watch(t *testing.T, metric string, value func(i int) float64, down func(i int) bool) []record.Reading {
	t.Helper()
	offsets := spec.Defaults().Watch.Offsets()
	if len(offsets) != 30 {
		t.Fatalf("default watch has %d checks, want 30", len(offsets))
	}
	var out []record.Reading
	for i, o := range offsets {
		r := record.Reading{At: deployAt.Add(o.Offset), Offset: o.Offset.String(), Phase: o.Phase, Metric: metric,
			Value: value(i), Unit: spec.MetricUnit(metric), Verdict: record.VerdictOK}
		if down(i) {
			r.Value, r.Verdict, r.Detail = 0, record.VerdictUnavailable, "prometheus: connection refused"
		}
		out = append(out, r)
	}
	return out
}

// svgDoc is the parts of a chart the tests look at.
type svgDoc struct {
	Polylines []struct {
		Class  string `xml:"class,attr"`
		Points string `xml:"points,attr"`
	} `xml:"polyline"`
	Lines []struct {
		Class string  `xml:"class,attr"`
		X1    float64 `xml:"x1,attr"`
		X2    float64 `xml:"x2,attr"`
		Y1    float64 `xml:"y1,attr"`
		Y2    float64 `xml:"y2,attr"`
	} `xml:"line"`
	Texts []struct {
		Class  string  `xml:"class,attr"`
		Y      float64 `xml:"y,attr"`
		Anchor string  `xml:"text-anchor,attr"`
		Text   string  `xml:",chardata"`
	} `xml:"text"`
	Circles []struct {
		Class string  `xml:"class,attr"`
		CX    float64 `xml:"cx,attr"`
		CY    float64 `xml:"cy,attr"`
	} `xml:"circle"`
}

func parse(t *testing.T, svg []byte) svgDoc {
	t.Helper()
	// Well-formed XML, every token.
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
	}
	var d svgDoc
	if err := xml.Unmarshal(svg, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d svgDoc) lines(class string) (out []float64) {
	for _, l := range d.Lines {
		if l.Class == class {
			out = append(out, l.Y1)
		}
	}
	return out
}

func (d svgDoc) marks(class string) (out []float64) {
	for _, l := range d.Lines {
		if l.Class == class {
			out = append(out, l.X1)
		}
	}
	return out
}

func (d svgDoc) texts(class string) (out []string) {
	for _, x := range d.Texts {
		if x.Class == class {
			out = append(out, strings.TrimSpace(x.Text))
		}
	}
	return out
}

func TestErrorRateChartOverTheWatch(t *testing.T) {
	th := spec.Defaults().Thresholds
	rs := watch(t, "error_rate", func(i int) float64 { return 0.02 * float64(i%5) }, func(i int) bool { return i == 7 || i == 8 })
	rs[23].Value, rs[23].Verdict = 6, record.VerdictRollback
	rs = append(rs, record.Reading{At: deployAt.Add(time.Hour), Metric: "latency_p95", Value: 900}) // another metric: ignored
	rs = append(rs, record.Reading{At: deployAt.Add(-10 * time.Minute), Metric: "error_rate", Value: 50})
	rollbackAt := rs[23].At.Add(7 * time.Minute)
	o := charts.Options{Metric: "error_rate", Readings: rs, DeployAt: deployAt, RollbackAt: rollbackAt, Thresholds: &th}
	svg := charts.SVG(o)
	d := parse(t, svg)

	if len(d.Polylines) != 1 || d.Polylines[0].Class != "series" {
		t.Fatalf("polylines = %+v", d.Polylines)
	}
	if n := len(strings.Fields(d.Polylines[0].Points)); n != 28 {
		t.Errorf("polyline has %d points, want 28 (30 checks, 2 unavailable)", n)
	}
	if n := len(d.Circles); n != 28 {
		t.Errorf("%d reading markers, want 28", n)
	}
	if n := len(d.texts("unavailable")); n != 2 {
		t.Errorf("%d unavailable crosses, want 2", n)
	}
	if got := d.texts("threshold-label target"); !slices.Equal(got, []string{"target 0.1%"}) {
		t.Errorf("target label %v", got)
	}
	if got := d.texts("threshold-label critical"); !slices.Equal(got, []string{"critical 1%"}) {
		t.Errorf("critical label %v", got)
	}
	if got := d.texts("threshold-label rollback"); !slices.Equal(got, []string{"rollback 5%"}) {
		t.Errorf("rollback label %v", got)
	}
	tgt, crit, rb := d.lines("threshold target"), d.lines("threshold critical"), d.lines("threshold rollback")
	if len(tgt) != 1 || len(crit) != 1 || len(rb) != 1 || !(tgt[0] > crit[0] && crit[0] > rb[0]) {
		t.Errorf("threshold lines target %v critical %v rollback %v: want one each, higher values higher up", tgt, crit, rb)
	}
	if len(d.lines("threshold baseline")) != 0 {
		t.Error("baseline line without a baseline")
	}
	// The deploy at 0 is the left edge; the rollback 7 min after check 24 (+12h) sits at 12h07m of 24h.
	deploy, rollback := d.marks("mark deploy"), d.marks("mark rollback")
	if !slices.Equal(deploy, []float64{64}) {
		t.Errorf("deploy mark at %v, want the left edge 64", deploy)
	}
	wantX := 64 + (12*60+7)/(24*60.0)*(640-64)
	if len(rollback) != 1 || rollback[0] < wantX-0.1 || rollback[0] > wantX+0.1 {
		t.Errorf("rollback mark at %v, want %.1f", rollback, wantX)
	}
	// Time axis in hours: 0h to 24h every 2h.
	want := []string{"0h", "2h", "4h", "6h", "8h", "10h", "12h", "14h", "16h", "18h", "20h", "22h", "24h"}
	if got := d.texts("x-label"); !slices.Equal(got, want) {
		t.Errorf("x labels %v", got)
	}
	if !bytes.Contains(svg, []byte(">hours since deploy<")) {
		t.Error("no time axis title")
	}
	// The rollback reading is marked as such, up at 6 %, above the rollback line.
	var found bool
	for _, c := range d.Circles {
		if c.Class == "reading rollback" {
			found = true
			if c.CY >= rb[0] {
				t.Errorf("the 6%% reading (y %v) is not above the 5%% line (y %v)", c.CY, rb[0])
			}
		}
	}
	if !found {
		t.Error("no rollback reading marker")
	}
	// Deterministic: the same bytes again, and for the readings in any order.
	if again := charts.SVG(o); !bytes.Equal(again, svg) {
		t.Error("two renderings differ")
	}
	shuffled := slices.Clone(rs)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	o.Readings = shuffled
	if again := charts.SVG(o); !bytes.Equal(again, svg) {
		t.Error("the order of the readings changes the chart")
	}
	if path := os.Getenv("GOLIVE_CHART_OUT"); path != "" { // to look at it: GOLIVE_CHART_OUT=/tmp/error_rate.svg
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			t.Error(err)
		}
	}
}

func TestLatencyChartWithBaseline(t *testing.T) {
	th := spec.Defaults().Thresholds
	base := 180.0
	rs := watch(t, "latency_p95", func(i int) float64 { return 150 + float64(i) }, func(int) bool { return false })
	svg := charts.SVG(charts.Options{Metric: "latency_p95", Readings: rs, DeployAt: deployAt, Thresholds: &th, Baseline: &base})
	d := parse(t, svg)
	for class, want := range map[string]string{
		"threshold-label target":   "target 500ms",
		"threshold-label rollback": "rollback 280ms", // max(180 * 1.5, 180 + 100)
		"threshold-label baseline": "baseline 180ms",
		// 2 s is more than 3 times the 280 ms line just above the readings:
		// drawn, it would flatten them, so it is named at the top instead.
		"threshold-label off-scale critical": "↑ critical 2000ms",
	} {
		if got := d.texts(class); !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %v, want %q", class, got, want)
		}
	}
	if len(d.marks("mark rollback")) != 0 {
		t.Error("rollback mark without a rollback")
	}
	if n := len(strings.Fields(d.Polylines[0].Points)); n != 30 {
		t.Errorf("%d points", n)
	}
	if len(d.lines("threshold critical")) != 0 {
		t.Error("the off-scale critical line is drawn")
	}
	// Every y tick has the unit; the top tick is above the highest line on the scale (500 ms), below the 2 s one.
	ticks := d.texts("y-tick")
	if len(ticks) < 3 || !strings.HasSuffix(ticks[0], "ms") || ticks[0] != "0ms" {
		t.Errorf("y ticks %v", ticks)
	}
	if !regexp.MustCompile(`^([5-9][0-9]{2}|1[0-9]{3})ms$`).MatchString(ticks[len(ticks)-1]) {
		t.Errorf("top y tick %q, want 500ms to 2000ms", ticks[len(ticks)-1])
	}
	// Without a baseline there is no p95 rollback line (it is relative to the baseline).
	d = parse(t, charts.SVG(charts.Options{Metric: "latency_p95", Readings: rs, DeployAt: deployAt, Thresholds: &th}))
	if len(d.lines("threshold rollback")) != 0 || len(d.lines("threshold baseline")) != 0 {
		t.Error("rollback or baseline line without a baseline")
	}
}

func TestLinesPerMetric(t *testing.T) {
	th := spec.Defaults().Thresholds
	base := 10.0
	kinds := func(ls []charts.Line) (out []string) {
		for _, l := range ls {
			out = append(out, l.Label)
		}
		return out
	}
	for metric, want := range map[string][]string{
		"db_connections": {"critical 80%", "baseline 10%"},
		"slow_queries":   {"target 15/h", "critical 50/h", "baseline 10/h"},
		"failed_logins":  {"critical 5%", "baseline 10%"},
		"queue_depth":    {"baseline 10"},
	} {
		if got := kinds(charts.Lines(metric, th, &base)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", metric, got, want)
		}
	}
}

func TestEmptyAndLongCharts(t *testing.T) {
	th := spec.Defaults().Thresholds
	d := parse(t, charts.SVG(charts.Options{Metric: "error_rate", DeployAt: deployAt, Thresholds: &th}))
	if len(d.Polylines) != 1 || strings.TrimSpace(d.Polylines[0].Points) != "" || len(d.lines("threshold target")) != 1 {
		t.Errorf("empty chart: %+v", d)
	}
	if got := d.texts("threshold-label off-scale critical"); !slices.Equal(got, []string{"↑ critical 1%"}) {
		t.Errorf("empty chart: off-scale critical label %v", got)
	}
	// A post-rollback watch past 24h stretches the axis to whole hours.
	rs := []record.Reading{{At: deployAt.Add(30*time.Hour + 20*time.Minute), Metric: "error_rate", Value: 0.1, Verdict: record.VerdictOK}}
	d = parse(t, charts.SVG(charts.Options{Metric: "error_rate", Readings: rs, DeployAt: deployAt, RollbackAt: deployAt.Add(26 * time.Hour), Thresholds: &th}))
	labels := d.texts("x-label")
	if labels[len(labels)-1] != "30h" {
		t.Errorf("x labels %v, want ticks every 3h up to 30h of 31h", labels)
	}
	if p := strings.Fields(d.Polylines[0].Points); len(p) != 1 || !strings.HasPrefix(p[0], "627.6,") { // 64 + 30h20m/31h * 576
		t.Errorf("the reading at +30h20m of 31h: %v", p)
	}
}

func TestReleaseCharts(t *testing.T) {
	th := spec.Defaults().Thresholds
	st := record.Status{DeployAt: deployAt, Rollback: &record.RollbackState{At: deployAt.Add(3 * time.Hour)},
		Baseline: []record.Reading{{Metric: "latency_p95", Value: 100, Verdict: record.VerdictOK}}}
	for i, off := range []time.Duration{15 * time.Minute, 30 * time.Minute} {
		st.Checks = append(st.Checks, record.CheckReport{Index: i + 1, At: deployAt.Add(off), Readings: []record.Reading{
			{Metric: "queue", Value: 3, Verdict: record.VerdictOK},
			{Metric: "latency_p95", Value: 120, Verdict: record.VerdictOK},
			{Metric: "error_rate", Value: 0.05, Verdict: record.VerdictOK},
		}})
	}
	cs := charts.Release(st, &th)
	var names []string
	for _, c := range cs {
		names = append(names, c.Metric)
		d := parse(t, c.SVG)
		if n := len(strings.Fields(d.Polylines[0].Points)); n != 2 {
			t.Errorf("%s: %d points (readings without At take their check's time)", c.Metric, n)
		}
		if len(d.marks("mark rollback")) != 1 {
			t.Errorf("%s: no rollback mark", c.Metric)
		}
	}
	if !slices.Equal(names, []string{"error_rate", "latency_p95", "queue"}) {
		t.Errorf("charts %v", names)
	}
	if !bytes.Contains(cs[1].SVG, []byte("baseline 100ms")) || !bytes.Contains(cs[1].SVG, []byte("rollback 200ms")) {
		t.Errorf("latency chart lacks its baseline lines")
	}
	if charts.Release(record.Status{}, &th) != nil {
		t.Error("charts without readings")
	}
}

func TestTimeAxisFitsTheWatchLength(t *testing.T) {
	th := spec.Defaults().Thresholds
	for _, tc := range []struct {
		name   string
		checks []time.Duration
		labels []string
		title  string
	}{
		{"the 24h production watch in hours", []time.Duration{15 * time.Minute, 4 * time.Hour, 24 * time.Hour},
			[]string{"0h", "2h", "4h", "6h", "8h", "10h", "12h", "14h", "16h", "18h", "20h", "22h", "24h"}, "hours since deploy"},
		{"a compressed 6-minute cadence in minutes", []time.Duration{2 * time.Minute, 4 * time.Minute, 6 * time.Minute},
			[]string{"0m", "1m", "2m", "3m", "4m", "5m", "6m"}, "minutes since deploy"},
		{"a 45-second demo in seconds", []time.Duration{15 * time.Second, 30 * time.Second, 45 * time.Second},
			[]string{"0s", "5s", "10s", "15s", "20s", "25s", "30s", "35s", "40s", "45s"}, "seconds since deploy"},
		{"an 8-second demo watch fills the plot", []time.Duration{2 * time.Second, 4500 * time.Millisecond, 8200 * time.Millisecond},
			[]string{"0s", "1s", "2s", "3s", "4s", "5s", "6s", "7s", "8s", "9s", "10s"}, "seconds since deploy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs []record.Reading
			for _, off := range tc.checks {
				rs = append(rs, record.Reading{At: deployAt.Add(off), Metric: "error_rate", Value: 0.05, Verdict: record.VerdictOK})
			}
			svg := charts.SVG(charts.Options{Metric: "error_rate", Readings: rs, DeployAt: deployAt, Thresholds: &th})
			d := parse(t, svg)
			if got := d.texts("x-label"); !slices.Equal(got, tc.labels) {
				t.Errorf("x labels %v, want %v", got, tc.labels)
			}
			if !bytes.Contains(svg, []byte(">"+tc.title+"<")) {
				t.Errorf("no axis title %q", tc.title)
			}
			if p := strings.Fields(d.Polylines[0].Points); len(p) != len(tc.checks) {
				t.Fatalf("%d points, want %d", len(p), len(tc.checks))
			}
		})
	}
	// Without a deploy time the first reading is time 0 and there are no marks.
	rs := []record.Reading{{At: deployAt, Metric: "error_rate", Value: 0.05}, {At: deployAt.Add(3 * time.Minute), Metric: "error_rate", Value: 0.06}}
	svg := charts.SVG(charts.Options{Metric: "error_rate", Readings: rs, Thresholds: &th})
	if d := parse(t, svg); len(d.marks("mark deploy")) != 0 || !bytes.Contains(svg, []byte(">minutes since the first reading<")) {
		t.Errorf("chart without a deploy time:\n%s", svg)
	}
}

func TestLabelsNeverOverlap(t *testing.T) {
	// The five lines of error_rate at 0.1, 0.12 (baseline), 1 and 5 %, readings
	// up to 1.4 %: target and baseline are 0.02 % apart, a pixel or two.
	th := spec.Defaults().Thresholds
	base := 0.12
	rs := []record.Reading{
		{At: deployAt.Add(2 * time.Minute), Metric: "error_rate", Value: 0.3, Verdict: record.VerdictOK},
		{At: deployAt.Add(4 * time.Minute), Metric: "error_rate", Value: 1.4, Verdict: record.VerdictCritical},
	}
	d := parse(t, charts.SVG(charts.Options{Metric: "error_rate", Readings: rs, DeployAt: deployAt,
		RollbackAt: deployAt.Add(10 * time.Second), Thresholds: &th, Baseline: &base}))
	var ys []float64
	for _, x := range d.Texts {
		if strings.HasPrefix(x.Class, "threshold-label") {
			ys = append(ys, x.Y)
		}
	}
	if len(ys) != 4 {
		t.Fatalf("%d threshold labels, want target, critical, rollback, baseline", len(ys))
	}
	slices.Sort(ys)
	for i := 1; i < len(ys); i++ {
		if ys[i]-ys[i-1] < 11.9 {
			t.Errorf("labels at y=%v and y=%v overlap (less than 12 apart)", ys[i-1], ys[i])
		}
	}
	// The deploy and rollback marks 10 s apart on a 5-minute axis: their labels go either side.
	anchors := map[string]string{}
	for _, x := range d.Texts {
		if strings.HasPrefix(x.Class, "mark-label ") {
			anchors[strings.TrimPrefix(x.Class, "mark-label ")] = x.Anchor
		}
	}
	if anchors["deploy"] != "end" || anchors["rollback"] != "start" {
		t.Errorf("mark label anchors %v, want deploy end, rollback start", anchors)
	}
}
