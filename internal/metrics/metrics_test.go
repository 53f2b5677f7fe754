package metrics_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/spec"
)

const doc = `{"error_rate": 0.25, "latency": {"p95_ms": 120, "series": [{"v": 7}, {"v": 9.5}]},
 "odd key": 3, "missing": null, "text": "12", "flag": true}`

func jsonServer(t *testing.T, code int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPJSONPath(t *testing.T) {
	p := metrics.NewHTTP(jsonServer(t, 200, doc).URL, nil)
	ctx := context.Background()
	for q, want := range map[string]float64{
		"$.error_rate":             0.25,
		"error_rate":               0.25,
		"$.latency.p95_ms":         120,
		"$.latency.series[1].v":    9.5,
		"$['odd key']":             3,
		`$.latency["series"][0].v`: 7,
	} {
		got, err := p.Query(ctx, q, time.Time{})
		if err != nil || got != want {
			t.Errorf("Query(%q) = %v, %v; want %v", q, got, err, want)
		}
	}
	for q, wantErr := range map[string]string{
		"$.nope":                `no key "nope"`,
		"$.missing":             "null",
		"$.text":                "not a number",
		"$.flag":                "not a number",
		"$.latency.series[5].v": "no [5]",
		"$.error_rate.x":        "not an object",
		"$.latency[0]":          "not an array",
		"$.latency.series[x]":   "neither an index",
		"":                      "empty",
	} {
		got, err := p.Query(ctx, q, time.Time{})
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Query(%q) = %v, %v; want error containing %q", q, got, err, wantErr)
		}
	}
}

func TestHTTPProviderErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := metrics.NewHTTP(jsonServer(t, 503, `{"error_rate": 0}`).URL, nil).Query(ctx, "$.error_rate", time.Time{}); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("non-2xx: err = %v", err)
	}
	if _, err := metrics.NewHTTP(jsonServer(t, 200, `<html>`).URL, nil).Query(ctx, "$.error_rate", time.Time{}); err == nil {
		t.Error("non-JSON answer gave no error")
	}
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL
	down.Close()
	if v, err := metrics.NewHTTP(url, nil).Query(ctx, "$.error_rate", time.Time{}); err == nil {
		t.Errorf("provider down: got %v and no error", v)
	}
}

func TestHTTPAgainstDemoApp(t *testing.T) {
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	p, err := metrics.New(spec.Metrics{Provider: "http", URL: srv.URL + "/stats"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Query(ctx, "$.error_rate", time.Time{}); err == nil {
		t.Error("error_rate with no requests should be an error (null), not 0")
	}
	resp, err := http.Get(srv.URL + demoapp.PathPatients)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v, err := p.Query(ctx, "$.error_rate", time.Time{}); err != nil || v != 0 {
		t.Errorf("error_rate = %v, %v", v, err)
	}
	if v, err := p.Query(ctx, "$.requests", time.Time{}); err != nil || v != 1 {
		t.Errorf("requests = %v, %v", v, err)
	}
}

func TestNewProviders(t *testing.T) {
	for _, name := range []string{"cloudwatch", ""} {
		_, err := metrics.New(spec.Metrics{Provider: name, URL: "http://127.0.0.1:1"})
		if !errors.Is(err, metrics.ErrNotConfigured) || !strings.Contains(err.Error(), name) {
			t.Errorf("New(%q) err = %v, want ErrNotConfigured naming it", name, err)
		}
	}
	if _, err := metrics.New(spec.Metrics{Provider: "postgres"}); !errors.Is(err, metrics.ErrNotConfigured) || !strings.Contains(err.Error(), "metrics.url") {
		t.Errorf("postgres without url: err = %v", err)
	}
	for _, u := range []string{"", "127.0.0.1:9090", "ftp://x"} {
		if _, err := metrics.New(spec.Metrics{Provider: "prometheus", URL: u}); err == nil {
			t.Errorf("prometheus url %q gave no error", u)
		}
	}
	for _, m := range []spec.Metrics{{Provider: "prometheus", URL: "http://127.0.0.1:9090"}, {Provider: "Postgres", URL: "env://DB"}} {
		if _, err := metrics.New(m); err != nil {
			t.Errorf("New(%+v): %v", m, err)
		}
	}
	// A factory registered by the worker builds its provider (the cloudwatch hook), and wins over a built-in one.
	fixed := fixedProvider(42)
	for _, name := range []string{"cloudwatch", "prometheus"} {
		p, err := metrics.New(spec.Metrics{Provider: name}, metrics.WithFactory(name, func(spec.Metrics) (metrics.Provider, error) { return fixed, nil }))
		if err != nil {
			t.Fatal(err)
		}
		if v, err := p.Query(context.Background(), "x", time.Time{}); err != nil || v != 42 {
			t.Errorf("%s factory: %v, %v", name, v, err)
		}
	}
	if _, err := metrics.New(spec.Metrics{Provider: "cloudwatch"}, metrics.WithFactory("cloudwatch", nil)); !errors.Is(err, metrics.ErrNotConfigured) {
		t.Errorf("nil factory: err = %v", err)
	}
	if _, err := metrics.New(spec.Metrics{Provider: "graphite"}); err == nil || errors.Is(err, metrics.ErrNotConfigured) {
		t.Errorf("unknown provider err = %v", err)
	}
	if _, err := metrics.New(spec.Metrics{Provider: "http"}); err == nil {
		t.Error("http provider without url gave no error")
	}
}

// fixedProvider answers every query with itself.
type fixedProvider float64

func (f fixedProvider) Query(context.Context, string, time.Time) (float64, error) {
	return float64(f), nil
}
