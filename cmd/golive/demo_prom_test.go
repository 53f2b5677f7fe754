//go:build !nodevserver

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoPromSpec: the demo's spec with Prometheus metrics loads, reads every
// query from the given server, and keeps every line outside the metrics
// section as written, whether metrics sits in the middle or at the end.
func TestDemoPromSpec(t *testing.T) {
	demo, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The same spec with metrics moved last, with an analysis and a flow-style queries map.
	text := string(demo)
	i := strings.Index(text, "\nmetrics:\n")
	j := strings.Index(text, "\nsmoke:\n")
	if i < 0 || j < i {
		t.Fatal("examples/demo.yaml: no metrics section before smoke")
	}
	last := text[:i+1] + text[j+1:] + "metrics:\n  provider: http\n  url: http://127.0.0.1:18080/stats\n" +
		"  queries: {error_rate: $.error_rate, latency_p95: $.latency_p95_ms}\n" +
		"  analysis:\n    error_rate: {failure_condition: result > 5}" // no final newline
	dir := t.TempDir()
	for name, src := range map[string]string{"demo": text, "last": last} {
		in := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name+"-prom.yaml")
		loaded, err := writeDemoPromSpec(in, out, "http://127.0.0.1:9091")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m := loaded.Spec.Metrics
		if m.Provider != "prometheus" || m.URL != "http://127.0.0.1:9091" || len(m.Queries) != len(demoPromQueries()) {
			t.Errorf("%s: metrics %+v", name, m)
		}
		for _, q := range demoPromQueries() {
			if m.Queries[q[0]] != q[1] {
				t.Errorf("%s: %s = %q, want %q", name, q[0], m.Queries[q[0]], q[1])
			}
		}
		if name == "last" && m.Analysis["error_rate"].FailureCondition != "result > 5" {
			t.Errorf("%s: analysis lost: %+v", name, m.Analysis)
		}
		written, _ := os.ReadFile(out)
		if got, want := outsideMetrics(string(written)), outsideMetrics(src); got != want {
			t.Errorf("%s: lines outside metrics changed:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

// outsideMetrics drops the top-level metrics section (its key and indented lines).
func outsideMetrics(text string) string {
	var keep []string
	in := false
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "metrics:"):
			in = true
		case in && (strings.HasPrefix(l, " ") || l == ""):
		default:
			in = false
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestDemoPromQueriesDocumented: docs/monitoring.md shows the queries the demo runs.
func TestDemoPromQueriesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range demoPromQueries() {
		if !strings.Contains(string(doc), q[1]) {
			t.Errorf("docs/monitoring.md does not show the demo's %s query %s", q[0], q[1])
		}
	}
}
