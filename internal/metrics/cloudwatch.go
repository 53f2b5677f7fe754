package metrics

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/spec"
)

// MetricAlarms is the conventional metric name of an ALARMS(...) query: the
// number of listed CloudWatch alarms in state ALARM. Any value above zero is a
// rollback trigger, as in CodeDeploy's alarm-based rollback.
const MetricAlarms = "alarms"

// maxAlarmNames is how many alarm names one DescribeAlarms call may carry.
const maxAlarmNames = 100

// CloudWatchAPI is the part of the CloudWatch client the provider uses.
type CloudWatchAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// CloudWatch reads metrics and alarm states from Amazon CloudWatch. A query is one of:
//
//   - metric math over metric references {NAMESPACE METRIC STAT DIM=VALUE ...},
//     evaluated by CloudWatch (GetMetricData), e.g. the ALB error rate in percent
//     100 * FILL({AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum LoadBalancer=app/portal/50dc6c495c0c9188}, 0) / {AWS/ApplicationELB RequestCount Sum LoadBalancer=app/portal/50dc6c495c0c9188}
//     or p95 latency in milliseconds
//     1000 * {AWS/ApplicationELB TargetResponseTime p95 LoadBalancer=app/portal/50dc6c495c0c9188}.
//     A value with spaces is written in double quotes: Dim="a b".
//   - a Metrics Insights query starting with SELECT, sent as it is;
//   - ALARMS(name, name, ...): how many of the listed alarms (metric or
//     composite) are in state ALARM; a listed alarm that does not exist is an error.
//
// Each metric is aggregated over one period as long as the window, which ends
// at the last full minute before the reading's time (now, or the at given to
// Query: CloudWatch keeps history); the value is that datapoint. No datapoint
// is an error (the reading is then unavailable, never healthy).
type CloudWatch struct {
	client CloudWatchAPI
	window time.Duration
	// now is the clock (tests).
	now func() time.Time
}

// NewCloudWatch returns a provider over client whose readings cover window
// (rounded to whole minutes; at least one minute).
func NewCloudWatch(client CloudWatchAPI, window time.Duration) *CloudWatch {
	window = window.Round(time.Minute)
	if window < time.Minute {
		window = time.Minute
	}
	return &CloudWatch{client: client, window: window, now: time.Now}
}

// CloudWatchFactory returns the Factory that New uses for provider
// "cloudwatch" (WithFactory("cloudwatch", CloudWatchFactory(cfg))): it builds
// NewCloudWatchFromSpec on cfg (see awsclient.Load).
func CloudWatchFactory(cfg aws.Config) Factory {
	return func(m spec.Metrics) (Provider, error) { return NewCloudWatchFromSpec(cfg, m), nil }
}

// CloudWatchDefaultFactory is CloudWatchFactory on the SDK's default chain,
// loaded when a cloudwatch spec first needs it: a worker without AWS
// configuration starts, and only cloudwatch readings fail, with an error
// wrapping ErrNotConfigured.
func CloudWatchDefaultFactory() Factory {
	var once sync.Once
	var cfg aws.Config
	var err error
	return func(m spec.Metrics) (Provider, error) {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cfg, err = awsclient.Load(ctx, awsclient.Options{})
		})
		if err != nil {
			return nil, fmt.Errorf("%w: metrics provider cloudwatch: %v", ErrNotConfigured, err)
		}
		return NewCloudWatchFromSpec(cfg, m), nil
	}
}

// NewCloudWatchFromSpec returns the provider m configures, on a client built
// from cfg (see awsclient.Load): the window is metrics.cloudwatch.window, 5m by default.
func NewCloudWatchFromSpec(cfg aws.Config, m spec.Metrics) *CloudWatch {
	window := spec.DefaultCloudWatchWindow
	if m.CloudWatch != nil && m.CloudWatch.Window > 0 {
		window = m.CloudWatch.Window.D()
	}
	return NewCloudWatch(cloudwatch.NewFromConfig(cfg), window)
}

// Query evaluates one query (see CloudWatch) as of at (zero: now). Alarm
// states are always read as they are now.
func (c *CloudWatch) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	q := strings.TrimSpace(query)
	if at.IsZero() {
		at = c.now()
	}
	switch {
	case hasPrefixFold(q, "ALARMS(") && strings.HasSuffix(q, ")"):
		names, err := alarmNames(q[len("ALARMS(") : len(q)-1])
		if err != nil {
			return 0, err
		}
		return c.alarms(ctx, names)
	case hasPrefixFold(q, "SELECT "):
		return c.metricData(ctx, q, at, []cwtypes.MetricDataQuery{{Id: aws.String("q"), Expression: aws.String(q), Period: c.periodSeconds()}})
	}
	mq, err := c.parseMath(q)
	if err != nil {
		return 0, err
	}
	return c.metricData(ctx, q, at, mq)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func (c *CloudWatch) periodSeconds() *int32 { return aws.Int32(int32(c.window / time.Second)) }

// parseMath turns metric references into MetricStat queries m1..mN and the
// rest into one metric math expression "e" (or returns the single reference).
func (c *CloudWatch) parseMath(q string) ([]cwtypes.MetricDataQuery, error) {
	var stats []cwtypes.MetricDataQuery
	var expr strings.Builder
	quoted := false
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case ch == '\'':
			quoted = !quoted
		case ch == '{' && !quoted:
			end := strings.IndexByte(q[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("cloudwatch query %q: { without }", q)
			}
			stat, err := parseMetricRef(q[i+1 : i+end])
			if err != nil {
				return nil, fmt.Errorf("cloudwatch query %q: %w", q, err)
			}
			id := fmt.Sprintf("m%d", len(stats)+1)
			stat.Period = c.periodSeconds()
			stats = append(stats, cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: stat, ReturnData: aws.Bool(false)})
			expr.WriteString(id)
			i += end
			continue
		}
		expr.WriteByte(ch)
	}
	if len(stats) == 0 {
		return nil, fmt.Errorf("cloudwatch query %q names no metric: write {NAMESPACE METRIC STAT DIM=VALUE ...}, SELECT ... or ALARMS(name, ...)", q)
	}
	if strings.TrimSpace(expr.String()) == "m1" {
		stats[0].ReturnData = aws.Bool(true)
		return stats, nil
	}
	return append(stats, cwtypes.MetricDataQuery{Id: aws.String("e"), Expression: aws.String(strings.TrimSpace(expr.String())), ReturnData: aws.Bool(true)}), nil
}

// parseMetricRef reads "NAMESPACE METRIC STAT DIM=VALUE ...".
func parseMetricRef(ref string) (*cwtypes.MetricStat, error) {
	fields, err := splitQuoted(ref)
	if err != nil {
		return nil, err
	}
	if len(fields) < 3 {
		return nil, fmt.Errorf("metric {%s}: want {NAMESPACE METRIC STAT DIM=VALUE ...}", ref)
	}
	m := &cwtypes.Metric{Namespace: aws.String(fields[0]), MetricName: aws.String(fields[1])}
	for _, f := range fields[3:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("metric {%s}: dimension %q is not NAME=VALUE", ref, f)
		}
		m.Dimensions = append(m.Dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	return &cwtypes.MetricStat{Metric: m, Stat: aws.String(fields[2])}, nil
}

// splitQuoted splits on spaces, keeping double-quoted parts together (quotes removed).
func splitQuoted(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, in = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unclosed \" in %q", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// alarmNames reads "a, b, 'c, d'" (single or double quotes keep commas).
func alarmNames(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	var quote rune
	flush := func() {
		if n := strings.TrimSpace(cur.String()); n != "" {
			out = append(out, n)
		}
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '\'' || r == '"'):
			quote = r
		case quote == 0 && r == ',':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	if quote != 0 || len(out) == 0 {
		return nil, fmt.Errorf("ALARMS(%s): want ALARMS(name, name, ...)", s)
	}
	return out, nil
}

// metricData runs one GetMetricData call and returns the latest value of the returned query.
func (c *CloudWatch) metricData(ctx context.Context, q string, at time.Time, queries []cwtypes.MetricDataQuery) (float64, error) {
	end := at.UTC().Truncate(time.Minute)
	start := end.Add(-c.window)
	var want string
	for _, mq := range queries {
		if mq.ReturnData == nil || *mq.ReturnData {
			want = aws.ToString(mq.Id)
		}
	}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end), MetricDataQueries: queries,
		ScanBy: cwtypes.ScanByTimestampDescending}
	var values []float64
	for {
		out, err := c.client.GetMetricData(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("cloudwatch %s", awsclient.Describe(err, "metric data"))
		}
		for _, m := range out.Messages {
			if code := aws.ToString(m.Code); code != "" && code != "PartialData" {
				return 0, fmt.Errorf("cloudwatch query %q: %s: %s", q, code, aws.ToString(m.Value))
			}
		}
		for _, r := range out.MetricDataResults {
			if aws.ToString(r.Id) != want {
				continue
			}
			if r.StatusCode == cwtypes.StatusCodeForbidden || r.StatusCode == cwtypes.StatusCodeInternalError {
				return 0, fmt.Errorf("cloudwatch query %q: status %s", q, r.StatusCode)
			}
			values = append(values, r.Values...)
		}
		if len(values) > 0 || out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if len(values) == 0 {
		return 0, fmt.Errorf("cloudwatch query %q: no datapoint between %s and %s", q, start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	return values[0], nil
}

// alarms counts the listed alarms in state ALARM; a listed alarm that does not exist is an error.
func (c *CloudWatch) alarms(ctx context.Context, names []string) (float64, error) {
	seen := map[string]bool{}
	firing := 0
	for chunk := range slices.Chunk(names, maxAlarmNames) {
		in := &cloudwatch.DescribeAlarmsInput{AlarmNames: chunk,
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm}}
		for {
			out, err := c.client.DescribeAlarms(ctx, in)
			if err != nil {
				return 0, fmt.Errorf("cloudwatch %s", awsclient.Describe(err, "alarms "+strings.Join(chunk, ", ")))
			}
			for _, a := range out.MetricAlarms {
				seen[aws.ToString(a.AlarmName)] = true
				if a.StateValue == cwtypes.StateValueAlarm {
					firing++
				}
			}
			for _, a := range out.CompositeAlarms {
				seen[aws.ToString(a.AlarmName)] = true
				if a.StateValue == cwtypes.StateValueAlarm {
					firing++
				}
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	var missing []string
	for _, n := range names {
		if !seen[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return 0, fmt.Errorf("cloudwatch alarms not found: %s", strings.Join(missing, ", "))
	}
	return float64(firing), nil
}
