package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"
)

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// `golive worker --metrics-listen ... --log-format json` serves the SDK's
// metrics while it polls and writes JSON log lines.
func TestWorkerCommandServesMetricsAndLogsJSON(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t),
		temporaltest.WithBaseClientOptions(client.Options{Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}))
	_ = ts.GetDefaultClient()

	logFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = logFile
	t.Cleanup(func() { os.Stderr = stderr })

	addr := freeAddr(t)
	root := newRoot()
	root.SetArgs([]string{"worker", "--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(),
		"--metrics-listen", addr, "--log-format", "json"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var text string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if text = string(b); strings.Contains(text, `temporal_num_pollers{`) && strings.Contains(text, `task_queue="golive"`) {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("worker returned %v", err)
	}
	if !strings.Contains(text, "temporal_num_pollers{") {
		t.Fatalf("no SDK poller metrics on /metrics:\n%s", text)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the metrics endpoint is still up after the worker stopped")
	}

	os.Stderr = stderr
	b, err := os.ReadFile(logFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
		msg, _ := m["msg"].(string)
		msgs[msg] = true
	}
	for _, want := range []string{"metrics endpoint", "worker polling"} {
		if !msgs[want] {
			t.Errorf("no %q line in:\n%s", want, b)
		}
	}
}
