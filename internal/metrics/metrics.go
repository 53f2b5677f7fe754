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
	"time"

	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// Provider answers one query with one number.
type Provider interface {
	// Query evaluates query as of at (zero: now) and returns its value, or an
	// error when there is none. Providers that keep history (prometheus) read
	// the value at that moment; providers that only see the present (http,
	// postgres) read it now.
	Query(ctx context.Context, query string, at time.Time) (float64, error)
}

// Factory builds a provider from the spec's metrics section. Worker code
// registers factories for providers whose clients it holds (cloudwatch needs
// the worker's AWS configuration) with WithFactory.
type Factory func(m spec.Metrics) (Provider, error)

// ErrNotConfigured is wrapped by New for providers whose integration is not
// built yet or not configured; test for it with errors.Is.
var ErrNotConfigured = errors.New("not configured")

// ErrUnavailable is wrapped by readings a source cannot give at all as it is
// set up (pg_stat_statements not installed or not loaded). Such a metric stays
// unavailable until the source changes; retrying will not help.
var ErrUnavailable = errors.New("unavailable")

// Option changes how New builds a provider.
type Option func(*options)

type options struct {
	client    *http.Client
	secrets   *secrets.Resolver
	tracker   *SlowQueryTracker
	factories map[string]Factory
}

// WithHTTPClient makes HTTP-based providers (http, prometheus) use c.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithSecrets resolves references (env://, secret://) in metrics.url with r.
func WithSecrets(r *secrets.Resolver) Option { return func(o *options) { o.secrets = r } }

// WithSlowQueryTracker makes the postgres provider count slow queries over the
// interval since the previous reading kept in t (see SlowQueryTracker). Pass
// the same tracker to every New of a worker.
func WithSlowQueryTracker(t *SlowQueryTracker) Option { return func(o *options) { o.tracker = t } }

// WithFactory makes New build provider name (e.g. "cloudwatch") with f. A nil f is ignored.
func WithFactory(name string, f Factory) Option {
	return func(o *options) {
		if f == nil {
			return
		}
		if o.factories == nil {
			o.factories = map[string]Factory{}
		}
		o.factories[strings.ToLower(name)] = f
	}
}

// New returns the provider m names:
//   - "http" reads a JSON endpoint (NewHTTP);
//   - "prometheus" runs PromQL instant queries (NewPrometheus);
//   - "postgres" reads the database at metrics.url (NewPostgres);
//   - "cloudwatch" is built by the factory registered with WithFactory.
//
// A provider with no factory, or an empty provider, returns an error wrapping
// ErrNotConfigured that names it. A factory given with WithFactory wins over
// the built-in provider of the same name.
func New(m spec.Metrics, opts ...Option) (Provider, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p := strings.ToLower(strings.TrimSpace(m.Provider))
	if f, ok := o.factories[p]; ok && p != "" {
		return f(m)
	}
	switch p {
	case "http":
		if m.URL == "" {
			return nil, errors.New("metrics provider http: url is empty")
		}
		return NewHTTP(m.URL, o.client), nil
	case "prometheus":
		return NewPrometheus(m.URL, o.client)
	case "postgres":
		if m.URL == "" {
			return nil, fmt.Errorf("%w: metrics provider postgres: metrics.url (the database, e.g. env://DATABASE_URL) is empty", ErrNotConfigured)
		}
		return NewPostgres(m.URL, o.secrets, o.tracker), nil
	case "cloudwatch":
		return nil, fmt.Errorf("%w: metrics provider %q needs the worker's AWS configuration (activities.Metrics.CloudWatch)", ErrNotConfigured, p)
	case "":
		return nil, fmt.Errorf("%w: no metrics provider in the spec", ErrNotConfigured)
	default:
		return nil, fmt.Errorf("unknown metrics provider %q (want http, prometheus, postgres or cloudwatch)", m.Provider)
	}
}
