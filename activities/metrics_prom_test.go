package activities_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/promtest"
	"github.com/golive/golive/internal/spec"
)

// deployAt is the deploy time of the fixed history below.
var deployAt = time.Date(2025, 5, 6, 10, 0, 0, 0, time.UTC)

// watchHistory is a fixed hour of the five checklist metrics, one sample a
// minute: the error rate is i/10 % at minute i (so 1.5 % at +15m, 3 % at +30m),
// p95 120 ms, DB connections 40 %, slow queries 2/h, failed logins 0.5 %.
func watchHistory() string {
	var errs, p95, conns, slow, logins []promtest.Point
	for i := 0; i <= 60; i++ {
		at := deployAt.Add(time.Duration(i) * time.Minute)
		errs = append(errs, promtest.Point{T: at, V: float64(i) / 10})
		p95 = append(p95, promtest.Point{T: at, V: 0.120})
		conns = append(conns, promtest.Point{T: at, V: 40})
		slow = append(slow, promtest.Point{T: at, V: 2})
		logins = append(logins, promtest.Point{T: at, V: 0.5})
	}
	lbl := map[string]string{"service": "portal"}
	return promtest.OpenMetrics(
		promtest.Series{Name: "portal_error_rate_percent", Labels: lbl, Points: errs},
		promtest.Series{Name: "portal_latency_p95_seconds", Labels: lbl, Points: p95},
		promtest.Series{Name: "portal_db_connections_percent", Labels: lbl, Points: conns},
		promtest.Series{Name: "portal_slow_queries_per_hour", Labels: lbl, Points: slow},
		promtest.Series{Name: "portal_failed_logins_percent", Labels: lbl, Points: logins},
	)
}

// watchMetrics are the five checklist metrics as PromQL over watchHistory.
func watchMetrics(url string) spec.Metrics {
	return spec.Metrics{Provider: "prometheus", URL: url, Queries: map[string]string{
		"error_rate":     `max(portal_error_rate_percent{service="portal"})`,
		"latency_p95":    `1000 * max(portal_latency_p95_seconds{service="portal"})`,
		"db_connections": `max(portal_db_connections_percent{service="portal"})`,
		"slow_queries":   `max(portal_slow_queries_per_hour{service="portal"})`,
		"failed_logins":  `max(portal_failed_logins_percent{service="portal"})`,
	}}
}

// TestSampleAtScheduledTime reads a backfilled history through the activity:
// each check reads exactly the values at its scheduled time, whenever it runs,
// and the analysis conditions give each metric its verdict.
func TestSampleAtScheduledTime(t *testing.T) {
	prom := promtest.Start(t, promtest.Options{Backfill: []string{watchHistory()}})
	m := watchMetrics(prom.URL)
	m.Analysis = map[string]spec.Analysis{
		"error_rate":    {SuccessCondition: "result < 1", FailureCondition: "result > 2.5"},
		"latency_p95":   {SuccessCondition: "result < 500"},
		"failed_logins": {FailureCondition: "result > 5", DryRun: true},
	}
	a := &activities.Metrics{}
	for _, c := range []struct {
		offset time.Duration
		errors float64
		cond   string
	}{
		{0, 0, "success"},
		{5 * time.Minute, 0.5, "success"},
		{15 * time.Minute, 1.5, "inconclusive"},
		{30 * time.Minute, 3, "failure"},
		{45*time.Minute + 30*time.Second, 4.5, "failure"}, // between samples: the last one before
	} {
		at := deployAt.Add(c.offset)
		s, err := a.Sample(context.Background(), activities.SampleInput{ReleaseID: "r", Metrics: m, At: at})
		if err != nil {
			t.Fatal(err)
		}
		if !s.At.Equal(at) {
			t.Errorf("+%s: Sample.At = %v, want the scheduled time", c.offset, s.At)
		}
		want := []activities.MetricValue{
			{Name: "db_connections", Value: 40, Unit: "%"},
			{Name: "error_rate", Value: c.errors, Unit: "%", Condition: c.cond},
			{Name: "failed_logins", Value: 0.5, Unit: "%", Condition: "success"},
			{Name: "latency_p95", Value: 120, Unit: "ms", Condition: "success"},
			{Name: "slow_queries", Value: 2, Unit: "/h"},
		}
		if len(s.Values) != len(want) {
			t.Fatalf("+%s: %+v", c.offset, s.Values)
		}
		for i, w := range want {
			g := s.Values[i]
			w.Query = m.Queries[w.Name]
			if g.Name != w.Name || math.Abs(g.Value-w.Value) > 1e-9 || g.Unit != w.Unit || g.Condition != w.Condition || g.Error != "" || g.Query != w.Query {
				t.Errorf("+%s: %+v, want %+v", c.offset, g, w)
			}
		}
	}

	// Before the history there is no data: every metric is an error, never 0 or healthy.
	s, err := a.Sample(context.Background(), activities.SampleInput{Metrics: m, At: deployAt.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range s.Values {
		if !strings.Contains(v.Error, "no series") || v.Condition != "" {
			t.Errorf("no data: %+v", v)
		}
	}

	// Prometheus stopped mid-watch: every reading is an error naming the server,
	// not 0 (whatever the network stack says about a closed port).
	prom.Stop()
	s, err = a.Sample(context.Background(), activities.SampleInput{Metrics: m, At: deployAt.Add(20 * time.Minute)})
	if err != nil {
		t.Fatalf("a provider that is down is a reading error, not an activity error: %v", err)
	}
	for _, v := range s.Values {
		if !strings.Contains(v.Error, strings.TrimPrefix(prom.URL, "http://")) || v.Value != 0 || v.Condition != "" {
			t.Errorf("stopped: %+v", v)
		}
	}
}

// TestSampleConditionsOverHTTP: conditions judge any provider's values; a
// condition that does not parse (a spec that skipped the loader) is that
// metric's error, not a verdict.
func TestSampleConditionsOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"error_rate": 0.4, "latency_p95_ms": 900, "queue": 12}`)
	}))
	defer srv.Close()
	s, err := (&activities.Metrics{}).Sample(context.Background(), activities.SampleInput{Metrics: spec.Metrics{
		Provider: "http", URL: srv.URL,
		Queries: map[string]string{"error_rate": "$.error_rate", "latency_p95": "$.latency_p95_ms", "queue": "$.queue", "missing": "$.nope"},
		Analysis: map[string]spec.Analysis{
			"error_rate":  {SuccessCondition: "result < 1"},
			"latency_p95": {SuccessCondition: "result < 500", FailureCondition: "result > 2000"},
			"queue":       {SuccessCondition: "result <"},
			"missing":     {SuccessCondition: "result < 1"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]activities.MetricValue{}
	for _, v := range s.Values {
		got[v.Name] = v
	}
	if v := got["error_rate"]; v.Condition != "success" || v.Value != 0.4 {
		t.Errorf("error_rate: %+v", v)
	}
	if v := got["latency_p95"]; v.Condition != "inconclusive" || v.Value != 900 {
		t.Errorf("latency_p95: %+v", v)
	}
	if v := got["queue"]; v.Condition != "" || !strings.Contains(v.Error, "metrics.analysis.queue: success condition at column 9") {
		t.Errorf("queue: %+v", v)
	}
	if v := got["missing"]; v.Condition != "" || v.Error == "" {
		t.Errorf("missing: %+v", v)
	}
}

// BenchmarkWatchCheck times one watch check end to end (activities.Metrics.Sample
// over the prometheus provider with five queries, conditions included) against
// the raw PromQL query time: the same five queries as bare HTTP requests to
// /api/v1/query, one after the other and all at once (Sample runs its queries
// concurrently), on a real Prometheus scraping the demo app. It prints both
// ratios; check/raw-concurrent is the overhead golive adds.
func BenchmarkWatchCheck(b *testing.B) {
	_, addr := benchDemo(b)
	prom := promtest.Start(b, promtest.Options{Targets: []string{addr}})
	m := spec.Metrics{Provider: "prometheus", URL: prom.URL, Queries: map[string]string{
		"error_rate":    `100 * (sum(rate(http_requests_total{path=~"/api/.*",code=~"5.."}[30s])) or vector(0)) / sum(rate(http_requests_total{path=~"/api/.*"}[30s]))`,
		"latency_p95":   `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{path=~"/api/.*"}[30s])))`,
		"failed_logins": `100 * (sum(rate(login_attempts_total{result="failure"}[30s])) or vector(0)) / sum(rate(login_attempts_total[30s]))`,
		"requests":      `sum(rate(http_requests_total[30s]))`,
		"slow_requests": `sum(rate(http_request_duration_seconds_count[30s])) - sum(rate(http_request_duration_seconds_bucket{le="0.5"}[30s]))`,
	}, Analysis: map[string]spec.Analysis{"error_rate": {SuccessCondition: "result < 1", FailureCondition: "result > 5"}}}
	client := &http.Client{Timeout: 30 * time.Second}
	a := &activities.Metrics{HTTP: client}
	ctx := context.Background()
	prom.WaitFor(`sum(rate(http_requests_total[30s]))`, func(v float64) bool { return v > 0 }, 30*time.Second)

	check := func() time.Duration {
		start := time.Now()
		s, err := a.Sample(ctx, activities.SampleInput{ReleaseID: "bench", Metrics: m})
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		for _, v := range s.Values {
			if v.Error != "" {
				b.Fatalf("%s: %s", v.Name, v.Error)
			}
		}
		return d
	}
	queries := make([]string, 0, len(m.Queries))
	for _, q := range m.Queries {
		queries = append(queries, q)
	}
	rawQuery := func(q string, at time.Time) {
		form := url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
		resp, err := client.PostForm(prom.URL+"/api/v1/query", form)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"success"`) {
			b.Fatalf("raw query: %s %s", resp.Status, body)
		}
	}
	rawSequential := func() time.Duration {
		start, at := time.Now(), time.Now()
		for _, q := range queries {
			rawQuery(q, at)
		}
		return time.Since(start)
	}
	rawConcurrent := func() time.Duration {
		start, at := time.Now(), time.Now()
		var wg sync.WaitGroup
		for _, q := range queries {
			wg.Go(func() { rawQuery(q, at) })
		}
		wg.Wait()
		return time.Since(start)
	}
	// Warm up connections, then interleave so all three see the same server state.
	check()
	rawSequential()
	rawConcurrent()
	const rounds = 50
	var checks, seq, conc []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range rounds {
			// Rotate which one goes first, so none always meets a server just woken up.
			for j := range 3 {
				switch (i + j) % 3 {
				case 0:
					checks = append(checks, check())
				case 1:
					seq = append(seq, rawSequential())
				case 2:
					conc = append(conc, rawConcurrent())
				}
			}
		}
	}
	b.StopTimer()
	c, s, p := median(checks), median(seq), median(conc)
	b.ReportMetric(float64(c.Microseconds()), "check-µs")
	b.ReportMetric(float64(s.Microseconds()), "raw-seq-µs")
	b.ReportMetric(float64(p.Microseconds()), "raw-conc-µs")
	b.ReportMetric(float64(c)/float64(p), "ratio-conc")
	b.ReportMetric(float64(c)/float64(s), "ratio-seq")
	fmt.Printf("watch check, 5 PromQL queries via activities.Metrics.Sample: median %s over %d rounds\n"+
		"  raw PromQL, same 5 queries over HTTP, concurrent: median %s -> ratio %.2f (golive's overhead)\n"+
		"  raw PromQL, same 5 queries over HTTP, sequential: median %s -> ratio %.2f\n",
		c.Round(time.Microsecond), len(checks), p.Round(time.Microsecond), float64(c)/float64(p), s.Round(time.Microsecond), float64(c)/float64(s))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchDemo serves the demo app with synthetic traffic on a free loopback port.
func benchDemo(tb testing.TB) (*demoapp.App, string) {
	tb.Helper()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 100, Seed: 11, Logger: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	addr, err := app.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return app, addr
}
