package metrics_test

import (
	"context"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/promtest"
)

// PromQL for the demo app's metrics over a short window (the test scrapes every second).
const (
	promErrorRate = `100 * (sum(rate(http_requests_total{path=~"/api/.*",code=~"5.."}[30s])) or vector(0)) / sum(rate(http_requests_total{path=~"/api/.*"}[30s]))`
	promP95       = `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{path=~"/api/.*"}[30s])))`
	promLogins    = `100 * (sum(rate(login_attempts_total{result="failure"}[30s])) or vector(0)) / sum(rate(login_attempts_total[30s]))`
)

// serveDemo serves a demo app with synthetic traffic on a free loopback port until the test ends.
func serveDemo(t *testing.T, version string) (*demoapp.App, string) {
	t.Helper()
	app := demoapp.New(demoapp.Options{Version: version, Traffic: 100, Seed: 7, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addr, err := app.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return app, addr
}

// TestPrometheusCatchesBadRelease runs a real Prometheus scraping a real demo
// app: the healthy version's error rate stays low, then the bad version's
// rises above the rollback trigger (5 %), read through Provider.Query.
func TestPrometheusCatchesBadRelease(t *testing.T) {
	app, addr := serveDemo(t, "1.0.0")
	prom := promtest.Start(t, promtest.Options{Targets: []string{addr}})
	p, err := metrics.NewPrometheus(prom.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// rate() needs two scrapes in its window: poll until the first reading exists.
	first := poll(t, p, promErrorRate, func(float64) bool { return true }, 30*time.Second)
	healthy := []float64{first}
	for range 4 {
		time.Sleep(time.Second) // successive readings, one scrape apart
		v, err := p.Query(ctx, promErrorRate, time.Time{})
		if err != nil {
			t.Fatalf("healthy error rate: %v", err)
		}
		healthy = append(healthy, v)
	}
	for _, v := range healthy {
		if v > 0.1 {
			t.Errorf("healthy version's error rate %v%%, want below the 0.1%% target (%v)", v, healthy)
		}
	}
	if v, err := p.Query(ctx, promP95, time.Time{}); err != nil || v <= 0 || v > 250 {
		t.Errorf("healthy p95 = %vms, %v", v, err)
	}
	if v, err := p.Query(ctx, promLogins, time.Time{}); err != nil || v > 5 {
		t.Errorf("healthy failed logins = %v%%, %v", v, err)
	}

	if _, _, err := app.SetVersion("2.0.0-bad", ""); err != nil {
		t.Fatal(err)
	}
	switched := time.Now()
	bad := poll(t, p, promErrorRate, func(v float64) bool { return v > 5 }, 45*time.Second)
	t.Logf("healthy error rate %v%%; bad release above 5%% (%.1f%%) after %s", healthy, bad, time.Since(switched).Round(100*time.Millisecond))
	p95 := poll(t, p, promP95, func(v float64) bool { return v > 250 }, 45*time.Second)
	t.Logf("bad release p95 %.0fms", p95)
}

// poll queries until ok accepts the value, or fails the test at the deadline.
func poll(t *testing.T, p metrics.Provider, q string, ok func(float64) bool, timeout time.Duration) float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		v, err := p.Query(context.Background(), q, time.Time{})
		if err == nil && ok(v) {
			return v
		}
		last = "value " + strconv.FormatFloat(v, 'g', -1, 64)
		if err != nil {
			last = "error " + err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no acceptable reading within %s; last %s", q, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// history is a fixed 20-minute history starting at t0: a gauge stepping every
// minute and a counter growing 6 per 15 s scrape (rate 0.4/s) for the error
// requests, 120 per 15 s (8/s) for all requests: an error rate of exactly 5 %.
var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func history() string {
	var gauge, errs, all, twins []promtest.Point
	for i := 0; i <= 20; i++ {
		gauge = append(gauge, promtest.Point{T: t0.Add(time.Duration(i) * time.Minute), V: float64(i) * 1.5})
	}
	for i := 0; i <= 80; i++ {
		at := t0.Add(time.Duration(i) * 15 * time.Second)
		errs = append(errs, promtest.Point{T: at, V: float64(6 * i)})
		all = append(all, promtest.Point{T: at, V: float64(120 * i)})
		twins = append(twins, promtest.Point{T: at, V: 1})
	}
	return promtest.OpenMetrics(
		promtest.Series{Name: "golive_fixed_gauge", Labels: map[string]string{"service": "portal"}, Points: gauge},
		promtest.Series{Name: "golive_fixed_requests_total", Type: "counter", Labels: map[string]string{"code": "500"}, Points: errs},
		promtest.Series{Name: "golive_fixed_requests_total", Type: "counter", Labels: map[string]string{"code": "200"}, Points: all},
		promtest.Series{Name: "golive_twin", Labels: map[string]string{"i": "a"}, Points: twins},
		promtest.Series{Name: "golive_twin", Labels: map[string]string{"i": "b"}, Points: twins},
	)
}

// TestPrometheusBackfilledHistory reads exact known values at given times from
// a history written with promtool, checks every way a query can fail to be one
// number, and that a stopped server is an error, not 0.
func TestPrometheusBackfilledHistory(t *testing.T) {
	prom := promtest.Start(t, promtest.Options{Backfill: []string{history()}})
	p, err := metrics.NewPrometheus(prom.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errRate := `100 * sum(rate(golive_fixed_requests_total{code="500"}[5m])) / sum(rate(golive_fixed_requests_total{code=~"200|500"}[5m]))`
	for _, c := range []struct {
		q    string
		at   time.Time
		want float64
	}{
		{`golive_fixed_gauge`, t0, 0},
		{`golive_fixed_gauge`, t0.Add(7 * time.Minute), 10.5},
		{`golive_fixed_gauge`, t0.Add(7*time.Minute + 59*time.Second), 10.5}, // the last sample before at
		{`golive_fixed_gauge{service="portal"}`, t0.Add(20 * time.Minute), 30},
		{`max_over_time(golive_fixed_gauge[5m])`, t0.Add(12 * time.Minute), 18},
		{`rate(golive_fixed_requests_total{code="500"}[5m])`, t0.Add(10 * time.Minute), 0.4},
		{errRate, t0.Add(10 * time.Minute), 100 * 0.4 / 8.4},
		{`sum(golive_twin)`, t0.Add(time.Minute), 2},
		{`scalar(golive_fixed_gauge) * 2`, t0.Add(2 * time.Minute), 6},
		{`vector(0)`, t0, 0},
	} {
		got, err := p.Query(ctx, c.q, c.at)
		if err != nil || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Query(%s) at +%s = %v, %v; want %v", c.q, c.at.Sub(t0), got, err, c.want)
		}
	}
	for _, c := range []struct {
		q       string
		at      time.Time
		wantErr string
	}{
		{`golive_fixed_gauge`, t0.Add(-time.Hour), "no series"},                          // before the history
		{`golive_fixed_gauge`, t0.Add(40 * time.Minute), "no series"},                    // past the 5m lookback: stale
		{`golive_nonexistent_metric`, t0, "no series"},                                   // a typo is not 0
		{`golive_twin`, t0, "2 series"},                                                  // aggregation missing
		{`golive_fixed_gauge / 0`, t0.Add(time.Minute), "+Inf"},                          // division by zero
		{`rate(golive_fixed_gauge[5m]) / rate(golive_fixed_gauge[5m])`, t0, "no series"}, // rate needs two samples
		{`0 * golive_fixed_gauge / 0`, t0.Add(time.Minute), "NaN"},
		{`golive_fixed_gauge[5m]`, t0.Add(10 * time.Minute), "range vector"},
		{`sum(rate(golive_fixed_gauge[5m])`, t0, "rejected the query"},
		{`"text"`, t0, "string"},
		{``, t0, "empty"},
	} {
		got, err := p.Query(ctx, c.q, c.at)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("Query(%s) at +%s = %v, %v; want an error containing %q", c.q, c.at.Sub(t0), got, err, c.wantErr)
		}
	}

	prom.Stop()
	got, err := p.Query(ctx, `golive_fixed_gauge`, t0.Add(7*time.Minute))
	if err == nil {
		t.Fatalf("Prometheus stopped: Query = %v and no error", got)
	}
	if !strings.Contains(err.Error(), prom.URL) {
		t.Errorf("stopped: error %q does not name the server", err)
	}
	t.Logf("stopped: %v", err)
}

// TestPrometheusQueryHonoursContext: a cancelled check returns at once.
func TestPrometheusQueryHonoursContext(t *testing.T) {
	p, err := metrics.NewPrometheus("http://127.0.0.1:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Query(ctx, "up", time.Time{}); err == nil {
		t.Error("no error with a cancelled context")
	}
}
