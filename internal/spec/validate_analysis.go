package spec

import (
	"slices"

	"github.com/golive/golive/internal/analysis"
)

// metricsAnalysis checks what the metrics providers and the analysis need
// beyond metrics(): the postgres provider's database reference, and each
// metric's analysis: a known metric, conditions that parse (an error names the
// column inside the condition), limits that are not negative.
func (c *checker) metricsAnalysis() {
	m := c.s.Metrics
	for n := 0; n <= len(m.Sources); n++ {
		if src, p := m.ProviderOf(n), sourcePath(n); src.Provider == "postgres" {
			if c.required(p+".url", src.URL, p+".provider is postgres: the database, e.g. env://DATABASE_URL") {
				c.secretRef(p+".url", src.URL)
			}
		}
	}
	names := make([]string, 0, len(m.Analysis))
	for name := range m.Analysis {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		an := m.Analysis[name]
		p := "metrics.analysis." + name
		if !m.Has(name) {
			c.add(p, "no metric %q in metrics.queries or metrics.sources to analyse", name)
		}
		for _, f := range []struct{ field, expr string }{
			{"success_condition", an.SuccessCondition},
			{"failure_condition", an.FailureCondition},
		} {
			if err := analysis.Validate(f.expr); err != nil {
				c.add(p+"."+f.field, "%v", err)
			}
		}
		for _, f := range []struct {
			field string
			n     int
		}{{"failure_limit", an.FailureLimit}, {"inconclusive_limit", an.InconclusiveLimit}, {"consecutive_error_limit", an.ConsecutiveErrorLimit}} {
			if f.n < 0 {
				c.add(p+"."+f.field, "must not be negative")
			}
		}
	}
}
