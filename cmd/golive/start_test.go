package main

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/record"
)

// A T-0 in the past is refused with the reason (it used to become "now", and the
// release deployed right after its approvals with no T-4h lead).
func TestStartRefusesAWindowInThePast(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"2026-12-07T11:00:00Z", "in the past"},
		{"+-1h", "in the past"},
		{"yesterday", "RFC 3339"},
	} {
		if _, err := parseWindow(tc.in, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseWindow(%q): %v, want an error with %q", tc.in, err, tc.want)
		}
	}
	for _, ok := range []string{"", "+6h", "2026-12-07T22:00:00Z"} {
		if _, err := parseWindow(ok, now); err != nil {
			t.Errorf("parseWindow(%q): %v", ok, err)
		}
	}
}

// Every outcome but completed has its own exit code, none of them 0 or 1.
func TestEveryOutcomeHasItsOwnExitCode(t *testing.T) {
	seen := map[int]record.Outcome{}
	for _, o := range []record.Outcome{record.OutcomeCompleted, record.OutcomeRolledBack, record.OutcomeRejected,
		record.OutcomeAborted, record.OutcomeNotReady, record.OutcomeTimedOut, record.OutcomeFailed} {
		code := outcomeError{outcome: o}.ExitCode()
		if prev, dup := seen[code]; dup {
			t.Errorf("%s and %s share exit code %d", o, prev, code)
		}
		seen[code] = o
		if (o == record.OutcomeCompleted) != (code == 0) || code == 1 {
			t.Errorf("%s exits %d", o, code)
		}
	}
}
