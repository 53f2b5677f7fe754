//go:build !nodevserver

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/promproc"
	"github.com/golive/golive/internal/spec"
)

// Where the demo's Prometheus keeps its configuration, storage and log, and
// the spec the demo releases when its metrics go through Prometheus.
const (
	demoPromDir  = ".golive/demo/prometheus"
	demoPromSpec = ".golive/demo/demo.yaml"
	// demoPromScrape is short so a watch check every 2 s sees fresh samples.
	demoPromScrape = time.Second
	// demoPromStartTimeout bounds the start and the first readings (about 6 s here).
	demoPromStartTimeout = 60 * time.Second
)

// The demo's watch metrics in PromQL over the demo app's /metrics (job "demo").
// Windows are seconds, not the usual minutes: the watch checks every 2 s and
// reads Prometheus at each check's scheduled time, so a 3 s window (three
// scrapes) sees the bad version by the check at +2 s or +4 s, before it has
// degraded enough to fail the T+1h smoke tests. 5xx and failed-login numerators say
// "or vector(0)" because a healthy version never created those series; the
// denominators do not, so a target that is not scraped reads as unavailable,
// never as healthy. A 5xx series is born with the bad version's first error
// and rate() counts it from its second scrape, so p95 often trips first.
// Failed logins are a fifth of the traffic and rare: a
// longer window keeps one wrong password from reading as > 5 %.
const (
	demoPromErrorRate    = `100 * (sum(rate(http_requests_total{job="demo",path=~"/api/.*",code=~"5.."}[3s])) or vector(0)) / sum(rate(http_requests_total{job="demo",path=~"/api/.*"}[3s]))`
	demoPromLatencyP95   = `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="demo",path=~"/api/.*"}[3s])))`
	demoPromFailedLogins = `100 * (sum(rate(login_attempts_total{job="demo",result="failure"}[15s])) or vector(0)) / sum(rate(login_attempts_total{job="demo"}[15s]))`
)

// demoPromQueries are the spec's metrics.queries when the demo runs Prometheus, in spec order.
func demoPromQueries() [][2]string {
	return [][2]string{
		{"error_rate", demoPromErrorRate},
		{"latency_p95", demoPromLatencyP95},
		{"failed_logins", demoPromFailedLogins},
	}
}

// demoPromNotFound is what the demo says when it reads /stats for want of Prometheus.
const demoPromNotFound = "Prometheus not found (install: apt-get install prometheus); reading /stats directly"

// findDemoPrometheus resolves the --prometheus flag: "" or "off" skips
// Prometheus; otherwise the value is a binary name looked up on $PATH, or a
// path. A binary that is missing is an error only when the flag was given.
// Without a binary, note says why the demo reads /stats instead.
func findDemoPrometheus(flag string, given bool) (bin, note string, err error) {
	if flag == "" || strings.EqualFold(flag, "off") {
		return "", "Prometheus off (--prometheus=off); reading /stats directly", nil
	}
	bin, err = exec.LookPath(flag)
	switch {
	case err != nil && given:
		return "", "", fmt.Errorf("--prometheus %s: %w (--prometheus=off reads /stats directly)", flag, err)
	case err != nil:
		return "", demoPromNotFound, nil
	}
	return bin, "", nil
}

// demoPrometheus starts Prometheus (bin) scraping the demo app at target and
// writes the spec at specPath with its metrics read from it (demoPromSpec),
// printing where both are. Without a binary it prints note (why the demo
// reads /stats instead) and returns nil.
func demoPrometheus(ctx context.Context, bin, note, specPath, target string) (*demoProm, *spec.Loaded, error) {
	if bin == "" {
		fmt.Println(note)
		return nil, nil, nil
	}
	p, err := startDemoPrometheus(ctx, bin, demoPromDir, target)
	if err != nil {
		return nil, nil, fmt.Errorf("start Prometheus (--prometheus=off reads /stats directly): %w", err)
	}
	loaded, err := writeDemoPromSpec(specPath, demoPromSpec, p.URL)
	if err != nil {
		p.stop()
		return nil, nil, fmt.Errorf("demo spec with Prometheus metrics: %w", err)
	}
	fmt.Printf("Prometheus       %s%s (scrapes the demo app's /metrics every %s; data in %s)\n", p.URL, p.graph, demoPromScrape, demoPromDir)
	fmt.Printf("release spec     %s: %s with its metrics in PromQL, read from Prometheus\n", demoPromSpec, specPath)
	return p, loaded, nil
}

// demoProm is the Prometheus child process of one demo run.
type demoProm struct {
	*promproc.Process
	// graph is the path of the server's graph page (see findGraph).
	graph string
}

// startDemoPrometheus wipes dir, writes a configuration scraping target's
// /metrics every second and starts bin on a free loopback port. It returns
// once the server is ready; stop it with stop.
func startDemoPrometheus(ctx context.Context, bin, dir, target string) (*demoProm, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("wipe %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	scrape := promproc.Duration(demoPromScrape)
	cfg := fmt.Sprintf("# Written by golive demo at each start.\nglobal:\n  scrape_interval: %s\n  scrape_timeout: %s\n"+
		"scrape_configs:\n  - job_name: demo\n    static_configs:\n      - targets: [%s]\n", scrape, scrape, strconv.Quote(target))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	proc, err := promproc.Start(ctx, promproc.Options{Bin: bin, Dir: dir, Retention: "1d", ReadyTimeout: demoPromStartTimeout})
	if err != nil {
		return nil, err
	}
	p := &demoProm{Process: proc}
	p.graph = p.findGraph()
	return p, nil
}

// findGraph asks / where the graph page is: Debian's package serves only the
// classic UI (/classic/graph), upstream builds the React one (/graph).
func (p *demoProm) findGraph() string {
	c := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := c.Get(p.URL + "/"); err == nil {
		resp.Body.Close()
		if u, err := url.Parse(resp.Header.Get("Location")); err == nil && strings.HasSuffix(u.Path, "graph") {
			return u.Path
		}
	}
	return "/graph"
}

// waitReadings polls until every query answers with a number: the target has
// been scraped, and rate() has the two samples it needs. The release's
// baseline reading is then never "no data".
func (p *demoProm) waitReadings(ctx context.Context, queries [][2]string) error {
	prov, err := metrics.NewPrometheus(p.URL, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, demoPromStartTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var last error
		for _, q := range queries {
			if _, err := prov.Query(ctx, q[1], time.Time{}); err != nil {
				last = fmt.Errorf("%s: %w", q[0], err)
				break
			}
		}
		if last == nil {
			return nil
		}
		select {
		case <-p.Exited():
			return fmt.Errorf("prometheus exited before the first readings%s", p.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("no reading from prometheus at %s within %s (last: %v)%s", p.URL, demoPromStartTimeout, last, p.LogTail())
		case <-tick.C:
		}
	}
}

// stop ends the server; safe on a nil demoProm (no Prometheus).
func (p *demoProm) stop() {
	if p != nil {
		p.Stop()
	}
}

// graphURL opens the error-rate query on the server's graph page.
func (p *demoProm) graphURL() string {
	q := url.Values{"g0.expr": {demoPromErrorRate}, "g0.tab": {"0"}, "g0.range_input": {"5m"}}
	return p.URL + p.graph + "?" + q.Encode()
}

// writeDemoPromSpec writes the spec at src to dst with its metrics read
// through Prometheus at promURL: metrics.provider, .url and .queries change;
// every other line of the file stays as written. It returns the spec as
// loaded from dst, so a bad rewrite fails here and not in a release.
func writeDemoPromSpec(src, dst, promURL string) (*spec.Loaded, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("read release spec: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a mapping", src)
	}
	root := doc.Content[0]
	lines := strings.SplitAfter(string(data), "\n")
	if last := lines[len(lines)-1]; last != "" && !strings.HasSuffix(last, "\n") {
		lines[len(lines)-1] += "\n"
	}
	// The metrics section is lines [from, to): from its key to the next
	// top-level key, less the blank lines and comments that head that key.
	from, to := len(lines), len(lines)
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "metrics" {
			continue
		}
		if v := root.Content[i+1]; v.Kind == yaml.MappingNode {
			m = v
		}
		from = root.Content[i].Line - 1
		if i+2 < len(root.Content) {
			to = root.Content[i+2].Line - 1
		}
		for to > from+1 && (strings.TrimSpace(lines[to-1]) == "" || strings.HasPrefix(lines[to-1], "#")) {
			to--
		}
		break
	}
	queries := &yaml.Node{Kind: yaml.MappingNode}
	for _, q := range demoPromQueries() {
		queries.Content = append(queries.Content, scalarNode(q[0]), scalarNode(q[1]))
	}
	m.Style = 0
	setMapValue(m, "provider", scalarNode("prometheus"))
	setMapValue(m, "url", scalarNode(promURL))
	setMapValue(m, "queries", queries)
	key := scalarNode("metrics")
	key.LineComment = "written by golive demo: PromQL over the demo app's /metrics, from the Prometheus it started"
	var block strings.Builder
	enc := yaml.NewEncoder(&block)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{key, m}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	out := strings.Join(lines[:from], "") + block.String() + strings.Join(lines[to:], "")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(dst, []byte(out), 0o644); err != nil {
		return nil, err
	}
	return spec.Load(dst)
}

func scalarNode(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setMapValue sets key in mapping m to v, replacing the key's old value and
// its comments (they described the old value), or appending the pair.
func setMapValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i] = scalarNode(key)
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, scalarNode(key), v)
}
