package demoapp

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// promMetrics are the app's Prometheus metrics, in a registry of its own so
// several apps can run in one process (tests).
type promMetrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	logins    *prometheus.CounterVec
	build     *prometheus.GaugeVec
}

func newPromMetrics() *promMetrics {
	m := &promMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"path", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"path"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "login_attempts_total",
			Help: "Login attempts by result (success, failure, error).",
		}, []string{"result"}),
		build: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "build_info",
			Help: "1 for the live version of the demo app.",
		}, []string{"version"}),
	}
	m.reg.MustRegister(m.requests, m.durations, m.logins, m.build)
	// Series that exist from the start: Prometheus cannot take the rate of a
	// counter before its second sample, so an error counter born with the
	// first 500 would read 0 % at exactly the check that should catch it.
	for _, p := range []string{PathLogin, PathPatients, PathAppointments, PathNotes, PathBilling} {
		for _, code := range []string{"200", "500"} {
			m.requests.WithLabelValues(p, code)
		}
	}
	for _, r := range []string{"success", "failure", "error"} {
		m.logins.WithLabelValues(r)
	}
	return m
}

func (m *promMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *promMetrics) setVersion(v string) {
	m.build.Reset()
	m.build.WithLabelValues(v).Set(1)
}

func (m *promMetrics) observe(path string, code int, d time.Duration) {
	m.requests.WithLabelValues(path, strconv.Itoa(code)).Inc()
	m.durations.WithLabelValues(path).Observe(d.Seconds())
}
