package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// TelemetryOptions configures the worker's metrics endpoint and tracing.
type TelemetryOptions struct {
	// MetricsListen is the host:port /metrics is served on, in the Prometheus
	// text format (the SDK's temporal_* metrics and golive's golive_* metrics);
	// "" serves none and the SDK's metrics are dropped.
	MetricsListen string
	// OTelEndpoint turns on OpenTelemetry tracing, exported over OTLP gRPC:
	// host:port (plaintext, e.g. a local collector) or http://host:port
	// (plaintext) or https://host:port (TLS). "" leaves tracing off. The
	// OTEL_EXPORTER_OTLP_* environment variables (headers, certificates) apply.
	OTelEndpoint string
	// ServiceName is the service.name resource attribute (default golive-worker).
	ServiceName string
	// Logger receives exporter errors (default slog.Default()).
	Logger *slog.Logger
}

// Telemetry is a running metrics endpoint and tracer: apply it to the Temporal
// client's options before dialing, and Close it after the worker stopped.
type Telemetry struct {
	// MetricsHandler is the client's metrics handler (nil when metrics are off).
	MetricsHandler client.MetricsHandler
	// Interceptors carry tracing into the client and its workers (empty when tracing is off).
	Interceptors []interceptor.ClientInterceptor

	addr    string
	srv     *http.Server
	closers []func(context.Context) error
}

// histogramBuckets are the SDK timers' buckets, in seconds: from a 1 ms poll to a 10 min activity.
var histogramBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// StartTelemetry starts what o asks for: it listens on MetricsListen at once
// (so a taken port fails the worker's start) and connects the trace exporter
// lazily (a collector that is down does not stop the worker).
func StartTelemetry(ctx context.Context, o TelemetryOptions) (*Telemetry, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ServiceName == "" {
		o.ServiceName = "golive-worker"
	}
	t := &Telemetry{}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", o.ServiceName)))
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	if o.MetricsListen != "" {
		if err := t.startMetrics(o, res); err != nil {
			_ = t.Close(ctx)
			return nil, err
		}
	}
	if o.OTelEndpoint != "" {
		if err := t.startTracing(ctx, o, res); err != nil {
			_ = t.Close(ctx)
			return nil, err
		}
	}
	return t, nil
}

func (t *Telemetry) startMetrics(o TelemetryOptions, res *resource.Resource) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(exp),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: histogramBuckets}},
		)),
	)
	t.closers = append(t.closers, mp.Shutdown)
	log := o.Logger
	t.MetricsHandler = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                mp.Meter("golive"),
		UseMonotonicCounters: true,
		OnError:              func(err error) { log.Warn("metrics: instrument", "error", err) },
	})

	l, err := net.Listen("tcp", o.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics listen on %s: %w", o.MetricsListen, err)
	}
	t.addr = l.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	t.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := t.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics endpoint stopped", "address", t.addr, "error", err)
		}
	}()
	return nil
}

func (t *Telemetry) startTracing(ctx context.Context, o TelemetryOptions, res *resource.Resource) error {
	var opts []otlptracegrpc.Option
	if strings.Contains(o.OTelEndpoint, "://") {
		opts = append(opts, otlptracegrpc.WithEndpointURL(o.OTelEndpoint))
	} else {
		opts = append(opts, otlptracegrpc.WithEndpoint(o.OTelEndpoint), otlptracegrpc.WithInsecure())
	}
	exp, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return fmt.Errorf("OTLP trace exporter for %s: %w", o.OTelEndpoint, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t.closers = append(t.closers, tp.Shutdown)
	ti, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tp.Tracer("golive")})
	if err != nil {
		return fmt.Errorf("tracing interceptor: %w", err)
	}
	t.Interceptors = append(t.Interceptors, ti)
	return nil
}

// Apply sets the metrics handler and appends the tracing interceptors on
// client options (the client's workers inherit both). A nil t changes nothing.
func (t *Telemetry) Apply(opts *client.Options) {
	if t == nil {
		return
	}
	if t.MetricsHandler != nil {
		opts.MetricsHandler = t.MetricsHandler
	}
	opts.Interceptors = append(opts.Interceptors, t.Interceptors...)
}

// MetricsAddr is the address /metrics is served on ("" when metrics are off).
func (t *Telemetry) MetricsAddr() string {
	if t == nil {
		return ""
	}
	return t.addr
}

// Close stops the metrics endpoint and flushes the spans still buffered.
func (t *Telemetry) Close(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.srv != nil {
		errs = append(errs, t.srv.Shutdown(ctx))
	}
	for i := len(t.closers) - 1; i >= 0; i-- {
		errs = append(errs, t.closers[i](ctx))
	}
	t.closers = nil
	return errors.Join(errs...)
}
