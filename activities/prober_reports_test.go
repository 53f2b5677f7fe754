package activities_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// reportFile writes a CI result file that was produced age ago.
func reportFile(t *testing.T, name, body string, age time.Duration) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
	return p
}

const junitGreen = `<?xml version="1.0"?>
<testsuites><testsuite name="e2e" tests="3">
<testcase name="login"/><testcase name="records"/><testcase name="billing"/><testcase name="sms"><skipped/></testcase>
</testsuite></testsuites>`

const junitRed = `<testsuite name="e2e" tests="3" failures="1">
<testcase name="login"/><testcase name="records"><failure message="timeout"/></testcase><testcase name="billing"/>
</testsuite>`

func TestJUnitReportPassesWhenEveryTestThatRanPassed(t *testing.T) {
	r := check(t, prober(), spec.Check{Kind: "report.junit", Report: reportFile(t, "e2e.xml", junitGreen, time.Hour)}, spec.App{})
	wantState(t, "green", r, record.ItemPassed, "")
	if !strings.HasPrefix(r.Value, "3/3 passed (1 skipped), 1h0m0s old") {
		t.Errorf("value = %q", r.Value)
	}
}

func TestJUnitReportFailsOnAFailedTestOrWhenStale(t *testing.T) {
	r := check(t, prober(), spec.Check{Kind: "report.junit", Report: reportFile(t, "e2e.xml", junitRed, time.Hour)}, spec.App{})
	wantState(t, "red", r, record.ItemFailed, "1 test(s) failed: want 100% passed")
	if !strings.HasPrefix(r.Value, "2/3 passed") {
		t.Errorf("value = %q", r.Value)
	}
	c := spec.Check{Kind: "report.junit", Report: reportFile(t, "e2e.xml", junitGreen, 30*time.Hour), MaxAge: spec.Duration(24 * time.Hour)}
	wantState(t, "stale", check(t, prober(), c, spec.App{}), record.ItemFailed, "more than max_age 24h0m0s")
	wantState(t, "missing", check(t, prober(), spec.Check{Kind: "report.junit", Report: "/nonexistent/e2e.xml"}, spec.App{}), record.ItemUnavailable, "no such file")
}

func TestK6SummaryPassesUnderTheTargetsAndFailsAboveThem(t *testing.T) {
	c := spec.Check{Kind: "report.k6", MaxP95: spec.Duration(500 * time.Millisecond), MaxErrorRate: 0.1}
	c.Report = reportFile(t, "k6.json", `{"metrics": {"http_req_duration": {"values": {"p(95)": 310.5}}, "http_req_failed": {"values": {"rate": 0.0005}}}}`, time.Minute)
	r := check(t, prober(), c, spec.App{})
	wantState(t, "handleSummary format", r, record.ItemPassed, "")
	if !strings.HasPrefix(r.Value, "p95 310ms, errors 0.05%") && !strings.HasPrefix(r.Value, "p95 311ms, errors 0.05%") {
		t.Errorf("value = %q", r.Value)
	}
	c.Report = reportFile(t, "k6.json", `{"metrics": {"http_req_duration": {"p(95)": 812}, "http_req_failed": {"passes": 30, "fails": 970, "value": 0.03}}}`, time.Minute)
	wantState(t, "summary-export format, too slow", check(t, prober(), c, spec.App{}), record.ItemFailed, "p95 812ms above 500ms; error rate 3.00% above 0.1%")
}

const axeReport = `[{"url": "https://portal.example.org/", "timestamp": "%s", "violations": [
 {"id": "color-contrast", "impact": "%s", "nodes": [{}]}, {"id": "region", "impact": "moderate"}]}]`

func TestAxeReportFailsOnSeriousOrCriticalViolationsOnly(t *testing.T) {
	now := time.Now().UTC().Format(time.RFC3339)
	report := func(impact string) string {
		return reportFile(t, "axe.json", strings.Replace(strings.Replace(axeReport, "%s", now, 1), "%s", impact, 1), 0)
	}
	r := check(t, prober(), spec.Check{Kind: "report.axe", Report: report("minor")}, spec.App{})
	wantState(t, "minor only", r, record.ItemPassed, "")
	if !strings.HasPrefix(r.Value, "1 page(s), 2 violation(s), 0 serious or critical") {
		t.Errorf("value = %q", r.Value)
	}
	wantState(t, "serious", check(t, prober(), spec.Check{Kind: "report.axe", Report: report("serious")}, spec.App{}), record.ItemFailed, "color-contrast (serious)")
}

func TestAReportFromAURLIsAsOldAsItsLastModified(t *testing.T) {
	modified := time.Now().Add(-48 * time.Hour)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
		w.Write([]byte(`<testsuite tests="1"><testcase name="a"/></testsuite>`))
	}))
	defer srv.Close()
	c := spec.Check{Kind: "report.junit", Report: srv.URL + "/e2e.xml", MaxAge: spec.Duration(24 * time.Hour)}
	wantState(t, "stale url", check(t, prober(), c, spec.App{}), record.ItemFailed, "48h0m0s old, more than max_age")
	c.MaxAge = spec.Duration(72 * time.Hour)
	wantState(t, "fresh enough", check(t, prober(), c, spec.App{}), record.ItemPassed, "")
}
