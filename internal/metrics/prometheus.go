package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// PrometheusTimeout bounds one query on the server (the query's timeout
// parameter); the caller's context bounds the whole request.
const PrometheusTimeout = 20 * time.Second

// Prometheus evaluates PromQL instant queries over the HTTP API
// (/api/v1/query). A query must yield exactly one number: a scalar, or an
// instant vector with exactly one series. No series (no data, a target that is
// not scraped), several series (an aggregation is missing), NaN or ±Inf
// (0/0 with no traffic) are errors, never 0 — write `(sum(...) or vector(0))`
// where "no series" really means zero, e.g. for a 5xx counter that was never
// incremented.
type Prometheus struct {
	url string
	api promv1.API
	// now is the clock used when a query gives no time (tests).
	now func() time.Time
}

// NewPrometheus returns a provider for the server at base (http://host:9090,
// optionally with a path prefix). A nil client uses one with a 30s timeout.
func NewPrometheus(base string, client *http.Client) (*Prometheus, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("metrics provider prometheus: url %q is not an http(s) URL of the server", base)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	c, err := api.NewClient(api.Config{Address: u.String(), Client: client})
	if err != nil {
		return nil, fmt.Errorf("metrics provider prometheus: %w", err)
	}
	return &Prometheus{url: u.Redacted(), api: promv1.NewAPI(c), now: time.Now}, nil
}

// Query evaluates query at time at (zero: now) and returns its one value.
func (p *Prometheus) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return 0, errors.New("empty PromQL query")
	}
	if at.IsZero() {
		at = p.now()
	}
	val, _, _, err := p.api.Query(ctx, q, at, promv1.WithTimeout(PrometheusTimeout))
	if err != nil {
		var perr *promv1.Error
		if errors.As(err, &perr) {
			switch perr.Type {
			case promv1.ErrBadData:
				return 0, fmt.Errorf("prometheus %s rejected the query: %s", p.url, perr.Msg)
			case promv1.ErrTimeout, promv1.ErrCanceled:
				return 0, fmt.Errorf("prometheus %s: query %s: %s", p.url, perr.Type, perr.Msg)
			}
			return 0, fmt.Errorf("prometheus %s: %s: %s", p.url, perr.Type, perr.Msg)
		}
		return 0, fmt.Errorf("prometheus %s: %w", p.url, err)
	}
	stamp := at.UTC().Format(time.RFC3339)
	var v float64
	switch r := val.(type) {
	case *model.Scalar:
		v = float64(r.Value)
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, fmt.Errorf("prometheus: no series at %s (no data: is the target scraped, is the metric named right? write `or vector(0)` where no series means zero)", stamp)
		case 1:
			v = float64(r[0].Value)
		default:
			return 0, fmt.Errorf("prometheus: %d series at %s, want one (aggregate with sum(...) or max(...)): %s", len(r), stamp, seriesList(r))
		}
	case model.Matrix:
		return 0, fmt.Errorf("prometheus: the query yields a range vector, want one number (drop the [range] or wrap it in rate(), avg_over_time()...)")
	case *model.String:
		return 0, fmt.Errorf("prometheus: the query yields a string, want a number")
	default:
		return 0, fmt.Errorf("prometheus: unexpected result type %s", val.Type())
	}
	if math.IsNaN(v) {
		return 0, fmt.Errorf("prometheus: NaN at %s (no data in the range, e.g. 0/0 without traffic)", stamp)
	}
	if math.IsInf(v, 0) {
		return 0, fmt.Errorf("prometheus: %v at %s (division by zero)", v, stamp)
	}
	return v, nil
}

// seriesList names at most three series of a vector.
func seriesList(v model.Vector) string {
	var names []string
	for i, s := range v {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(v)-3))
			break
		}
		names = append(names, s.Metric.String())
	}
	return strings.Join(names, ", ")
}
