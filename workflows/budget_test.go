package workflows_test

import (
	"strings"
	"testing"

	"github.com/golive/golive/workflows"
)

func TestHistoryOverBudgetStopsBeforeTemporalsLimits(t *testing.T) {
	for _, tc := range []struct {
		events, bytes int
		over          bool
		why           string
	}{
		{events: 700, bytes: 600 << 10},
		{events: 39_999, bytes: 39 << 20},
		{events: 40_000, bytes: 1 << 20, over: true, why: "40000 events"},
		{events: 2_000, bytes: 40 << 20, over: true, why: "40 MB"},
	} {
		over, why := workflows.HistoryOverBudget(tc.events, tc.bytes)
		if over != tc.over || !strings.Contains(why, tc.why) {
			t.Errorf("HistoryOverBudget(%d, %d) = %v %q, want %v with %q", tc.events, tc.bytes, over, why, tc.over, tc.why)
		}
	}
}
