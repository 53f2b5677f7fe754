package promtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/promtest"
)

// TestScrapeAndBackfill: one server both scrapes a live target and holds a backfilled history.
func TestScrapeAndBackfill(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# TYPE golive_live gauge\ngolive_live 42\n")
	}))
	defer target.Close()
	at := time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC)
	history := promtest.OpenMetrics(
		promtest.Series{Name: "golive_past", Labels: map[string]string{"b": "2", "a": `q"uote`}, Points: []promtest.Point{{T: at.Add(time.Minute), V: 2}, {T: at, V: 1}}},
		promtest.Series{Name: "golive_events_total", Type: "counter", Points: []promtest.Point{{T: at, V: 0}, {T: at.Add(time.Minute), V: 60}}},
	)
	want := "# TYPE golive_past gauge\n" +
		`golive_past{a="q\"uote",b="2"} 1 1735787040.000` + "\n" +
		`golive_past{a="q\"uote",b="2"} 2 1735787100.000` + "\n" +
		"# TYPE golive_events counter\n" +
		"golive_events_total 0 1735787040.000\ngolive_events_total 60 1735787100.000\n# EOF\n"
	if history != want {
		t.Errorf("OpenMetrics:\n%s\nwant:\n%s", history, want)
	}
	host := strings.TrimPrefix(target.URL, "http://")
	start := time.Now()
	s := promtest.Start(t, promtest.Options{Targets: []string{host}, Backfill: []string{history}})
	t.Logf("ready and scraped after %s", time.Since(start).Round(10*time.Millisecond))
	if v := s.Query(`golive_live`, time.Time{}); v != 42 {
		t.Errorf("live = %v", v)
	}
	if v := s.Query(`golive_past`, at.Add(90*time.Second)); v != 2 {
		t.Errorf("past at +90s = %v", v)
	}
	if v := s.Query(`increase(golive_events_total[2m])`, at.Add(time.Minute)); v <= 0 {
		t.Errorf("increase = %v", v)
	}
	s.Stop()
	s.Stop() // idempotent
}

// fakeTB records a fatal failure instead of ending the real test.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) { f.fatal = fmt.Sprint(args...); runtime.Goexit() }

// TestMissingBinaryFails: without the binary the test fails, saying how to install it (no skip).
func TestMissingBinaryFails(t *testing.T) {
	t.Setenv("PROMETHEUS", "/nonexistent/prometheus")
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		promtest.New(f, promtest.Options{})
	}()
	<-done
	if !strings.Contains(f.fatal, "PROMETHEUS=/nonexistent/prometheus: no such binary") || !strings.Contains(f.fatal, "apt-get install -y prometheus") {
		t.Errorf("fatal = %q", f.fatal)
	}
}
