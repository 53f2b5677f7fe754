package main

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/record"
)

func TestStatusShowsTheWaitAndTheFailedStepInTheUsersZoneAndUTC(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	since := time.Date(2026, 12, 8, 14, 10, 2, 0, time.UTC)
	deadline := since.Add(30 * time.Minute)
	st := record.Status{ReleaseID: "release:portal:production", Stage: record.StageDeploy, Outcome: record.OutcomeRunning,
		Waiting: &record.Wait{Kind: record.WaitDecision, For: "a decision on the failed smoke step", Until: deadline, Then: "golive takes rollback"},
		Failure: &record.Failure{Step: "smoke", Items: []string{"deploy.smoke"}, Error: "appointments: HTTP 503", Attempt: 1, Since: since, Deadline: deadline,
			OnTimeout: record.ChoiceRollback, Options: []record.Option{{Choice: record.ChoiceRetry, Command: "golive retry portal:production", Effect: "runs smoke again (attempt 2)"}},
			Skips: []record.Consent{{Person: "priya", Item: "deploy.smoke", Reason: "checked by hand", At: since.Add(time.Minute)}}},
	}
	out := renderStatus(st, false, ny)
	for _, want := range []string{
		"waiting for a decision on the failed smoke step until Tue 2026-12-08 09:40:02 EST (14:40:02 UTC); then golive takes rollback",
		"FAILED step smoke (attempt 1) at Tue 2026-12-08 09:10:02 EST (14:10:02 UTC): appointments: HTTP 503",
		"golive retry portal:production",
		"runs smoke again (attempt 2)",
		"skip of deploy.smoke consented by priya",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}
