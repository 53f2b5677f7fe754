package metrics_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/promtest"
	"github.com/golive/golive/internal/spec"
)

// TestProductionExampleQueries runs the PromQL of examples/healthcare-production.yaml
// against a Prometheus holding a fixed history shaped like the production
// exporters' (the app's HTTP metrics, postgres_exporter with pg_stat_statements),
// and checks each query gives the exact number in the unit its threshold uses.
func TestProductionExampleQueries(t *testing.T) {
	l, err := spec.Load("../../examples/healthcare-production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 7, 1, 3, 0, 0, 0, time.UTC)
	app := map[string]string{"job": "patient-portal", "instance": "portal-1:8080"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	pg := map[string]string{"job": "postgres", "instance": "db-1:9187", "datname": "portal", "user": "portal_app"}
	// Every counter grows by a fixed step per 15 s scrape, over 70 minutes.
	counter := func(name string, labels map[string]string, step float64) promtest.Series {
		s := promtest.Series{Name: name, Type: "counter", Labels: labels}
		for i := 0; i <= 280; i++ {
			s.Points = append(s.Points, promtest.Point{T: start.Add(time.Duration(i) * 15 * time.Second), V: step * float64(i)})
		}
		return s
	}
	gauge := func(name string, labels map[string]string, v float64) promtest.Series {
		s := counter(name, labels, 0)
		s.Type = ""
		for i := range s.Points {
			s.Points[i].V = v
		}
		return s
	}
	bucket := func(le string, step float64) promtest.Series {
		s := counter("http_request_duration_seconds_bucket", with(app, "le", le), step)
		s.Type = "" // stored as plain samples; histogram_quantile reads the le label
		return s
	}
	history := promtest.OpenMetrics(
		// 3 of every 300 requests fail: 1 %.
		counter("http_requests_total", with(app, "code", "200"), 297),
		counter("http_requests_total", with(app, "code", "500"), 3),
		// 90 % under 100 ms, 95 % under 250 ms: p95 is 250 ms.
		bucket("0.1", 90), bucket("0.25", 95), bucket("0.5", 100), bucket("+Inf", 100),
		// 40 connections of 200: 20 %.
		gauge("pg_stat_activity_count", with(pg, "state", "active"), 30),
		gauge("pg_stat_activity_count", with(pg, "state", "idle"), 10),
		gauge("pg_settings_max_connections", map[string]string{"job": "postgres", "instance": "db-1:9187", "server": "db-1:5432"}, 200),
		// Statement 1: 10 calls and 6 s per scrape (mean 600 ms: slow), 40 calls a minute = 2400 an hour.
		// Statement 2: 100 calls and 1 s per scrape (mean 10 ms: fast).
		counter("pg_stat_statements_calls_total", with(pg, "queryid", "1"), 10),
		counter("pg_stat_statements_seconds_total", with(pg, "queryid", "1"), 6),
		counter("pg_stat_statements_calls_total", with(pg, "queryid", "2"), 100),
		counter("pg_stat_statements_seconds_total", with(pg, "queryid", "2"), 1),
		// 1 failed login in 20: 5 %.
		counter("auth_logins_total", with(app, "result", "success"), 19),
		counter("auth_logins_total", with(app, "result", "failure"), 1),
	)
	prom := promtest.Start(t, promtest.Options{Backfill: []string{history}})
	m := l.Spec.Metrics
	m.URL = prom.URL
	p, err := metrics.New(m)
	if err != nil {
		t.Fatal(err)
	}
	at := start.Add(65 * time.Minute)
	for name, want := range map[string]float64{
		"error_rate":     1,
		"latency_p95":    250,
		"db_connections": 20,
		"slow_queries":   2400,
		"failed_logins":  5,
	} {
		q, ok := m.Queries[name]
		if !ok {
			t.Errorf("the example has no %s query", name)
			continue
		}
		got, err := p.Query(context.Background(), q, at)
		if err != nil || math.Abs(got-want) > 1e-6*math.Max(1, want) {
			t.Errorf("%s = %v, %v; want %v\n  query: %s", name, got, err, want, q)
		}
	}
	if len(m.Queries) != 5 {
		t.Errorf("the example has %d queries, this test checks 5", len(m.Queries))
	}
}
