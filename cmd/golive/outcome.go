package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/record"
)

// outcomeCodes are the exit codes of `golive start --wait`: 0 only for a
// completed release, one code per other outcome, so a pipeline can tell a
// rollback from a rejection. 1 stays "golive itself failed" (bad flags, no server).
var outcomeCodes = map[record.Outcome]int{
	record.OutcomeCompleted:  0,
	record.OutcomeRolledBack: 10,
	record.OutcomeRejected:   11,
	record.OutcomeAborted:    12,
	record.OutcomeNotReady:   13,
	record.OutcomeTimedOut:   14,
	record.OutcomeFailed:     15,
}

// outcomeError is a release that ended other than completed; main exits with its code.
type outcomeError struct {
	outcome record.Outcome
	reason  string
}

func (e outcomeError) Error() string {
	return fmt.Sprintf("release ended %s: %s", e.outcome, e.reason)
}

// ExitCode is the process exit code of the outcome (see outcomeCodes).
func (e outcomeError) ExitCode() int {
	if code, ok := outcomeCodes[e.outcome]; ok {
		return code
	}
	return 1
}

// followRelease prints each stage and wait of a release as it goes and returns
// when it is done: nil for completed, an outcomeError otherwise.
func followRelease(ctx context.Context, c client.Client, id string, every time.Duration) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var stage record.Stage
	var waiting string
	loc := time.Local
	for {
		st, err := queryStatus(ctx, c, id)
		if err != nil {
			return err
		}
		if st.Stage != stage {
			stage = st.Stage
			fmt.Printf("%s stage %s\n", time.Now().UTC().Format("15:04:05"), stage)
		}
		if w := waitText(st, loc); w != waiting {
			waiting = w
			if waiting != "" {
				fmt.Printf("%s waiting for %s\n", time.Now().UTC().Format("15:04:05"), waiting)
			}
		}
		if st.Stage == record.StageDone {
			fmt.Printf("%s ended %s; live version %s; evidence %s\n", id, st.Outcome, dash(st.LiveVersion), dash(st.Evidence))
			if st.Outcome == record.OutcomeCompleted {
				return nil
			}
			return outcomeError{outcome: st.Outcome, reason: st.Reason}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
