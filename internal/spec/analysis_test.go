package spec_test

import (
	"strings"
	"testing"

	"github.com/golive/golive/internal/spec"
)

// analysisSpec loads; the cases below edit its metrics section (from line 19).
const analysisSpec = `service: portal
environment: staging
app:
  url: https://portal.example.org
team:
  development_lead: [{id: ann, name: Ann}]
  operations_lead: [{id: ben, name: Ben}]
  compliance_officer: [{id: cat, name: Cat}]
  project_manager: [{id: dan, name: Dan}]
  engineer: [{id: eve, name: Eve}]
  on_call_developer: [{id: ann, name: Ann}]
  management: [{id: dan, name: Dan}]
deploy:
  target: demo
database:
  url: env://DATABASE_URL
backup:
  type: postgres
metrics:
  provider: prometheus
  url: http://127.0.0.1:9090
  queries:
    error_rate: sum(rate(errors_total[5m]))
    latency_p95: 1000 * histogram_quantile(0.95, sum by (le) (rate(d_bucket[5m])))
  analysis:
    error_rate:
      success_condition: result < 1
      failure_condition: "result > 5 || result != result"
      failure_limit: 1
`

func TestAnalysisConditionsAreCheckedAtLoad(t *testing.T) {
	l, err := spec.Parse("ok.yaml", []byte(analysisSpec))
	if err != nil {
		t.Fatalf("good spec: %v", err)
	}
	if got := l.Spec.Metrics.Analysis["error_rate"].FailureLimit; got != 1 {
		t.Errorf("failure_limit = %d", got)
	}
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"bad success condition", "result < 1\n", "result =< 1\n",
			[]string{`bad.yaml:27:26: metrics.analysis.error_rate.success_condition: at column 8 of "result =< 1": unexpected character '=' (compare with ==)`}},
		{"bad failure condition", `"result > 5 || result != result"`, `"result > 5 ||"`,
			[]string{`bad.yaml:28:26: metrics.analysis.error_rate.failure_condition: at column 14 of "result > 5 ||": the condition ends too early (expected a number, result or ()`}},
		{"a number is no condition", "result < 1\n", "result * 100\n",
			[]string{`bad.yaml:27:26: metrics.analysis.error_rate.success_condition: at column 1 of "result * 100": the condition is a number, not true or false (compare result with something, e.g. result < 1)`}},
		{"unknown metric, negative limit", "    error_rate:\n      success", "    error_ratio:\n      success",
			[]string{`bad.yaml:26:5: metrics.analysis.error_ratio: no metric "error_ratio" in metrics.queries or metrics.sources to analyse`}},
		{"negative limit", "failure_limit: 1", "failure_limit: -2",
			[]string{`bad.yaml:29:22: metrics.analysis.error_rate.failure_limit: must not be negative`}},
		{"postgres provider without a database", "  provider: prometheus\n  url: http://127.0.0.1:9090\n", "  provider: postgres\n",
			[]string{`bad.yaml:19:1: metrics.url: is required (metrics.provider is postgres: the database, e.g. env://DATABASE_URL)`}},
		{"postgres provider with a password", "  provider: prometheus\n  url: http://127.0.0.1:9090\n", "  provider: postgres\n  url: postgres://app:hunter2@db/portal\n",
			[]string{`bad.yaml:21:8: metrics.url: holds a password; write a reference instead (env://NAME or secret://aws/NAME#KEY)`}},
		{"a source defines a metric again", "  analysis:\n", "  sources:\n    - provider: postgres\n      url: env://DATABASE_URL\n      queries: {db_connections: connections, error_rate: SELECT 1}\n  analysis:\n",
			[]string{`bad.yaml:28:58: metrics.sources[0].queries.error_rate: metric "error_rate" is already read from metrics: define each metric once`}},
		{"a source without url or queries", "  analysis:\n", "  sources:\n    - provider: postgres\n    - {provider: promql, url: http://x}\n  analysis:\n",
			[]string{
				`bad.yaml:26:7: metrics.sources[0].queries: is empty: a source answers at least one metric`,
				`bad.yaml:26:7: metrics.sources[0].url: is required (metrics.sources[0].provider is postgres: the database, e.g. env://DATABASE_URL)`,
				`bad.yaml:27:7: metrics.sources[1].queries: is empty: a source answers at least one metric`,
				`bad.yaml:27:18: metrics.sources[1].provider: unknown value "promql" (want one of http, prometheus, postgres, cloudwatch)`,
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(analysisSpec, tc.old, tc.new, 1)
			if src == analysisSpec {
				t.Fatal("the edit changed nothing")
			}
			_, err := spec.Parse("bad.yaml", []byte(src))
			if err == nil {
				t.Fatal("loaded, want errors")
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
	if _, err := spec.Parse("pg.yaml", []byte(strings.Replace(analysisSpec, "  provider: prometheus\n  url: http://127.0.0.1:9090\n", "  provider: postgres\n  url: env://PORTAL_DB\n", 1))); err != nil {
		t.Errorf("postgres provider with a reference: %v", err)
	}
}
