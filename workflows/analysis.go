package workflows

import (
	"fmt"
	"strings"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// defaultConsecutiveErrorLimit is Argo Rollouts' default, used when the spec leaves it 0.
const defaultConsecutiveErrorLimit = 4

// analyzer keeps the per-metric counts of one watch window.
type analyzer struct {
	spec         map[string]spec.Analysis
	failures     map[string]int
	errorsInRow  map[string]int
	inconclusive map[string]int
	escalated    map[string]bool
	needsPerson  bool
}

func newAnalyzer(m spec.Metrics) *analyzer {
	return &analyzer{spec: m.Analysis, failures: map[string]int{}, errorsInRow: map[string]int{}, inconclusive: map[string]int{}, escalated: map[string]bool{}}
}

// applyConditions turns the activity's condition verdicts into reading verdicts:
// a failure condition is a rollback trigger, an unmet pair is inconclusive, and a
// met success condition caps the thresholds' verdict at critical.
func applyConditions(rs []record.Reading, vals []activities.MetricValue) {
	for i := range rs {
		for _, v := range vals {
			if v.Name != rs[i].Metric || v.Condition == "" || rs[i].Verdict == record.VerdictUnavailable {
				continue
			}
			switch v.Condition {
			case "failure":
				rs[i].Verdict, rs[i].Detail = record.VerdictRollback, fmt.Sprintf("%s %.3g%s meets its failure condition", v.Name, v.Value, v.Unit)
			case "inconclusive":
				rs[i].Verdict, rs[i].Detail = record.VerdictInconclusive, fmt.Sprintf("%s %.3g%s meets neither its success nor its failure condition", v.Name, v.Value, v.Unit)
			case "success":
				if rs[i].Verdict == record.VerdictRollback {
					rs[i].Verdict = record.VerdictCritical
				}
			}
		}
	}
}

// judge applies the limits to one check: it sets Worst and Escalate on the
// report and returns the rollback trigger, if any.
func (a *analyzer) judge(rep *record.CheckReport) string {
	var triggers []string
	rep.Worst = record.VerdictOK
	for i := range rep.Readings {
		rd := &rep.Readings[i]
		an := a.spec[rd.Metric]
		rd.DryRun = an.DryRun
		if an.DryRun {
			continue
		}
		if rd.Verdict == record.VerdictUnavailable {
			a.errorsInRow[rd.Metric]++
			limit := an.ConsecutiveErrorLimit
			if limit <= 0 {
				limit = defaultConsecutiveErrorLimit
			}
			if n := a.errorsInRow[rd.Metric]; n > limit && !a.escalated["err:"+rd.Metric] {
				a.escalated["err:"+rd.Metric] = true
				rep.Escalate = append(rep.Escalate, fmt.Sprintf("%s could not be measured %d times in a row (limit %d): %s", rd.Metric, n, limit, rd.Detail))
			}
		} else {
			a.errorsInRow[rd.Metric] = 0
			a.escalated["err:"+rd.Metric] = false
		}
		switch rd.Verdict {
		case record.VerdictRollback:
			a.failures[rd.Metric]++
			if n := a.failures[rd.Metric]; n > an.FailureLimit {
				triggers = append(triggers, rd.Detail)
			} else {
				rd.Verdict = record.VerdictCritical
				rd.Detail += fmt.Sprintf(" (failure %d of %d tolerated)", n, an.FailureLimit)
			}
		case record.VerdictInconclusive:
			a.inconclusive[rd.Metric]++
			if n := a.inconclusive[rd.Metric]; n > an.InconclusiveLimit {
				a.inconclusive[rd.Metric] = 0
				a.needsPerson = true
				rep.Escalate = append(rep.Escalate, "inconclusive: "+rd.Detail+"; the watch waits for a decision (golive ack to continue, golive rollback to roll back)")
			}
		}
		if rank(rd.Verdict) > rank(rep.Worst) {
			rep.Worst = rd.Verdict
		}
	}
	return strings.Join(triggers, "; ")
}
