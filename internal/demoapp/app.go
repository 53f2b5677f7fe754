// Package demoapp is the demo target application that golive releases in
// `make demo` and in tests. It serves a few synthetic clinical flows (no real
// patient data), reports its live version, exposes Prometheus metrics and a
// JSON summary over a sliding window, and can switch its live version through
// an idempotent admin endpoint, so a release (and its rollback) changes
// something real that probes can see.
//
// Versions whose string contains "bad" are unhealthy: about 30% of flow
// requests fail with 500, latency rises by ~300ms at p95 and /healthz answers
// 503. Every other version is healthy and answers in a few milliseconds.
package demoapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure an App.
type Options struct {
	// Version is the initial live version (default "1.0.0").
	Version string
	// Traffic is how many synthetic requests per second the app sends to
	// itself on its critical flows while served, so metrics have data; 0 = none.
	Traffic int
	// Logger receives deploys and server errors (default slog.Default()).
	Logger *slog.Logger
	// RampUp is how long a bad version takes to reach its full failure rate
	// after going live (0: at once).
	RampUp time.Duration
	// Window is the sliding window /stats reports over (default 10s). It
	// restarts at each deploy, as a per-version dashboard would.
	Window time.Duration
	// Seed seeds the app's random source (failures, latency, traffic);
	// 0 picks one from the clock.
	Seed uint64
	// JWTKey is the test-only HMAC key PathJWT verifies tokens with (default DemoJWTKey).
	JWTKey string
}

// Deploy is one switch of the live version, as kept in the deploy log.
type Deploy struct {
	At   time.Time `json:"at"`
	From string    `json:"from"`
	To   string    `json:"to"`
	// Key is the idempotency key the deploy was requested with ("" if none).
	Key string `json:"key,omitempty"`
}

// App is one running demo application. Its zero value is not usable: call New.
type App struct {
	opts    Options
	log     *slog.Logger
	metrics *promMetrics
	stats   *window
	handler http.Handler
	limits  limiter

	mu        sync.Mutex
	version   string
	liveSince time.Time
	deploys   []Deploy
	byKey     map[string]Deploy
	rng       *rand.Rand
}

// New returns an App with defaults filled in.
func New(o Options) *App {
	if o.Version == "" {
		o.Version = "1.0.0"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.JWTKey == "" {
		o.JWTKey = DemoJWTKey
	}
	if o.Window <= 0 {
		o.Window = 10 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	a := &App{
		opts:    o,
		log:     o.Logger.With("component", "demoapp"),
		metrics: newPromMetrics(),
		stats:   newWindow(o.Window),
		version: o.Version,
		byKey:   map[string]Deploy{},
		rng:     rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
	}
	a.metrics.setVersion(o.Version)
	a.handler = a.routes()
	return a
}

// Handler returns the app's HTTP handler (all endpoints, with security headers and metrics).
func (a *App) Handler() http.Handler { return a.handler }

// Version returns the live version.
func (a *App) Version() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.version
}

// DeployLog returns every version switch so far, oldest first.
func (a *App) DeployLog() []Deploy {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Deploy(nil), a.deploys...)
}

// ErrKeyReused is returned by SetVersion when an idempotency key is reused for another version.
var ErrKeyReused = errors.New("idempotency key already used for another version")

// SetVersion makes version live and appends the switch to the deploy log.
// A non-empty key makes it idempotent: the same key again returns the original
// record without a second switch (replayed is then true); the same key with a
// different version is ErrKeyReused.
func (a *App) SetVersion(version, key string) (rec Deploy, replayed bool, err error) {
	if strings.TrimSpace(version) == "" {
		return Deploy{}, false, errors.New("version is empty")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if key != "" {
		if prev, ok := a.byKey[key]; ok {
			if prev.To != version {
				return prev, true, fmt.Errorf("key %q deployed %q, not %q: %w", key, prev.To, version, ErrKeyReused)
			}
			return prev, true, nil
		}
	}
	rec = Deploy{At: time.Now().UTC(), From: a.version, To: version, Key: key}
	a.version = version
	a.liveSince = time.Now()
	a.stats.reset()
	a.deploys = append(a.deploys, rec)
	if key != "" {
		a.byKey[key] = rec
	}
	a.metrics.setVersion(version)
	a.log.Info("version switched", "from", rec.From, "to", rec.To, "key", key)
	return rec, false, nil
}

// Serve listens on addr (port 0 picks a free one), serves the app and, when
// Options.Traffic > 0, generates synthetic traffic. Both stop when ctx ends.
// It returns the bound address once the listener is up.
func (a *App) Serve(ctx context.Context, addr string) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("demoapp: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("serve", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if a.opts.Traffic > 0 {
		go a.RunTraffic(ctx)
	}
	a.log.Info("demo app listening", "addr", ln.Addr().String(), "version", a.Version())
	return ln.Addr().String(), nil
}

// harm is how broken the live version is now: 0 for healthy versions; for bad
// ones it grows from 0 to 1 over Options.RampUp after the version went live.
func (a *App) harm() float64 {
	a.mu.Lock()
	version, since := a.version, a.liveSince
	a.mu.Unlock()
	if !unhealthy(version) {
		return 0
	}
	if a.opts.RampUp <= 0 {
		return 1
	}
	return min(1, float64(time.Since(since))/float64(a.opts.RampUp))
}

// unhealthy reports whether a version is a bad one.
func unhealthy(version string) bool { return strings.Contains(strings.ToLower(version), "bad") }

// float64n draws a number in [0,1) from the app's random source.
func (a *App) float64n() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rng.Float64()
}

// intn draws a number in [0,n) from the app's random source.
func (a *App) intn(n int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rng.IntN(n)
}
