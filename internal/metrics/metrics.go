// Package metrics reads the numbers the release watches (error rate, p95
// latency, DB connections, slow queries, failed logins) from a metrics
// provider. A reading that cannot be taken is an error, never a zero value.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/golive/golive/internal/spec"
)

// Provider answers one query with one number.
type Provider interface {
	// Query evaluates query and returns its value, or an error when there is none.
	Query(ctx context.Context, query string) (float64, error)
}

// ErrNotConfigured is wrapped by New for providers whose integration is not
// built yet or not configured; test for it with errors.Is.
var ErrNotConfigured = errors.New("not configured")

// Option changes how New builds a provider.
type Option func(*options)

type options struct{ client *http.Client }

// WithHTTPClient makes HTTP-based providers use c.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// New returns the provider m names: "http" reads a JSON endpoint (NewHTTP).
// prometheus, postgres and cloudwatch, and an empty provider, return an error
// wrapping ErrNotConfigured that names the provider.
func New(m spec.Metrics, opts ...Option) (Provider, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	switch p := strings.ToLower(strings.TrimSpace(m.Provider)); p {
	case "http":
		if m.URL == "" {
			return nil, errors.New("metrics provider http: url is empty")
		}
		return NewHTTP(m.URL, o.client), nil
	case "prometheus", "postgres", "cloudwatch":
		return nil, fmt.Errorf("%w: metrics provider %q arrives with its integration", ErrNotConfigured, p)
	case "":
		return nil, fmt.Errorf("%w: no metrics provider in the spec", ErrNotConfigured)
	default:
		return nil, fmt.Errorf("unknown metrics provider %q (want http, prometheus, postgres or cloudwatch)", m.Provider)
	}
}
