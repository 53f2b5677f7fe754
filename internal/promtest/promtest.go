// Package promtest runs a real Prometheus server for tests: the Debian
// `prometheus` binary (2.42; make test installs it with apt-get) on a free
// loopback port, with a temporary configuration that scrapes the given
// targets every second and a temporary storage directory. Fixed histories are
// written into the storage before the start with
// `promtool tsdb create-blocks-from openmetrics` (Backfill), so queries at
// given timestamps return exactly known values.
//
// It is a regular (non-_test) package so every package's tests can use it.
// When the binaries are missing the test fails, saying how to install them:
// tests that need Prometheus never skip.
package promtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/golive/golive/internal/promproc"
)

// Paths tried for the binaries after $PATH (PROMETHEUS and PROMTOOL override both).
const (
	DefaultPrometheus = "/usr/bin/prometheus"
	DefaultPromtool   = "/usr/bin/promtool"
)

// StartTimeout bounds the wait for the server to be ready and for the first
// scrape of every target (about 6 s on these machines).
const StartTimeout = 60 * time.Second

// Options configure a server.
type Options struct {
	// Targets are host:port addresses scraped at /metrics under job "test".
	Targets []string
	// ScrapeInterval is how often targets are scraped (default 1s).
	ScrapeInterval time.Duration
	// Backfill holds OpenMetrics texts (see OpenMetrics) written into the
	// storage before the server starts.
	Backfill []string
	// Rules is a Prometheus rule file (YAML, "groups: ...") the server loads
	// and evaluates every ScrapeInterval, for tests of alert rules.
	Rules string
}

// Server is one Prometheus process owned by a test.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// Dir holds prometheus.yml, the storage (data/) and the log (prometheus.log).
	Dir string

	tb      testing.TB
	opts    Options
	bin     string
	api     promv1.API
	mu      sync.Mutex
	proc    *promproc.Process
	started bool
}

// Start prepares a server with o, backfills o.Backfill and starts it; it is
// stopped when the test ends.
func Start(tb testing.TB, o Options) *Server {
	tb.Helper()
	s := New(tb, o)
	for _, text := range o.Backfill {
		s.Backfill(text)
	}
	s.Start()
	return s
}

// New prepares a server (configuration and storage directory) without
// starting it, so Backfill can run first.
func New(tb testing.TB, o Options) *Server {
	tb.Helper()
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = time.Second
	}
	bin := find(tb, "PROMETHEUS", "prometheus", DefaultPrometheus)
	dir := tb.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		tb.Fatal(err)
	}
	s := &Server{Dir: dir, tb: tb, opts: o, bin: bin}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(s.config()), 0o644); err != nil {
		tb.Fatal(err)
	}
	if o.Rules != "" {
		if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(o.Rules), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(s.Stop)
	return s
}

// find locates a binary or fails the test with how to install it.
func find(tb testing.TB, env, name, fallback string) string {
	tb.Helper()
	how := fmt.Sprintf("these tests run a real Prometheus: install the Debian package "+
		"(`apt-get install -y prometheus`, as .ci/run does), or set %s to the binary", env)
	if p := os.Getenv(env); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			tb.Fatalf("%s=%s: no such binary; %s", env, p, how)
		}
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(fallback); err == nil {
		return fallback
	}
	tb.Fatalf("%s is not installed (not in $PATH, no %s); %s", name, fallback, how)
	return ""
}

func (s *Server) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: %s\n",
		model.Duration(s.opts.ScrapeInterval), model.Duration(s.opts.ScrapeInterval), model.Duration(s.opts.ScrapeInterval))
	if s.opts.Rules != "" {
		b.WriteString("rule_files:\n  - rules.yml\n")
	}
	b.WriteString("scrape_configs:\n")
	if len(s.opts.Targets) > 0 {
		b.WriteString("  - job_name: test\n    static_configs:\n      - targets:\n")
		for _, t := range s.opts.Targets {
			fmt.Fprintf(&b, "          - %s\n", strconv.Quote(t))
		}
	}
	return b.String()
}

// Backfill writes an OpenMetrics text (ending in "# EOF") into the storage
// with promtool. It must run before Start.
func (s *Server) Backfill(openMetrics string) {
	s.tb.Helper()
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		s.tb.Fatal("promtest: Backfill after Start (the server reads its blocks when it starts)")
	}
	promtool := find(s.tb, "PROMTOOL", "promtool", DefaultPromtool)
	in, err := os.CreateTemp(s.Dir, "backfill-*.om")
	if err != nil {
		s.tb.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(openMetrics), "# EOF") {
		openMetrics = strings.TrimRight(openMetrics, "\n") + "\n# EOF\n"
	}
	if _, err := in.WriteString(openMetrics); err != nil {
		s.tb.Fatal(err)
	}
	in.Close()
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", in.Name(), filepath.Join(s.Dir, "data")).CombinedOutput()
	if err != nil {
		s.tb.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
}

// Start starts the server and returns once it is ready and every target has
// been scraped successfully once (polling, no fixed sleep). It fails the test
// otherwise, with the server's log.
func (s *Server) Start() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatalf("promtest: %v\n--- prometheus log ---\n%s", err, s.Log())
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if err := s.waitScraped(ctx); err != nil {
		s.tb.Fatalf("promtest: %v\n--- prometheus log ---\n%s", err, s.Log())
	}
}

func (s *Server) start() error {
	proc, err := promproc.Start(context.Background(), promproc.Options{
		Bin: s.bin, Dir: s.Dir, Retention: "100y", Args: []string{"--log.level=info"}, ReadyTimeout: StartTimeout,
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.proc, s.started = proc, true
	s.mu.Unlock()
	s.URL = proc.URL
	c, err := api.NewClient(api.Config{Address: s.URL, Client: &http.Client{Timeout: 10 * time.Second}})
	if err != nil {
		return err
	}
	s.api = promv1.NewAPI(c)
	return nil
}

// waitScraped polls until every target has up == 1.
func (s *Server) waitScraped(ctx context.Context) error {
	if len(s.opts.Targets) == 0 {
		return nil
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		missing := slices.Clone(s.opts.Targets)
		if v, _, _, err := s.api.Query(ctx, `up{job="test"} == 1`, time.Time{}); err == nil {
			if vec, ok := v.(model.Vector); ok {
				for _, smp := range vec {
					missing = slices.DeleteFunc(missing, func(t string) bool { return string(smp.Metric["instance"]) == t })
				}
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			detail := ""
			if tg, err := s.api.Targets(context.Background()); err == nil {
				for _, a := range tg.Active {
					detail += fmt.Sprintf("\n  %s: health %s, last error %q", a.ScrapeURL, a.Health, a.LastError)
				}
			}
			return fmt.Errorf("targets %s not scraped successfully within %s%s", strings.Join(missing, ", "), StartTimeout, detail)
		case <-s.proc.Exited():
			return errors.New("prometheus exited before the first scrape")
		case <-tick.C:
		}
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it
// to exit. It is safe to call more than once; Start registers it as cleanup.
func (s *Server) Stop() {
	s.mu.Lock()
	proc := s.proc
	s.proc = nil
	s.mu.Unlock()
	proc.Stop()
}

// Log returns what the server has logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "prometheus.log"))
	return string(b)
}

// Query evaluates q at at (zero: now) and returns its single value; it fails
// the test on an error, NaN, or a result that is not exactly one number.
func (s *Server) Query(q string, at time.Time) float64 {
	s.tb.Helper()
	v, err := s.value(context.Background(), q, at)
	if err != nil {
		s.tb.Fatalf("promtest: %s: %v", q, err)
	}
	return v
}

func (s *Server) value(ctx context.Context, q string, at time.Time) (float64, error) {
	res, _, _, err := s.api.Query(ctx, q, at)
	if err != nil {
		return 0, err
	}
	var v float64
	switch r := res.(type) {
	case model.Vector:
		if len(r) != 1 {
			return 0, fmt.Errorf("%d series", len(r))
		}
		v = float64(r[0].Value)
	case *model.Scalar:
		v = float64(r.Value)
	default:
		return 0, fmt.Errorf("result of type %s", res.Type())
	}
	if math.IsNaN(v) {
		return 0, errors.New("NaN")
	}
	return v, nil
}

// WaitFor polls q (at now) until ok accepts its value and returns that value;
// past timeout it fails the test with the last value or error.
func (s *Server) WaitFor(q string, ok func(float64) bool, timeout time.Duration) float64 {
	s.tb.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		v, err := s.value(context.Background(), q, time.Time{})
		if err == nil && ok(v) {
			return v
		}
		if err != nil {
			last = err.Error()
		} else {
			last = strconv.FormatFloat(v, 'g', -1, 64)
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("promtest: %s did not reach the expected value within %s (last: %s)", q, timeout, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Point is one sample of a backfilled series.
type Point struct {
	T time.Time
	V float64
}

// Series is one backfilled time series. Type is "gauge" (default) or
// "counter"; a counter's Name ends in _total.
type Series struct {
	Name   string
	Type   string
	Labels map[string]string
	Points []Point
}

// OpenMetrics renders series as an OpenMetrics text for Backfill: families in
// the order given (series of one name grouped), labels sorted, points sorted
// by time, timestamps in seconds, ending in "# EOF".
func OpenMetrics(series ...Series) string {
	var b bytes.Buffer
	var order []string
	byFamily := map[string][]Series{}
	for _, s := range series {
		fam := s.Name
		if s.Type == "counter" {
			fam = strings.TrimSuffix(s.Name, "_total")
		}
		if _, ok := byFamily[fam]; !ok {
			order = append(order, fam)
		}
		byFamily[fam] = append(byFamily[fam], s)
	}
	for _, fam := range order {
		typ := byFamily[fam][0].Type
		if typ == "" {
			typ = "gauge"
		}
		fmt.Fprintf(&b, "# TYPE %s %s\n", fam, typ)
		for _, s := range byFamily[fam] {
			keys := make([]string, 0, len(s.Labels))
			for k := range s.Labels {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			var lbl string
			if len(keys) > 0 {
				parts := make([]string, len(keys))
				for i, k := range keys {
					parts[i] = fmt.Sprintf("%s=%s", k, strconv.Quote(s.Labels[k]))
				}
				lbl = "{" + strings.Join(parts, ",") + "}"
			}
			pts := slices.Clone(s.Points)
			slices.SortStableFunc(pts, func(a, b Point) int { return a.T.Compare(b.T) })
			for _, p := range pts {
				fmt.Fprintf(&b, "%s%s %s %s\n", s.Name, lbl, strconv.FormatFloat(p.V, 'g', -1, 64),
					strconv.FormatFloat(float64(p.T.UnixMilli())/1000, 'f', 3, 64))
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}
