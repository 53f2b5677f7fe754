package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golive/golive/internal/analysis"
	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// CheckMetric runs the readiness kinds that read the metrics providers:
//   - metric: the check's query through its provider (default: the spec's
//     metrics section), judged by its condition;
//   - alerts: every watched metric's alert rule (Prometheus rules API) or alarm
//     (CloudWatch) exists and none is firing: a release must not start on top of
//     an alarm it would then ignore.
//
// A provider that is not configured or cannot be read is unavailable, never passed.
func (m *Metrics) CheckMetric(ctx context.Context, in CheckInput) (Result, error) {
	c := in.Check
	cctx, cancel := checkContext(ctx, c)
	defer cancel()
	var r Result
	switch {
	case c.Metrics == nil:
		r = Result{State: record.ItemUnavailable, Detail: "not configured: the check carries no metrics provider"}
	case c.CheckKind() == spec.KindMetric:
		r = m.checkMetric(cctx, c)
	case c.CheckKind() == spec.KindAlerts:
		r = m.checkAlerts(cctx, c)
	default:
		r = unknownKind("Metrics.CheckMetric", c.CheckKind())
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("check %s: %w", in.ItemID, err)
	}
	return r, nil
}

func (m *Metrics) provider(ms spec.Metrics) (metrics.Provider, error) {
	return metrics.New(ms, metrics.WithHTTPClient(m.HTTP), metrics.WithSecrets(m.Secrets),
		metrics.WithSlowQueryTracker(&m.slow), metrics.WithFactory("cloudwatch", m.CloudWatch))
}

func (m *Metrics) checkMetric(ctx context.Context, c spec.Check) Result {
	cond, err := analysis.Parse(c.Condition)
	if err != nil || c.Condition == "" {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("bad check: condition %q: %v", c.Condition, err)}
	}
	p, err := m.provider(*c.Metrics)
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: "not configured: " + err.Error()}
	}
	v, err := p.Query(ctx, c.Query, time.Time{})
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: fmt.Sprintf("%s: %v", c.Metrics.Provider, err)}
	}
	r := Result{Value: fmt.Sprintf("%s = %g (want %s)", c.Metrics.Provider, v, c.Condition)}
	if cond.Eval(v) {
		r.State = record.ItemPassed
	} else {
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%g does not meet %s", v, c.Condition)
	}
	return r
}

// checkAlerts reads every named rule or alarm, in metric order.
func (m *Metrics) checkAlerts(ctx context.Context, c spec.Check) Result {
	var state func(string) (string, error)
	switch c.Metrics.Provider {
	case "prometheus":
		rules, err := m.promRules(ctx, c.Metrics.URL)
		if err != nil {
			return Result{State: record.ItemUnavailable, Detail: "prometheus rules: " + err.Error()}
		}
		state = func(name string) (string, error) {
			if s, ok := rules[name]; ok {
				return s, nil
			}
			return "", errors.New("no alerting rule")
		}
	case "cloudwatch":
		p, err := m.provider(*c.Metrics)
		if err != nil {
			return Result{State: record.ItemUnavailable, Detail: "not configured: " + err.Error()}
		}
		state = func(name string) (string, error) {
			n, err := p.Query(ctx, fmt.Sprintf("ALARMS(%q)", name), time.Time{})
			if err != nil {
				return "", err
			}
			if n > 0 {
				return "firing", nil
			}
			return "ok", nil
		}
	default:
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("bad check: provider %q has no alert rules golive can read", c.Metrics.Provider)}
	}
	var missing, firing, seen []string
	for _, metric := range slices.Sorted(maps.Keys(c.Alerts)) {
		name := c.Alerts[metric]
		s, err := state(name)
		switch {
		case err != nil:
			missing = append(missing, fmt.Sprintf("%s (%s): %v", metric, name, err))
		case s == "firing":
			firing = append(firing, fmt.Sprintf("%s (%s)", metric, name))
		}
		seen = append(seen, metric+" "+orDash(s))
	}
	r := Result{State: record.ItemPassed, Value: fmt.Sprintf("%s: %s", c.Metrics.Provider, strings.Join(seen, ", "))}
	var why []string
	if len(missing) > 0 {
		why = append(why, "no rule: "+strings.Join(missing, "; "))
	}
	if len(firing) > 0 {
		why = append(why, "already firing (a release started now would take it as normal): "+strings.Join(firing, ", "))
	}
	if len(why) > 0 {
		r.State, r.Detail = record.ItemFailed, strings.Join(why, "; ")
	}
	return r
}

// promRules reads /api/v1/rules: alerting rule name -> state (inactive, pending, firing).
func (m *Metrics) promRules(ctx context.Context, base string) (map[string]string, error) {
	if base == "" {
		return nil, errors.New("no prometheus url")
	}
	u := strings.TrimRight(base, "/") + "/api/v1/rules?" + url.Values{"type": {"alert"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	client := m.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Status string `json:"status"`
		Data   struct {
			Groups []struct {
				Rules []struct {
					Name  string `json:"name"`
					Type  string `json:"type"`
					State string `json:"state"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Status != "success" {
		return nil, fmt.Errorf("GET %s: HTTP %d, not a rules answer", u, resp.StatusCode)
	}
	out := map[string]string{}
	for _, g := range doc.Data.Groups {
		for _, rl := range g.Rules {
			if rl.Type != "alerting" {
				continue
			}
			if prev := out[rl.Name]; prev != "firing" { // the same name in several groups: firing wins
				out[rl.Name] = rl.State
			}
		}
	}
	return out, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
