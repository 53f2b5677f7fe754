package activities

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

// maxReportSize bounds a CI result file read by a report check.
const maxReportSize = 16 << 20

// report is a CI result file as read, with the time it was produced when known.
type report struct {
	data []byte
	at   time.Time // file mtime or Last-Modified; a time inside the document wins
}

// checkReport reads the CI result file of a report.* check from a path on the
// worker or an http(s) URL, judges its freshness (a time inside the document,
// else the file's mtime or Last-Modified, at most max_age old) and its pass rule.
func (p *Prober) checkReport(ctx context.Context, in CheckInput) Result {
	c := in.Check
	if c.Report == "" {
		return Result{State: record.ItemFailed, Detail: "bad check: report (a path or URL) is not set"}
	}
	rep, err := p.loadReport(ctx, c.Report)
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: fmt.Sprintf("report %s: %v", c.Report, err)}
	}
	var r Result
	var at time.Time
	switch c.CheckKind() {
	case spec.KindJUnit:
		r, at = judgeJUnit(rep.data)
	case spec.KindK6:
		r = judgeK6(rep.data, c)
	case spec.KindAxe:
		r, at = judgeAxe(rep.data)
	default:
		return unknownKind("Prober.checkReport", c.CheckKind())
	}
	if at.IsZero() {
		at = rep.at
	}
	maxAge := c.MaxAge.D()
	if maxAge <= 0 {
		maxAge = spec.DefaultReportMaxAge
	}
	switch age := time.Since(at); {
	case at.IsZero():
		r.State, r.Detail = record.ItemFailed, join(r.Detail, "the report's age is unknown (no time inside it, no Last-Modified)")
	case age > maxAge:
		r.State, r.Detail = record.ItemFailed, join(r.Detail, fmt.Sprintf("the report is %s old, more than max_age %s", age.Round(time.Minute), maxAge))
	default:
		r.Value += fmt.Sprintf(", %s old", age.Round(time.Second))
	}
	return r
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func (p *Prober) loadReport(ctx context.Context, src string) (report, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		st, err := os.Stat(src)
		if err != nil {
			return report{}, err
		}
		f, err := os.Open(src)
		if err != nil {
			return report{}, err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxReportSize))
		return report{data: b, at: st.ModTime()}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return report{}, err
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return report{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return report{}, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReportSize))
	at, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	return report{data: b, at: at}, err
}

// junitSuite is a <testsuite> (or <testsuites>, which has the same counters).
type junitSuite struct {
	Tests     int          `xml:"tests,attr"`
	Failures  int          `xml:"failures,attr"`
	Errors    int          `xml:"errors,attr"`
	Skipped   int          `xml:"skipped,attr"`
	Timestamp string       `xml:"timestamp,attr"`
	Suites    []junitSuite `xml:"testsuite"`
	Cases     []struct {
		Failure *struct{} `xml:"failure"`
		Error   *struct{} `xml:"error"`
		Skipped *struct{} `xml:"skipped"`
	} `xml:"testcase"`
}

// count sums the suite's test cases (its counters when it lists none).
func (s junitSuite) count() (tests, failed, skipped int, at time.Time) {
	at = parseTime(s.Timestamp)
	for _, c := range s.Cases {
		tests++
		switch {
		case c.Failure != nil || c.Error != nil:
			failed++
		case c.Skipped != nil:
			skipped++
		}
	}
	for _, sub := range s.Suites {
		t, f, sk, a := sub.count()
		tests, failed, skipped = tests+t, failed+f, skipped+sk
		if a.After(at) {
			at = a
		}
	}
	if tests == 0 && len(s.Suites) == 0 {
		tests, failed, skipped = s.Tests, s.Failures+s.Errors, s.Skipped
	}
	return tests, failed, skipped, at
}

// judgeJUnit passes a JUnit XML report whose tests all passed (skipped ones are shown, not counted as run).
func judgeJUnit(data []byte) (Result, time.Time) {
	var s junitSuite
	if err := xml.Unmarshal(data, &s); err != nil {
		return Result{State: record.ItemFailed, Detail: "not a JUnit XML report: " + err.Error()}, time.Time{}
	}
	tests, failed, skipped, at := s.count()
	ran := tests - skipped
	v := fmt.Sprintf("%d/%d passed", ran-failed, ran)
	if skipped > 0 {
		v += fmt.Sprintf(" (%d skipped)", skipped)
	}
	switch {
	case ran <= 0:
		return Result{State: record.ItemFailed, Value: v, Detail: "the report holds no test that ran"}, at
	case failed > 0:
		return Result{State: record.ItemFailed, Value: v, Detail: fmt.Sprintf("%d test(s) failed: want 100%% passed", failed)}, at
	}
	return Result{State: record.ItemPassed, Value: v}, at
}

// judgeK6 reads a k6 JSON summary (--summary-export or handleSummary's JSON):
// p95 of http_req_duration and the rate of http_req_failed under the targets.
func judgeK6(data []byte, c spec.Check) Result {
	var doc struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Metrics == nil {
		return Result{State: record.ItemFailed, Detail: "not a k6 JSON summary (no metrics)"}
	}
	p95, okP := k6Value(doc.Metrics["http_req_duration"], "p(95)")
	rate, okR := k6Value(doc.Metrics["http_req_failed"], "rate", "value")
	if !okP || !okR {
		return Result{State: record.ItemFailed, Detail: "k6 summary lacks http_req_duration p(95) or http_req_failed"}
	}
	errPct := rate * 100
	v := fmt.Sprintf("p95 %.0fms, errors %.2f%%", p95, errPct)
	var over []string
	if maxP := float64(c.MaxP95.D().Milliseconds()); maxP > 0 && p95 > maxP {
		over = append(over, fmt.Sprintf("p95 %.0fms above %.0fms", p95, maxP))
	}
	if maxE := float64(c.MaxErrorRate); errPct > maxE {
		over = append(over, fmt.Sprintf("error rate %.2f%% above %s", errPct, c.MaxErrorRate))
	}
	if len(over) > 0 {
		return Result{State: record.ItemFailed, Value: v, Detail: strings.Join(over, "; ")}
	}
	return Result{State: record.ItemPassed, Value: v}
}

// k6Value reads a metric's field, at its top level or under "values".
func k6Value(m map[string]any, keys ...string) (float64, bool) {
	if vals, ok := m["values"].(map[string]any); ok {
		m = vals
	}
	for _, k := range keys {
		if f, ok := m[k].(float64); ok {
			return f, true
		}
	}
	return 0, false
}

// axeResult is one page's axe-core result.
type axeResult struct {
	Timestamp  string `json:"timestamp"`
	URL        string `json:"url"`
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
	} `json:"violations"`
}

// judgeAxe passes an axe-core JSON report (one result, or a list of pages as
// axe-cli writes) without serious or critical violations.
func judgeAxe(data []byte) (Result, time.Time) {
	var pages []axeResult
	if err := json.Unmarshal(data, &pages); err != nil {
		var one axeResult
		if err := json.Unmarshal(data, &one); err != nil {
			return Result{State: record.ItemFailed, Detail: "not an axe JSON report: " + err.Error()}, time.Time{}
		}
		pages = []axeResult{one}
	}
	var at time.Time
	total := 0
	var blocking []string
	for _, pg := range pages {
		if t := parseTime(pg.Timestamp); t.After(at) {
			at = t
		}
		for _, v := range pg.Violations {
			total++
			if v.Impact == "serious" || v.Impact == "critical" {
				blocking = append(blocking, v.ID+" ("+v.Impact+")")
			}
		}
	}
	v := fmt.Sprintf("%d page(s), %d violation(s), %d serious or critical", len(pages), total, len(blocking))
	if len(pages) == 0 {
		return Result{State: record.ItemFailed, Value: v, Detail: "the report holds no page"}, at
	}
	if len(blocking) > 0 {
		return Result{State: record.ItemFailed, Value: v, Detail: render.Truncate(strings.Join(blocking, ", "), 400)}, at
	}
	return Result{State: record.ItemPassed, Value: v}, at
}

// parseTime reads the timestamps CI tools write (RFC 3339, or JUnit's local time without a zone).
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t
		}
	}
	return time.Time{}
}
