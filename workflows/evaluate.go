package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// MetricAlarms counts listed CloudWatch alarms in ALARM: any is a rollback
// trigger, as in CodeDeploy's alarm-based rollback. The metrics with
// checklist thresholds are spec.Metric*.
const MetricAlarms = "alarms"

// readings turns a sample into record readings, unjudged.
func readings(s activities.Sample, phase string, offset time.Duration, _ string) []record.Reading {
	out := make([]record.Reading, 0, len(s.Values))
	for _, v := range s.Values {
		rd := record.Reading{At: s.At, Offset: offset.String(), Phase: phase, Metric: v.Name, Query: v.Query, Value: v.Value, Unit: v.Unit, Verdict: record.VerdictOK}
		if v.Error != "" {
			rd.Verdict, rd.Detail = record.VerdictUnavailable, v.Error
		}
		out = append(out, rd)
	}
	return out
}

// evaluate judges readings against the spec's thresholds: rollback triggers, then
// critical limits, then (at T+1h) the targets. A reading that could not be taken
// stays unavailable: a provider that is down is never read as healthy.
func evaluate(rs []record.Reading, th spec.Thresholds, baseline []record.Reading, targets bool) {
	for i := range rs {
		rd := &rs[i]
		if rd.Verdict == record.VerdictUnavailable {
			continue
		}
		base, hasBase := baselineOf(baseline, rd.Metric)
		v := rd.Value
		set := func(verdict record.Verdict, detail string) {
			if rank(verdict) > rank(rd.Verdict) {
				rd.Verdict, rd.Detail = verdict, detail
			}
		}
		switch rd.Metric {
		case spec.MetricErrorRate:
			if v > float64(th.Rollback.ErrorRate) {
				set(record.VerdictRollback, fmt.Sprintf("error rate %.2f%% > %s", v, th.Rollback.ErrorRate))
			} else if v > float64(th.Critical.ErrorRate) {
				set(record.VerdictCritical, fmt.Sprintf("error rate %.2f%% > %s", v, th.Critical.ErrorRate))
			} else if targets && v >= float64(th.Targets.ErrorRate) {
				set(record.VerdictTargetMissed, fmt.Sprintf("error rate %.2f%% not < %s", v, th.Targets.ErrorRate))
			}
		case spec.MetricLatencyP95:
			limit := base * (1 + float64(th.Rollback.Degradation)/100)
			if hasBase && base > 0 && v > limit && v-base > ms(th.Rollback.DegradationMin) {
				set(record.VerdictRollback, fmt.Sprintf("p95 %.0fms is %.0f%% above the baseline %.0fms (> %s)", v, (v/base-1)*100, base, th.Rollback.Degradation))
			}
			if v > ms(th.Critical.LatencyP95) {
				set(record.VerdictCritical, fmt.Sprintf("p95 %.0fms > %s", v, th.Critical.LatencyP95))
			} else if targets && v >= ms(th.Targets.LatencyP95) {
				set(record.VerdictTargetMissed, fmt.Sprintf("p95 %.0fms not < %s", v, th.Targets.LatencyP95))
			}
		case spec.MetricDBConnections:
			if v > float64(th.Critical.DBConnections) {
				set(record.VerdictCritical, fmt.Sprintf("DB connections %.1f%% of limit > %s", v, th.Critical.DBConnections))
			} else if targets && hasBase && drift(v, base) > float64(th.Targets.ConnectionsDrift) {
				set(record.VerdictTargetMissed, fmt.Sprintf("DB connections %.1f%% moved %.0f%% from baseline %.1f%% (not stable)", v, drift(v, base), base))
			}
		case spec.MetricSlowQueries:
			if v > th.Critical.SlowQueries {
				set(record.VerdictCritical, fmt.Sprintf("%.0f slow queries/h > %.0f", v, th.Critical.SlowQueries))
			} else if targets && hasBase && v > base*(1+float64(th.Targets.SlowQuerySpike)/100) && v-base >= 1 {
				set(record.VerdictTargetMissed, fmt.Sprintf("slow queries spiked to %.0f/h from %.0f/h", v, base))
			}
		case MetricAlarms:
			if v > 0 {
				set(record.VerdictRollback, fmt.Sprintf("%.0f listed alarm(s) in ALARM", v))
			}
		case spec.MetricFailedLogins:
			if v > float64(th.Critical.FailedLogins) {
				set(record.VerdictCritical, fmt.Sprintf("failed logins %.2f%% > %s", v, th.Critical.FailedLogins))
			}
		}
	}
}

func ms(d spec.Duration) float64 { return float64(d.D()) / float64(time.Millisecond) }

func drift(v, base float64) float64 {
	if base == 0 {
		if v == 0 {
			return 0
		}
		return 100
	}
	d := (v - base) / base * 100
	if d < 0 {
		d = -d
	}
	return d
}

func baselineOf(baseline []record.Reading, metric string) (float64, bool) {
	for _, b := range baseline {
		if b.Metric == metric && b.Verdict != record.VerdictUnavailable {
			return b.Value, true
		}
	}
	return 0, false
}

// rank orders verdicts by severity.
func rank(v record.Verdict) int {
	switch v {
	case record.VerdictTargetMissed:
		return 1
	case record.VerdictUnavailable:
		return 2
	case record.VerdictInconclusive:
		return 3
	case record.VerdictCritical:
		return 4
	case record.VerdictRollback:
		return 5
	}
	return 0
}

func worstVerdict(rs []record.Reading) record.Verdict {
	worst := record.VerdictOK
	for _, rd := range rs {
		if !rd.DryRun && rank(rd.Verdict) > rank(worst) {
			worst = rd.Verdict
		}
	}
	return worst
}

// breaches lists the details of readings that are not ok.
func breaches(rs []record.Reading) string {
	var parts []string
	for _, rd := range rs {
		if rd.Verdict != record.VerdictOK {
			parts = append(parts, rd.Detail)
		}
	}
	return strings.Join(parts, "; ")
}
