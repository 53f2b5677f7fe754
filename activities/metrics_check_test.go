package activities_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/awsfake"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/promtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

func metricCheck(t *testing.T, m *activities.Metrics, c spec.Check) activities.Result {
	t.Helper()
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
	r, err := m.CheckMetric(context.Background(), activities.CheckInput{ReleaseID: "r1", ItemID: "item", Check: c})
	if err != nil {
		t.Fatalf("CheckMetric(%s): %v", c.Kind, err)
	}
	return r
}

func TestMetricCheckReadsItsProviderAndJudgesTheCondition(t *testing.T) {
	_, app := demo(t, "1.0.0")
	req, _ := http.NewRequest("GET", app.URL+demoapp.PathPatients, nil)
	req.Header.Set("Authorization", "Bearer "+demoapp.SessionToken)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	src := &spec.Metrics{Provider: "http", URL: app.URL + "/stats"}
	r := metricCheck(t, &activities.Metrics{}, spec.Check{Kind: "metric", Query: "$.error_rate", Condition: "result < 1", Metrics: src})
	wantState(t, "error rate under 1", r, record.ItemPassed, "")
	if r.Value != "http = 0 (want result < 1)" {
		t.Errorf("value = %q", r.Value)
	}
	r = metricCheck(t, &activities.Metrics{}, spec.Check{Kind: "metric", Query: "$.requests", Condition: "result > 100", Metrics: src})
	wantState(t, "too few requests", r, record.ItemFailed, "does not meet result > 100")
	r = metricCheck(t, &activities.Metrics{}, spec.Check{Kind: "metric", Query: "$.nothing", Condition: "result > 0", Metrics: src})
	wantState(t, "unreadable", r, record.ItemUnavailable, "")
	r = metricCheck(t, &activities.Metrics{}, spec.Check{Kind: "metric", Query: "x", Condition: "result > 0", Metrics: &spec.Metrics{Provider: "cloudwatch"}})
	wantState(t, "provider not configured", r, record.ItemUnavailable, "not configured")
}

// The real Prometheus evaluates a rule file: one rule never fires, one fires at once.
const alertRules = `groups:
  - name: portal
    rules:
      - alert: PortalHighErrorRate
        expr: vector(0) > 1
      - alert: PortalSlow
        expr: vector(1) > 0
`

func TestAlertsCheckPassesWhenEveryWatchedMetricHasAQuietRule(t *testing.T) {
	prom := promtest.Start(t, promtest.Options{Rules: alertRules})
	src := &spec.Metrics{Provider: "prometheus", URL: prom.URL}
	r := metricCheck(t, &activities.Metrics{}, spec.Check{Kind: "alerts", Alerts: map[string]string{"error_rate": "PortalHighErrorRate"}, Metrics: src})
	wantState(t, "quiet rule", r, record.ItemPassed, "")
	if r.Value != "prometheus: error_rate inactive" {
		t.Errorf("value = %q", r.Value)
	}
	r = metricCheck(t, &activities.Metrics{}, spec.Check{Kind: "alerts", Alerts: map[string]string{"error_rate": "PortalHighErrorRate", "failed_logins": "PortalLoginFailures"}, Metrics: src})
	wantState(t, "missing rule", r, record.ItemFailed, "no rule: failed_logins (PortalLoginFailures)")
}

func TestAlertsCheckFailsWhenAWatchedAlertIsAlreadyFiring(t *testing.T) {
	prom := promtest.Start(t, promtest.Options{Rules: alertRules})
	c := spec.Check{Kind: "alerts", Alerts: map[string]string{"error_rate": "PortalHighErrorRate", "latency_p95": "PortalSlow"},
		Metrics: &spec.Metrics{Provider: "prometheus", URL: prom.URL}}
	var r activities.Result
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if r = metricCheck(t, &activities.Metrics{}, c); strings.Contains(r.Detail, "already firing") {
			break
		}
	}
	wantState(t, "firing", r, record.ItemFailed, "already firing (a release started now would take it as normal): latency_p95 (PortalSlow)")
}

func TestAlertsCheckReadsCloudWatchAlarms(t *testing.T) {
	cloud := awsfake.Start(t)
	cloud.CloudWatch.SetAlarm("portal-5xx", "OK", false)
	cloud.CloudWatch.SetAlarm("portal-p95", "ALARM", false)
	m := &activities.Metrics{CloudWatch: metrics.CloudWatchFactory(cloud.Config(t))}
	src := &spec.Metrics{Provider: "cloudwatch", CloudWatch: &spec.CloudWatchMetrics{Window: spec.Duration(5 * time.Minute)}}
	r := metricCheck(t, m, spec.Check{Kind: "alerts", Alerts: map[string]string{"error_rate": "portal-5xx"}, Metrics: src})
	wantState(t, "alarm OK", r, record.ItemPassed, "")
	r = metricCheck(t, m, spec.Check{Kind: "alerts", Alerts: map[string]string{"error_rate": "portal-5xx", "latency_p95": "portal-p95", "failed_logins": "portal-logins"}, Metrics: src})
	wantState(t, "alarm firing and missing", r, record.ItemFailed, "no rule: failed_logins (portal-logins)")
	if !strings.Contains(r.Detail, "already firing (a release started now would take it as normal): latency_p95 (portal-p95)") {
		t.Errorf("detail = %q", r.Detail)
	}
}
