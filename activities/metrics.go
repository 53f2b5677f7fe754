package activities

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golive/golive/internal/analysis"
	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// SampleQueryTimeout bounds each metric's query; Sample runs the queries at
// the same time, so one check takes about as long as its slowest query.
const SampleQueryTimeout = 20 * time.Second

// Metrics reads the watched metrics from the configured provider.
type Metrics struct {
	// HTTP is the client for HTTP-based providers (http, prometheus); nil uses one with a 10s timeout.
	HTTP *http.Client
	// Secrets resolves metrics.url references (the postgres provider's
	// database); nil resolves env:// only.
	Secrets *secrets.Resolver
	// CloudWatch builds the cloudwatch provider (it needs the worker's AWS
	// configuration); nil leaves that provider not configured.
	CloudWatch metrics.Factory

	// slow keeps the postgres provider's previous pg_stat_statements reading,
	// so slow queries per hour cover the interval between two checks.
	slow metrics.SlowQueryTracker
}

// Sample takes one reading of every metric in in.Metrics (metrics.queries and
// every metrics.sources entry, each read from its own provider), in metric
// name order, all evaluated as of in.At (zero: the start of the activity);
// Sample.At is that time. The queries run concurrently. A metric that cannot
// be read carries its Error (and is then unavailable, never healthy); when its
// provider is not configured, its value carries "not configured: ...". A
// metric whose spec analysis gives a success or a failure condition gets its
// Condition ("success", "failure" or "inconclusive"); a condition that does
// not parse is that metric's Error. Only the end of the activity's context is
// an activity error.
func (m *Metrics) Sample(ctx context.Context, in SampleInput) (Sample, error) {
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	all := in.Metrics.All()
	providers := m.providers(in.Metrics)
	out := Sample{At: at, Values: make([]MetricValue, len(all))}
	var wg sync.WaitGroup
	for i, mt := range all {
		out.Values[i] = MetricValue{Name: mt.Name, Query: mt.Query, Unit: spec.MetricUnit(mt.Name)}
		an := in.Metrics.Analysis[mt.Name]
		conds, cerr := analysis.ParseConditions(an.SuccessCondition, an.FailureCondition)
		p := providers[mt.Source]
		switch {
		case p.err != nil:
			out.Values[i].Error = p.err.Error()
		case cerr != nil:
			out.Values[i].Error = fmt.Sprintf("metrics.analysis.%s: %v", mt.Name, cerr)
		default:
			v := &out.Values[i]
			wg.Add(1)
			go func() {
				defer wg.Done()
				qctx, cancel := context.WithTimeout(ctx, SampleQueryTimeout)
				defer cancel()
				if f, err := p.Query(qctx, mt.Query, at); err != nil {
					v.Error = err.Error()
				} else {
					v.Value, v.Condition = f, conds.Evaluate(f)
				}
			}()
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Sample{}, fmt.Errorf("sample %s: %w", strings.Join(in.Metrics.Names(), ", "), err)
	}
	return out, nil
}

// provider is one built metrics provider, or why it could not be built.
type provider struct {
	metrics.Provider
	err error
}

// providers builds the main provider (index 0) and one per metrics.sources entry.
func (m *Metrics) providers(ms spec.Metrics) []provider {
	opts := []metrics.Option{}
	if m != nil {
		opts = append(opts, metrics.WithHTTPClient(m.HTTP), metrics.WithSecrets(m.Secrets),
			metrics.WithSlowQueryTracker(&m.slow), metrics.WithFactory("cloudwatch", m.CloudWatch))
	}
	out := make([]provider, len(ms.Sources)+1)
	for n := range out {
		p, err := metrics.New(ms.ProviderOf(n), opts...)
		if err != nil && n > 0 {
			err = fmt.Errorf("metrics.sources[%d]: %w", n-1, err)
		}
		out[n] = provider{Provider: p, err: err}
	}
	return out
}
