package demoapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/golive/golive/internal/demoapp"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newServer(t *testing.T, o demoapp.Options) (*demoapp.App, string) {
	t.Helper()
	o.Logger = quiet()
	app := demoapp.New(o)
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return app, srv.URL
}

// do sends an anonymous request.
func do(t *testing.T, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	return doAs(t, "", method, url, body)
}

// doAs sends a request with token as its Bearer token (none when empty).
func doAs(t *testing.T, token, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestFlowsAnswerWithSecurityHeaders(t *testing.T) {
	_, base := newServer(t, demoapp.Options{Seed: 1})
	flows := []struct{ method, path string }{
		{"POST", demoapp.PathLogin}, {"GET", demoapp.PathPatients}, {"POST", demoapp.PathAppointments},
		{"POST", demoapp.PathNotes}, {"GET", demoapp.PathBilling}, {"GET", "/healthz"}, {"GET", "/version"}, {"GET", "/"},
	}
	for _, f := range flows {
		resp, body := doAs(t, demoapp.SessionToken, f.method, base+f.path, "")
		if resp.StatusCode != 200 {
			t.Errorf("%s %s = %d %s", f.method, f.path, resp.StatusCode, body)
		}
		for _, h := range []string{"Strict-Transport-Security", "X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s %s: header %s missing", f.method, f.path, h)
			}
		}
	}
	resp, body := do(t, "GET", base+"/version", "")
	var v struct{ Version string }
	if err := json.Unmarshal(body, &v); err != nil || v.Version != "1.0.0" {
		t.Errorf("/version = %d %s (%v)", resp.StatusCode, body, err)
	}
	if resp, _ := do(t, "POST", base+demoapp.PathLogin, `{"user":"u1","password":"nope"}`); resp.StatusCode != 401 {
		t.Errorf("wrong password = %d, want 401", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", base+demoapp.PathMe, ""); resp.StatusCode != 401 {
		t.Errorf("unauthenticated %s = %d, want 401", demoapp.PathMe, resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", base+demoapp.PathMe, nil)
	req.Header.Set("Authorization", "Bearer demo-session")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("authenticated %s = %v, %v", demoapp.PathMe, resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, _ := do(t, "GET", base+"/nope", ""); resp.StatusCode != 404 {
		t.Errorf("/nope = %d, want 404", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", base+demoapp.PathLogin, ""); resp.StatusCode != 405 {
		t.Errorf("GET login = %d, want 405", resp.StatusCode)
	}
}

func TestStatsAreNullWithoutRequests(t *testing.T) {
	_, base := newServer(t, demoapp.Options{Version: "3.1.4"})
	_, body := do(t, "GET", base+"/stats", "")
	var s map[string]any
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	if s["version"] != "3.1.4" || s["requests"] != 0.0 || s["error_rate"] != nil || s["latency_p95_ms"] != nil {
		t.Errorf("empty stats = %s", body)
	}
}

func stats(t *testing.T, base string) demoapp.Stats {
	t.Helper()
	_, body := do(t, "GET", base+"/stats", "")
	var s demoapp.Stats
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("stats %s: %v", body, err)
	}
	return s
}

// waitStats polls /stats until ok holds or 15s pass.
func waitStats(t *testing.T, base string, ok func(demoapp.Stats) bool) demoapp.Stats {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := stats(t, base)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats never matched: %+v", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBadVersionRaisesErrorRateWithTraffic(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app := demoapp.New(demoapp.Options{Traffic: 100, Window: 2 * time.Second, Seed: 7, Logger: quiet()})
	addr, err := app.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr

	good := waitStats(t, base, func(s demoapp.Stats) bool { return s.Requests >= 50 })
	if good.ErrorRate == nil || *good.ErrorRate > 1 || good.LatencyP95 == nil || *good.LatencyP95 > 50 {
		t.Errorf("healthy version stats = %+v", good)
	}
	if good.ActiveUsers == 0 || good.FailedLoginRate == nil {
		t.Errorf("healthy stats lack users or logins: %+v", good)
	}

	if resp, body := do(t, "POST", base+"/admin/deploy", `{"version":"2.0.0-bad","key":"k1"}`); resp.StatusCode != 200 {
		t.Fatalf("deploy = %d %s", resp.StatusCode, body)
	}
	bad := waitStats(t, base, func(s demoapp.Stats) bool {
		return s.Version == "2.0.0-bad" && s.ErrorRate != nil && *s.ErrorRate > 5 && s.LatencyP95 != nil && *s.LatencyP95 > 200
	})
	t.Logf("bad version stats: error_rate=%.1f%% p95=%.0fms requests=%d", *bad.ErrorRate, *bad.LatencyP95, bad.Requests)
	if resp, _ := do(t, "GET", base+"/healthz", ""); resp.StatusCode != 503 {
		t.Errorf("healthz on bad version = %d, want 503", resp.StatusCode)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := http.Get(base + "/healthz"); err != nil {
			return // server stopped with ctx
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("server still answering after ctx ended")
}

func TestDeployKeyIsAppliedOnce(t *testing.T) {
	app, base := newServer(t, demoapp.Options{})
	var first, second demoapp.DeployResponse
	for i, out := range []*demoapp.DeployResponse{&first, &second} {
		resp, body := do(t, "POST", base+"/admin/deploy", `{"version":"1.1.0","key":"rel-1:deploy:1.1.0"}`)
		if resp.StatusCode != 200 {
			t.Fatalf("deploy %d = %d %s", i, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatal(err)
		}
	}
	if first.Previous != "1.0.0" || first.Live != "1.1.0" || first.Replayed {
		t.Errorf("first deploy = %+v", first)
	}
	if second.Previous != "1.0.0" || second.Live != "1.1.0" || !second.Replayed || !second.At.Equal(first.At) {
		t.Errorf("replayed deploy = %+v, want the original record", second)
	}
	if resp, _ := do(t, "POST", base+"/admin/deploy", `{"version":"9.9.9","key":"rel-1:deploy:1.1.0"}`); resp.StatusCode != 409 {
		t.Errorf("same key, other version = %d, want 409", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", base+"/admin/deploy", `{"key":"x"}`); resp.StatusCode != 400 {
		t.Errorf("empty version = %d, want 400", resp.StatusCode)
	}
	_, body := do(t, "GET", base+"/admin/deploys", "")
	var log []demoapp.Deploy
	if err := json.Unmarshal(body, &log); err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].From != "1.0.0" || log[0].To != "1.1.0" || log[0].Key != "rel-1:deploy:1.1.0" {
		t.Errorf("deploy log = %s", body)
	}
	if got := app.DeployLog(); len(got) != 1 || app.Version() != "1.1.0" {
		t.Errorf("DeployLog() = %+v, Version() = %s", got, app.Version())
	}
}

func TestMetricsParse(t *testing.T) {
	_, base := newServer(t, demoapp.Options{Version: "1.2.3"})
	doAs(t, demoapp.SessionToken, "GET", base+demoapp.PathPatients, "")
	do(t, "POST", base+demoapp.PathLogin, `{"user":"u","password":"bad-pw"}`)
	do(t, "POST", base+"/admin/deploy", `{"version":"1.2.4"}`)
	_, body := do(t, "GET", base+"/metrics", "")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	has := func(family string, labels map[string]string) float64 {
		t.Helper()
		f, ok := fams[family]
		if !ok {
			t.Fatalf("family %s missing", family)
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		t.Errorf("%s%v missing", family, labels)
		return 0
	}
	if v := has("http_requests_total", map[string]string{"path": demoapp.PathPatients, "code": "200"}); v != 1 {
		t.Errorf("http_requests_total = %v", v)
	}
	if v := has("http_request_duration_seconds", map[string]string{"path": demoapp.PathPatients}); v != 1 {
		t.Errorf("histogram count = %v", v)
	}
	if v := has("login_attempts_total", map[string]string{"result": "failure"}); v != 1 {
		t.Errorf("failed logins = %v", v)
	}
	if v := has("build_info", map[string]string{"version": "1.2.4"}); v != 1 {
		t.Errorf("build_info = %v", v)
	}
	if n := len(fams["build_info"].GetMetric()); n != 1 {
		t.Errorf("build_info has %d series, want only the live version", n)
	}
}
