package render_test

import (
	"testing"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

func TestTruncateNeverCutsACharacter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"ééé", 3, "é…"}, // é is two bytes: the second one is not kept half
		{"a\xffb\xfec", 4, "ab…"},
	} {
		if got := render.Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestReadingsNameUnreadableMetrics(t *testing.T) {
	rs := []record.Reading{
		{Metric: "error_rate", Value: 0.2, Unit: "%", Verdict: record.VerdictOK},
		{Metric: "latency_p95", Verdict: record.VerdictUnavailable},
	}
	if got, want := render.Readings(rs), "error_rate 0.2% · latency_p95 unavailable"; got != want {
		t.Fatalf("Readings = %q, want %q", got, want)
	}
}

func TestEveryVerdictHasItsOwnColour(t *testing.T) {
	seen := map[string]record.Verdict{}
	for _, v := range []record.Verdict{record.VerdictOK, record.VerdictTargetMissed, record.VerdictInconclusive, record.VerdictCritical, record.VerdictRollback, record.VerdictUnavailable} {
		c := render.VerdictColor(v)
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s share colour %s", v, other, c)
		}
		seen[c] = v
	}
}

func TestBoxShowsWorkInProgress(t *testing.T) {
	if render.Box(record.ItemRunning) != "[…]" || render.Box(record.ItemWaiting) != "[…]" || render.Box(record.ItemPending) != "[ ]" {
		t.Fatal("running and waiting items are not shown as in progress")
	}
}

func TestCountTakesTheNounOfItsNumber(t *testing.T) {
	for n, want := range map[int]string{0: "0 tables", 1: "1 table", 2: "2 tables"} {
		if got := render.Count(n, "table", "tables"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
